// Package sigcatch catches signals for a runtime process that forwards
// them to a container's process (a foreground run or exec) or must not
// be ended or stopped by them while it starts one.
//
// os/signal enables each signal with a handshake with the Go runtime's
// signal thread, a locked thread (runtime.sigenable: ensureSigM,
// enableSigChan, maskUpdatedChan): two thread switches a signal. For the
// 60 signals a foreground run forwards that took ~2.5 ms in a fresh
// process here and ~1 ms of a `run /bin/true` (one CPU of two busy with
// the switches while create ran). On amd64 and arm64 (raw_$GOARCH.s)
// the signals os/signal would need a handshake for get a handler of
// ours instead, installed with rt_sigaction: a few
// instructions that write the signal's number into a pipe (the
// self-pipe trick, async-signal-safe: one write(2)), which a goroutine
// reads into the caller's channel. The signals whose os/signal
// enabling needs no handshake, SIGPIPE (see rawSignal) and those blocked
// when the process started (see catchRaw) stay with os/signal, and all
// of them on other architectures and in a process that is pid 1.
//
// Whatever is caught stays caught: Catch is for a process that exits
// once it has forwarded what it must, as the CLI's run and exec do.
package sigcatch

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Forwardable is every signal a foreground run or exec catches to
// forward (runc's set): all but SIGKILL and SIGSTOP, which cannot be
// caught, and the Go runtime's own: SIGCHLD (our children), SIGURG (its
// preemption), SIGPROF (its profiler, which os/signal cannot catch).
func Forwardable() []syscall.Signal {
	var sigs []syscall.Signal
	for s := syscall.Signal(1); s <= 64; s++ {
		switch s {
		case unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, unix.SIGURG, unix.SIGPROF:
			continue
		}
		sigs = append(sigs, s)
	}
	return sigs
}

// rawSignal says whether a signal gets our handler rather than
// os/signal's: those os/signal enables with a handshake, the ones whose
// entry in the Go runtime's signal table (runtime/sigtab_linux_generic.go)
// has _SigNotify, but for
//   - SIGPIPE: with os/signal catching it, a write to a closed stdout or
//     stderr fails with EPIPE; without, the Go runtime kills the process
//     (os.sigpipe). A foreground run must keep relaying a terminal then.
//   - SIGCHLD, SIGURG, SIGPROF: the Go runtime's (Forwardable).
//
// The others (SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGSTKFLT,
// SIGSYS, 33) are the runtime's for faults and its own uses; enabling
// them in os/signal takes no handshake, and it hands on those a process
// sent (kill), but 33, as before.
func rawSignal(s syscall.Signal) bool {
	switch {
	case s == unix.SIGPIPE || s == unix.SIGCHLD || s == unix.SIGURG || s == unix.SIGPROF:
		return false
	case s == unix.SIGHUP || s == unix.SIGINT || s == unix.SIGQUIT || s == unix.SIGABRT:
		return true
	case s == unix.SIGUSR1 || s == unix.SIGUSR2 || s == unix.SIGALRM || s == unix.SIGTERM:
		return true
	case s >= unix.SIGCONT && s <= unix.SIGTTOU && s != unix.SIGSTOP:
		return true
	case s >= unix.SIGXCPU && s <= unix.SIGPWR:
		// SIGXCPU, SIGXFSZ, SIGVTALRM, SIGWINCH, SIGIO, SIGPWR
		// (SIGPROF, between them, is excluded above).
		return true
	case s == 32 || s == 34 || s >= 35 && s <= 64:
		// 32 and 34 (glibc's SIGCANCEL and SIGRTMIN) get no handler
		// from a Go program without cgo (runtime.sigInstallGoHandler:
		// _SigSetStack), and os/signal cannot catch them: their
		// default action ended a foreground run (and, by init's
		// parent-death signal, its container), as it ends runc's.
		// 33 is the Go runtime's (sigPerThreadSyscall).
		return true
	}
	return false
}

var (
	mu      sync.Mutex
	caught  bool
	errUsed = errors.New("sigcatch: signals are already caught in this process")
	// notified is closed once os/signal has taken its share (tests).
	notified = make(chan struct{})
)

// Catch starts delivering sigs to c, and returns once every signal our
// handler takes is caught (those left to os/signal are enabled in the
// background: a handshake each, SIGPIPE's, off the caller's path). A
// signal that comes before it has taken effect is handled as one during
// our own start-up is. A full c drops a signal, as os/signal does.
// Catch may be called once per process; a second call catches nothing
// and says so.
func Catch(c chan<- os.Signal, sigs ...syscall.Signal) error {
	mu.Lock()
	defer mu.Unlock()
	if caught {
		return errUsed
	}
	caught = true
	var raw, notify []os.Signal
	// As pid 1 (of a pid namespace), a child of ours in a new one would
	// pass the handler's check that it runs in our process (catchRaw).
	useRaw := rawSupported && os.Getpid() != 1
	for _, s := range sigs {
		if rawSignal(s) && useRaw {
			raw = append(raw, s)
		} else {
			notify = append(notify, s)
		}
	}
	if len(raw) > 0 {
		notify = append(notify, catchRaw(c, raw)...)
	}
	go func() {
		if len(notify) > 0 {
			signal.Notify(c, notify...)
		}
		close(notified)
	}()
	return nil
}
