package sigcatch

import (
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	caughtC    = make(chan os.Signal, 128)
	catchOnce  sync.Once
	catchError error
)

// catchAll catches every forwardable signal into one channel, once for
// the test binary (Catch may be called once per process).
func catchAll(t *testing.T) chan os.Signal {
	t.Helper()
	catchOnce.Do(func() {
		catchError = Catch(caughtC, Forwardable()...)
		// os/signal enables its share in the background.
		<-notified
	})
	if catchError != nil {
		t.Fatal(catchError)
	}
	return caughtC
}

// Every forwardable signal sent to us arrives on the channel, and none
// ends, stops or crashes the process (a signal neither our handler nor
// os/signal took would: SIGTERM ends a Go program, SIGTSTP stops it,
// SIGSEGV from kill crashes it, and a real-time one is dropped, which
// the wait below reports).
func TestCatchForwardable(t *testing.T) {
	c := catchAll(t)
	for _, s := range Forwardable() {
		if s == 33 {
			// The Go runtime's own (sigPerThreadSyscall): never
			// handed on, with os/signal as before.
			continue
		}
		if (s == 32 || s == 34) && !rawPath() {
			// Only our handler takes these: os/signal cannot (see
			// rawSignal), and they would end the test.
			continue
		}
		if err := unix.Kill(os.Getpid(), s); err == unix.EINVAL && s > 60 {
			// qemu-user (how the arm64 handler is tested on an
			// amd64 machine) keeps the last real-time signals for
			// itself; a kernel takes every one up to 64.
			t.Logf("kill %d: %v: skipped", s, err)
			continue
		} else if err != nil {
			t.Fatalf("kill %d: %v", s, err)
		}
		if !received(c, s) {
			t.Fatalf("signal %d (%v) was not caught", s, s)
		}
	}
	if err := Catch(c, syscall.SIGUSR1); err == nil {
		t.Fatal("a second Catch succeeded")
	}
}

// Of the forwardable signals, those os/signal enables with a handshake
// get our handler, but for SIGPIPE; where there is no handler of ours,
// none does.
func TestRawSignal(t *testing.T) {
	var raw, other []syscall.Signal
	for _, s := range Forwardable() {
		if rawSignal(s) {
			raw = append(raw, s)
		} else {
			other = append(other, s)
		}
	}
	want := []syscall.Signal{unix.SIGILL, unix.SIGTRAP, unix.SIGBUS, unix.SIGFPE, unix.SIGSEGV,
		unix.SIGPIPE, unix.SIGSTKFLT, unix.SIGSYS, 33}
	if len(other) != len(want) {
		t.Fatalf("left to os/signal: %v, want %v", other, want)
	}
	for i := range want {
		if other[i] != want[i] {
			t.Fatalf("left to os/signal: %v, want %v", other, want)
		}
	}
	if len(raw) != 64-2-3-len(want) {
		t.Fatalf("%d signals for our handler: %v", len(raw), raw)
	}
}

// The handler writes only in our own process: where getpid is not
// ourPID (a child that inherited it), a signal is not handed on.
func TestHandlerOnlyInOurProcess(t *testing.T) {
	if !rawPath() {
		t.Skip("no handler of ours (this architecture, or we are pid 1): os/signal catches everything")
	}
	c := catchAll(t)
	was := ourPID
	ourPID = was + 1
	unix.Kill(os.Getpid(), unix.SIGUSR2)
	select {
	case s := <-c:
		t.Fatalf("%v handed on where getpid is not ourPID", s)
	case <-time.After(200 * time.Millisecond):
	}
	ourPID = was
	unix.Kill(os.Getpid(), unix.SIGUSR2)
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGUSR2 not handed on in our own process")
	}
}

// rawPath: Catch installs handlers of its own here.
func rawPath() bool { return rawSupported && os.Getpid() != 1 }

// received waits for s on c (a terminal's SIGWINCH may come between).
func received(c chan os.Signal, s syscall.Signal) bool {
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-c:
			if got == s {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
