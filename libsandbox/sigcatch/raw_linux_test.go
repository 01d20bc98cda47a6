//go:build amd64 || arm64

package sigcatch

import (
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Whatever else writes into the pipe hands on only the signals our
// handler takes: never SIGKILL or SIGSTOP, which it cannot catch.
func TestRelayOnlyCaughtSignals(t *testing.T) {
	if !rawPath() {
		t.Skip("no handler of ours (this architecture, or we are pid 1): no pipe")
	}
	c := catchAll(t)
	if _, err := unix.Write(int(writeFD), []byte{byte(unix.SIGKILL), byte(unix.SIGSTOP), 0, 200, byte(unix.SIGUSR1)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for done := false; !done; {
		select {
		case s := <-c:
			switch s {
			case unix.SIGUSR1:
				done = true
			case unix.SIGWINCH:
				// A terminal's.
			default:
				t.Fatalf("a byte %d written into the pipe was handed on as %v", int(s.(syscall.Signal)), s)
			}
		case <-deadline:
			t.Fatal("SIGUSR1 written into the pipe was not handed on")
		}
	}
	// Above the numbers files are opened at, below those that would
	// grow the fd table (pipeFDMin).
	if writeFD < pipeFDMin || writeFD >= 64 {
		t.Errorf("the pipe's write end is fd %d, not in [%d, 64)", writeFD, pipeFDMin)
	}
}
