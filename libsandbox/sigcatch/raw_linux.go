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

// rawCaught: the signals our handler is installed for (the relay hands
// on nothing else). inChild: those of them the Go runtime does not reset
// in its children (ResetInChild). Set by catchRaw, a signal at a time,
// before its handler is installed (inChild true until the old handler,
// which the same rt_sigaction returns, says otherwise); the relay starts
// after the last, and neither changes after that.
var rawCaught, inChild [65]bool

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

// pipeFDMin: the pipe's ends are moved to numbers at least this high,
// out of the way of the low numbers files are opened at and children
// lay theirs over: the handler writes to its number for as long as we
// live, so a double close elsewhere must not give it to another file.
// Below 64, though: a process's fd table holds 64 fds until one above
// them is opened, and growing the table of a process with threads waits
// for an RCU grace period (fs/file.c, expand_fdtable: synchronize_rcu
// when the table is shared). At 512 that cost a foreground exec 13 ms
// here (5.2 -> 18.5 ms, hyperfine means of 30; strace: 6.5 ms in the
// fcntl).
const pipeFDMin = 48

// catchRaw installs our handler for sigs and starts the goroutine that
// reads the pipe into c. It returns the signals it leaves to os/signal:
// those blocked in our threads (below), and all of them should the pipe
// or a handler fail.
//
// The handler runs on whatever thread the kernel picks, on the thread's
// alternate signal stack (SA_ONSTACK: every thread of a Go program has
// one, the runtime's gsignal stack; a goroutine's stack may be too small
// for a signal frame), with every signal blocked. It touches no memory
// of the Go runtime's: it reads ourPID and writeFD, and makes one
// write(2) of one byte, the signal's number, to a non-blocking pipe
// (full, the signal is dropped).
//
// A signal blocked when we started stays blocked in every thread of a Go
// program but the one os/signal unblocks what it catches on (the runtime
// keeps the inherited mask for all it calls blockable): our handler
// would never run for it, and it would stay pending in us. Those go to
// os/signal, as before sigcatch.
//
// A child inherits the handler until its execve resets it. The Go
// runtime resets, in the standard library's children and rawfork's, the
// signals it had installed its own handler for (clearSignalHandlers),
// which leaves SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, 32 and 34 (and
// SIGHUP and SIGINT when we started with them ignored) ours. Such a
// child may have laid other files over writeFD's number (the standard
// library's child lays the files it hands on over 0..n; Ctrl-Z on a
// terminal stops the whole process group): its handler must not write
// there. So the handler writes only where getpid is ours: a child of
// the standard library's has a pid of its own in our pid namespace, or
// pid 1 of a new one, and Catch leaves everything to os/signal when we
// are pid 1. rawfork's children, whose grandchild takes any pid in the
// pid namespace it joins, reset those handlers before they unblock
// signals (ResetInChild). Their execve, like any, gives the signals our
// handler took their default action: a process that started the
// runtime with SIGINT ignored (a shell's background job) no longer hands
// that on to the container's process, as under runc, which catches
// them all too.
func catchRaw(c chan<- os.Signal, sigs []os.Signal) (left []os.Signal) {
	var blocked uint64
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_BLOCK, 0, uintptr(unsafe.Pointer(&blocked)), 8, 0, 0); e != 0 {
		return sigs
	}
	var take []syscall.Signal
	for _, s := range sigs {
		sig := s.(syscall.Signal)
		if blocked&(1<<(sig-1)) != 0 {
			left = append(left, s)
			continue
		}
		take = append(take, sig)
	}
	if len(take) == 0 {
		return left
	}
	r, w, err := highPipe()
	if err != nil {
		return sigs
	}
	writeFD, ourPID = int64(w), int64(os.Getpid())
	// The Go runtime's handler is the same for every signal it handles,
	// SIGSEGV always among them. Where another (none, ignored, or a C
	// library's: glibc before 2.34 put one on 32 in a cgo build) was
	// there, the runtime does not reset ours in its children. One
	// rt_sigaction a signal installs ours and returns the old, so inChild
	// is known only after: it is set before, to reset the signal in a
	// child forked meanwhile (none is in the CLI: its forks come after
	// Catch returns), which is harmless where the runtime resets it too.
	goHandler, known := actionOf(unix.SIGSEGV)
	handler, restorer := handlerAddrs()
	sa := kernelSigaction{
		handler:  handler,
		flags:    saOnstack | saRestart | saRestorer,
		restorer: restorer,
		mask:     ^uint64(0),
	}
	for _, sig := range take {
		rawCaught[sig], inChild[sig] = true, true
		var old kernelSigaction
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
			// Not ours after all (the relay has not started, no child
			// has been forked yet).
			rawCaught[sig], inChild[sig] = false, false
			left = append(left, sig)
			continue
		}
		inChild[sig] = !known || old.handler != goHandler
	}
	go relay(os.NewFile(uintptr(r), "sigcatch"), c)
	return left
}

// actionOf returns the handler installed for sig.
func actionOf(sig syscall.Signal) (uintptr, bool) {
	var old kernelSigaction
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	return old.handler, e == 0
}

// highPipe makes the pipe, both ends close-on-exec, non-blocking (the
// read end is the netpoller's, through os.NewFile), and at pipeFDMin or
// above (below it if our limit on open files is lower).
func highPipe() (r, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return 0, 0, os.NewSyscallError("pipe2", err)
	}
	for i := range p {
		if fd, err := unix.FcntlInt(uintptr(p[i]), unix.F_DUPFD_CLOEXEC, pipeFDMin); err == nil {
			unix.Close(p[i])
			p[i] = fd
		}
	}
	return p[0], p[1], nil
}

// ResetInChild gives the signals our handler took that the Go runtime
// does not reset (inChild) their default action back, in a child forked
// from us with every signal blocked (rawfork's, before
// runtime_AfterForkInChild unblocks them): a handful of system calls. It
// allocates nothing and makes only raw system calls.
//
//go:norace
//go:nosplit
func ResetInChild() {
	for i := 1; i < len(inChild); i++ {
		if inChild[i] {
			syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(i), uintptr(unsafe.Pointer(&sigDefault)), 0, 8, 0, 0)
		}
	}
}

// relay hands the signals read from r to c, those our handler takes
// only: the bytes of anything else that got hold of the pipe's write end
// (it would take root of our pid namespace, able to trace us) cannot
// make us send SIGKILL or SIGSTOP. A full c drops a signal, as
// os/signal does, but for those that end a Go program (SIGHUP, SIGINT,
// SIGTERM, SIGQUIT), which wait for room: a storm of others while create
// runs hooks (interrupt drains c between its steps) must not drop the
// one that fails it.
func relay(r *os.File, c chan<- os.Signal) {
	var buf [64]byte
	for {
		n, err := r.Read(buf[:])
		for _, b := range buf[:n] {
			if int(b) >= len(rawCaught) || !rawCaught[b] {
				continue
			}
			switch s := syscall.Signal(b); s {
			case unix.SIGHUP, unix.SIGINT, unix.SIGTERM, unix.SIGQUIT:
				c <- s
			default:
				select {
				case c <- s:
				default:
				}
			}
		}
		if err != nil {
			return
		}
	}
}
