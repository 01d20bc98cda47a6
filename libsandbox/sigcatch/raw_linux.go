//go:build amd64 || arm64

package sigcatch

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const rawSupported = true

// handlerAddrs returns the addresses of the handler and of the
// restorer it returns through (rt_sigreturn), both in raw_$GOARCH.s.
func handlerAddrs() (handler, restorer uintptr)

// What the handler reads: the pipe's write end, and our pid. Set before
// the first handler is installed (rt_sigaction, a system call, orders
// the stores before any delivery), never changed after.
var writeFD, ourPID int64

// rawCaught: the signals our handler is installed for, for ResetInChild.
// Set before the first is installed, never changed after.
var rawCaught [65]bool

// kernelSigaction is the kernel's struct sigaction for rt_sigaction on
// x86-64 and arm64 (include/linux/signal_types.h, both with
// SA_RESTORER; the Go runtime's sigactiont is the same).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	saRestorer = 0x04000000
	saOnstack  = 0x08000000
	saRestart  = 0x10000000
)

// sigDefault is SIG_DFL's action, for ResetInChild.
var sigDefault kernelSigaction

// catchRaw installs our handler for sigs and starts the goroutine that
// reads the pipe into c. It returns the signals it could not install it
// for (none but by a kernel's refusal), which the caller leaves to
// os/signal.
//
// The handler runs on whatever thread the kernel picks, on the thread's
// alternate signal stack (SA_ONSTACK: every thread of a Go program has
// one, the runtime's gsignal stack; a goroutine's stack may be too small
// for a signal frame), with every signal blocked. It touches no memory
// of the Go runtime's: it reads ourPID and writeFD, and makes one
// write(2) of one byte, the signal's number, to a non-blocking pipe
// (full, the signal is dropped, as os/signal drops one for a full
// channel).
//
// A child inherits the handler until its execve resets it. The Go
// runtime resets, in the standard library's children and rawfork's, the
// signals it had installed its own handler for (clearSignalHandlers),
// which leaves SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, 32 and 34 (and
// SIGHUP and SIGINT when we started with them ignored) ours. Such a
// child may have laid other files over writeFD's number (the standard
// library's child lays the files it hands on over 0..n, and Ctrl-Z on a
// terminal stops the whole process group): its handler must not write
// there. So the handler writes only where getpid is ours: a child of
// the standard library's has a pid of its own in our pid namespace, or
// pid 1 of a new one, and Catch leaves everything to os/signal when we
// are pid 1. rawfork's children, whose grandchild takes any pid in the
// pid namespace it joins, reset our handlers before they unblock signals
// (ResetInChild).
func catchRaw(c chan<- os.Signal, sigs []os.Signal) (failed []os.Signal, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, os.NewSyscallError("pipe2", err)
	}
	writeFD, ourPID = int64(p[1]), int64(os.Getpid())
	for _, s := range sigs {
		rawCaught[s.(syscall.Signal)] = true
	}
	handler, restorer := handlerAddrs()
	sa := kernelSigaction{
		handler:  handler,
		flags:    saOnstack | saRestart | saRestorer,
		restorer: restorer,
		mask:     ^uint64(0),
	}
	for _, s := range sigs {
		sig := s.(syscall.Signal)
		_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
		if e != 0 {
			failed = append(failed, s)
		}
	}
	r := os.NewFile(uintptr(p[0]), "sigcatch")
	go relay(r, c)
	return failed, nil
}

// ResetInChild gives the signals our handler took their default action
// back, in a child forked from us with every signal blocked (rawfork's,
// before runtime_AfterForkInChild unblocks them). It allocates nothing
// and makes only raw system calls.
//
//go:norace
//go:nosplit
func ResetInChild() {
	for i := 1; i < len(rawCaught); i++ {
		if rawCaught[i] {
			syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(i), uintptr(unsafe.Pointer(&sigDefault)), 0, 8, 0, 0)
		}
	}
}

// relay hands each signal read from r to c: the handler's, and the
// bytes of anything else that got hold of the pipe's write end, so only
// signal numbers.
func relay(r *os.File, c chan<- os.Signal) {
	var buf [64]byte
	for {
		n, err := r.Read(buf[:])
		for _, b := range buf[:n] {
			if b >= 1 && b <= 64 {
				c <- syscall.Signal(b)
			}
		}
		if err != nil {
			return
		}
	}
}
