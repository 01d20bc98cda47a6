// Package rawfork starts a process that joins existing namespaces, a user
// or time namespace included, without any C.
//
// A multithreaded process cannot join a user namespace (setns(2) returns
// EINVAL, golang/go#22283) nor a time namespace (EUSERS), and every Go
// process is multithreaded. So we do what the standard library's
// forkAndExecInChild does, with setns(2) in the middle: from a locked
// thread, clone(2) without CLONE_VM; the child is a copy of that one thread,
// single-threaded, and makes only raw system calls (no allocation, no stack
// growth, no locks) until execve(2) replaces it. Any error is written to a
// close-on-exec pipe and the child exits; a clean EOF means execve worked.
//
// setns(CLONE_NEWPID) and unshare(CLONE_NEWPID) only move the caller's
// future children, so when the process must live in a pid namespace the
// child forks once more with CLONE_PARENT: the grandchild is our child, is
// in the namespace, and carries on to execve, while the first child reports
// the grandchild's pid on the pipe and exits.
package rawfork

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Namespace is an open namespace file (/proc/PID/ns/X or a bind mount of
// one) and its CLONE_NEW* type.
type Namespace struct {
	Fd   int
	Type int
}

// Attr describes what the child does between fork and execve.
type Attr struct {
	// Namespaces are joined in order, except that a user namespace is
	// joined last: joining the other ones first uses the caller's
	// privilege over namespaces owned by the host user namespace; one that
	// fails with EPERM is tried again from inside the user namespace.
	Namespaces []Namespace
	// Unshare is passed to unshare(2) after the namespaces are joined.
	Unshare uintptr
	// AfterUnshare, if set, runs in the parent once the child has
	// unshared, while the child waits: the place to write the id maps of
	// a new user namespace or the offsets of a new time namespace, which
	// only a process outside those namespaces may write. pid is the
	// process that unshared.
	AfterUnshare func(pid int) error
	// BecomeRoot makes the child setresgid/setresuid(0) after the
	// namespaces are joined or made, so that it keeps its capabilities
	// across execve in a user namespace.
	BecomeRoot bool
	// ForkAgain makes the process that execs a grandchild (see the package
	// comment). Needed when joining or creating a pid namespace.
	ForkAgain bool
	// UseCgroupFD: CgroupFD is a cgroup v2 directory the process that
	// execs is created in (clone3 CLONE_INTO_CGROUP on the second fork,
	// which it implies): it is in its cgroup before it runs anything.
	UseCgroupFD bool
	CgroupFD    int
	// Files[i] becomes fd i in the child.
	Files []int
	// Exe is an fd of the binary to run (execveat AT_EMPTY_PATH), so no
	// path is resolved in the namespaces the child has joined.
	Exe  int
	Argv []string
	Env  []string
}

// Stages reported by a failing child.
const (
	stageSetns   = 1
	stageUnshare = 2
	stageFork    = 3 // the second fork
	stageDup     = 4
	stageExec    = 5
	stageWait    = 6
	stageSetid   = 7
)

var stageNames = map[uint32]string{
	stageSetns:   "setns",
	stageUnshare: "unshare",
	stageFork:    "second clone",
	stageDup:     "dup3",
	stageExec:    "execveat",
	stageWait:    "wait for parent",
	stageSetid:   "setresuid",
}

// Records the child writes to the report pipe: three little-endian uint32.
const (
	recPid      = 1 // value: pid of the grandchild (ForkAgain)
	recError    = 2 // stage, errno
	recUnshared = 3 // the child has unshared and waits for a byte
)

// cloneArgs is struct clone_args (linux/sched.h), up to the cgroup field
// (CLONE_ARGS_SIZE_VER2).
type cloneArgs struct {
	flags      uint64
	pidfd      uint64
	childTID   uint64
	parentTID  uint64
	exitSignal uint64
	stack      uint64
	stackSize  uint64
	tls        uint64
	setTID     uint64
	setTIDSize uint64
	cgroup     uint64
}

// childArgs is everything the child touches, prepared before the fork so
// that the child allocates nothing.
type childArgs struct {
	nsfd      []int
	nstype    []int
	retry     []bool // scratch: setns to retry after the user namespace
	userIdx   int    // index of the user namespace in nsfd, or -1
	cgroupIdx int    // index of the cgroup namespace, or -1
	unshare   uintptr
	wait      bool
	waitFd    int
	setid     bool
	forkAgain bool
	clone3    cloneArgs
	useClone3 bool
	files     []int
	exe       uintptr
	empty     *byte
	argv      []*byte
	envv      []*byte
	pipe      int
	rec       [12]byte
}

// Start forks, joins and execs as Attr says, and returns the pid of the
// process that called execve. The caller waits for it (it is our child in
// every case). Precondition: no fd in Files or Namespaces is closed by
// another goroutine while Start runs.
func Start(attr *Attr) (pid int, retErr error) {
	if attr.Exe < 0 {
		return 0, errors.New("rawfork: no executable fd")
	}
	if attr.UseCgroupFD && attr.Unshare != 0 {
		// Namespaces made by unshare must belong to the joined user
		// namespace, which the clone into a cgroup must come before.
		return 0, errors.New("rawfork: UseCgroupFD with Unshare is not supported")
	}
	empty, err := syscall.BytePtrFromString("")
	if err != nil {
		return 0, err
	}
	argv, err := syscall.SlicePtrFromStrings(attr.Argv)
	if err != nil {
		return 0, fmt.Errorf("rawfork: argv: %w", err)
	}
	envv, err := syscall.SlicePtrFromStrings(attr.Env)
	if err != nil {
		return 0, fmt.Errorf("rawfork: env: %w", err)
	}
	a := &childArgs{
		userIdx:   -1,
		cgroupIdx: -1,
		unshare:   attr.Unshare,
		wait:      attr.AfterUnshare != nil,
		waitFd:    -1,
		setid:     attr.BecomeRoot,
		forkAgain: attr.ForkAgain || attr.UseCgroupFD,
		useClone3: attr.UseCgroupFD,
		files:     append([]int(nil), attr.Files...),
		exe:       uintptr(attr.Exe),
		empty:     empty,
		argv:      argv,
		envv:      envv,
	}
	for i, ns := range attr.Namespaces {
		if ns.Type == unix.CLONE_NEWUSER {
			if a.userIdx >= 0 {
				return 0, errors.New("rawfork: two user namespaces")
			}
			a.userIdx = i
		}
		if ns.Type == unix.CLONE_NEWCGROUP {
			a.cgroupIdx = i
		}
		a.nsfd = append(a.nsfd, ns.Fd)
		a.nstype = append(a.nstype, ns.Type)
	}
	a.retry = make([]bool, len(a.nsfd))
	if a.useClone3 {
		// With CLONE_PARENT the exit signal is the caller's own
		// (SIGCHLD); clone3 wants exit_signal 0 then.
		a.clone3 = cloneArgs{
			flags:  unix.CLONE_PARENT | unix.CLONE_INTO_CGROUP,
			cgroup: uint64(attr.CgroupFD),
		}
	}

	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, os.NewSyscallError("pipe2", err)
	}
	a.pipe = p[1]
	defer unix.Close(p[0])
	// The child reads one byte from wp[0] once it has unshared.
	var wp [2]int
	if a.wait {
		if err := unix.Pipe2(wp[:], unix.O_CLOEXEC); err != nil {
			unix.Close(p[1])
			return 0, os.NewSyscallError("pipe2", err)
		}
		a.waitFd = wp[0]
	}

	// The thread that forks must not change under us, and the child
	// inherits this thread's namespaces and credentials: lock it.
	runtime.LockOSThread()
	syscall.ForkLock.Lock()
	child, errno := forkChild(a)
	syscall.ForkLock.Unlock()
	runtime.UnlockOSThread()
	unix.Close(p[1])
	if a.wait {
		unix.Close(wp[0])
	}
	runtime.KeepAlive(a)
	if errno != 0 {
		if a.wait {
			unix.Close(wp[1])
		}
		return 0, os.NewSyscallError("clone", errno)
	}

	pid, report, err := readReports(p[0], a.forkAgain, func() error {
		if err := attr.AfterUnshare(child); err != nil {
			return err
		}
		if _, err := unix.Write(wp[1], []byte{0}); err != nil {
			return fmt.Errorf("rawfork: release child: %w", err)
		}
		return nil
	})
	if a.wait {
		// A child still waiting (AfterUnshare failed) reads EOF and
		// exits, so the reaping below cannot block.
		unix.Close(wp[1])
	}
	if a.forkAgain {
		// The first child exits once it has forked the grandchild.
		reap(child)
	} else {
		pid = child
	}
	if err == nil && report != nil {
		err = report
	}
	if err != nil {
		if pid > 0 {
			reap(pid)
		}
		return 0, err
	}
	return pid, nil
}

func reap(pid int) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// readReports reads the child's records until EOF: EOF after a pid record
// (or none, without ForkAgain) means execve succeeded.
func readReports(fd int, forkAgain bool, unshared func() error) (pid int, report error, err error) {
	var buf [12]byte
	for {
		n, rerr := readFull(fd, buf[:])
		if n == 0 && rerr == nil {
			if forkAgain && pid == 0 && report == nil {
				return 0, nil, errors.New("rawfork: child exited without reporting")
			}
			return pid, report, nil
		}
		if rerr != nil {
			return pid, nil, fmt.Errorf("rawfork: read report: %w", rerr)
		}
		kind := binary.LittleEndian.Uint32(buf[0:])
		v1 := binary.LittleEndian.Uint32(buf[4:])
		v2 := binary.LittleEndian.Uint32(buf[8:])
		switch kind {
		case recPid:
			pid = int(v1)
		case recError:
			report = fmt.Errorf("%s: %w", stageNames[v1], syscall.Errno(v2))
		case recUnshared:
			if err := unshared(); err != nil {
				// Start closes the wait pipe, and the child exits.
				return pid, nil, err
			}
		default:
			return pid, nil, fmt.Errorf("rawfork: bad report %d", kind)
		}
	}
}

func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			if n == 0 {
				return 0, nil
			}
			return n, errors.New("short record")
		}
		n += m
	}
	return n, nil
}

// Implemented in the runtime; exported to package syscall for its own
// fork and allowed for others (go.dev/issue/67401).
//
//go:linkname runtime_BeforeFork syscall.runtime_BeforeFork
func runtime_BeforeFork()

//go:linkname runtime_AfterFork syscall.runtime_AfterFork
func runtime_AfterFork()

//go:linkname runtime_AfterForkInChild syscall.runtime_AfterForkInChild
func runtime_AfterForkInChild()

// forkChild forks; in the parent it returns the child's pid. The child
// never returns from it.
//
//go:norace
//go:nosplit
func forkChild(a *childArgs) (pid int, errno syscall.Errno) {
	runtime_BeforeFork()
	r1, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 || r1 != 0 {
		runtime_AfterFork()
		return int(r1), e
	}
	// In the child: one thread, signals blocked, no Go runtime services.
	runtime_AfterForkInChild()
	childMain(a)
	return 0, 0 // not reached
}

// report writes one record; it must not allocate.
//
//go:norace
//go:nosplit
func report(a *childArgs, kind, v1, v2 uint32) {
	put32(a.rec[0:4], kind)
	put32(a.rec[4:8], v1)
	put32(a.rec[8:12], v2)
	syscall.RawSyscall(syscall.SYS_WRITE, uintptr(a.pipe), uintptr(unsafe.Pointer(&a.rec[0])), 12)
}

//go:nosplit
func put32(b []byte, v uint32) {
	b[0] = byte(v)
	b[1] = byte(v >> 8)
	b[2] = byte(v >> 16)
	b[3] = byte(v >> 24)
}

//go:norace
//go:nosplit
func fail(a *childArgs, stage uint32, e syscall.Errno) {
	report(a, recError, stage, uint32(e))
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 253, 0, 0)
	}
}

// joinUser joins the user namespace, then the namespaces pass 1 could
// not join without it.
//
//go:norace
//go:nosplit
func joinUser(a *childArgs) {
	var (
		i int
		e syscall.Errno
	)
	if a.userIdx < 0 {
		return
	}
	if e = setns(a.nsfd[a.userIdx], a.nstype[a.userIdx]); e != 0 {
		fail(a, stageSetns, e)
	}
	for i = 0; i < len(a.nsfd); i++ {
		if a.retry[i] {
			if e = setns(a.nsfd[i], a.nstype[i]); e != 0 {
				fail(a, stageSetns, e)
			}
		}
	}
}

//go:norace
//go:nosplit
func setns(fd, typ int) syscall.Errno {
	_, _, e := syscall.RawSyscall(unix.SYS_SETNS, uintptr(fd), uintptr(typ), 0)
	return e
}

// childMain runs in the forked child. Everything it uses was allocated by
// Start; it calls only nosplit functions and raw system calls.
//
//go:norace
//go:nosplit
func childMain(a *childArgs) {
	var (
		i      int
		e      syscall.Errno
		r1     uintptr
		nextfd int
	)
	// Pass 1: every namespace but the user one, and but the cgroup one
	// when cloning into a cgroup: clone3 CLONE_INTO_CGROUP must still run
	// with our host credentials and cgroup namespace, or the kernel
	// refuses the move (EACCES in the user namespace; ENOENT in the
	// cgroup namespace, whose root our cgroup is not under). EPERM may
	// mean the namespace is owned by the user namespace not joined yet:
	// it is retried after that one.
	for i = 0; i < len(a.nsfd); i++ {
		if i == a.userIdx || (i == a.cgroupIdx && a.useClone3) {
			continue
		}
		e = setns(a.nsfd[i], a.nstype[i])
		if e == syscall.EPERM && a.userIdx >= 0 {
			a.retry[i] = true
			continue
		}
		if e != 0 {
			fail(a, stageSetns, e)
		}
	}
	// Namespaces made by unshare belong to the user namespace we are in
	// then: join it first (unless it must wait for the clone3 above).
	if !a.useClone3 {
		joinUser(a)
	}
	if a.unshare != 0 {
		if _, _, e = syscall.RawSyscall(syscall.SYS_UNSHARE, a.unshare, 0, 0); e != 0 {
			fail(a, stageUnshare, e)
		}
	}
	if a.wait {
		report(a, recUnshared, 0, 0)
		r1, _, e = syscall.RawSyscall(syscall.SYS_READ, uintptr(a.waitFd), uintptr(unsafe.Pointer(&a.rec[0])), 1)
		if e != 0 {
			fail(a, stageWait, e)
		}
		if r1 != 1 {
			// The parent gave up; it has its own error to report.
			for {
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 253, 0, 0)
			}
		}
	}
	if a.forkAgain {
		if a.useClone3 {
			r1, _, e = syscall.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&a.clone3)), unsafe.Sizeof(a.clone3), 0)
		} else {
			r1, _, e = syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(unix.CLONE_PARENT), 0, 0, 0, 0, 0)
		}
		if e != 0 {
			fail(a, stageFork, e)
		}
		if r1 != 0 {
			// The first child: tell the parent who will exec, and go.
			report(a, recPid, uint32(r1), 0)
			for {
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
			}
		}
	}
	if a.useClone3 {
		if a.cgroupIdx >= 0 {
			e = setns(a.nsfd[a.cgroupIdx], a.nstype[a.cgroupIdx])
			if e == syscall.EPERM && a.userIdx >= 0 {
				a.retry[a.cgroupIdx] = true
			} else if e != 0 {
				fail(a, stageSetns, e)
			}
		}
		joinUser(a)
	}
	if a.setid {
		// setgroups may be denied in the user namespace
		// (/proc/PID/setgroups "deny"); that is not fatal.
		syscall.RawSyscall(syscall.SYS_SETGROUPS, 0, 0, 0)
		if _, _, e = syscall.RawSyscall(syscall.SYS_SETRESGID, 0, 0, 0); e != 0 {
			fail(a, stageSetid, e)
		}
		if _, _, e = syscall.RawSyscall(syscall.SYS_SETRESUID, 0, 0, 0); e != 0 {
			fail(a, stageSetid, e)
		}
	}

	// Move every fd we keep above all the targets first, so that placing
	// fd i never overwrites a source still to be placed (as the standard
	// library does). nextfd starts above every fd we know of.
	nextfd = len(a.files)
	for i = 0; i < len(a.files); i++ {
		if a.files[i] >= nextfd {
			nextfd = a.files[i] + 1
		}
	}
	if int(a.exe) >= nextfd {
		nextfd = int(a.exe) + 1
	}
	if a.pipe >= nextfd {
		nextfd = a.pipe + 1
	}
	if a.pipe < len(a.files) {
		if _, _, e = syscall.RawSyscall(syscall.SYS_DUP3, uintptr(a.pipe), uintptr(nextfd), syscall.O_CLOEXEC); e != 0 {
			fail(a, stageDup, e)
		}
		a.pipe = nextfd
		nextfd++
	}
	if int(a.exe) < len(a.files) {
		if _, _, e = syscall.RawSyscall(syscall.SYS_DUP3, a.exe, uintptr(nextfd), syscall.O_CLOEXEC); e != 0 {
			fail(a, stageDup, e)
		}
		a.exe = uintptr(nextfd)
		nextfd++
	}
	for i = 0; i < len(a.files); i++ {
		if a.files[i] >= 0 && a.files[i] < len(a.files) {
			if _, _, e = syscall.RawSyscall(syscall.SYS_DUP3, uintptr(a.files[i]), uintptr(nextfd), syscall.O_CLOEXEC); e != 0 {
				fail(a, stageDup, e)
			}
			a.files[i] = nextfd
			nextfd++
		}
	}
	for i = 0; i < len(a.files); i++ {
		if a.files[i] < 0 {
			syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(i), 0, 0)
			continue
		}
		if _, _, e = syscall.RawSyscall(syscall.SYS_DUP3, uintptr(a.files[i]), uintptr(i), 0); e != 0 {
			fail(a, stageDup, e)
		}
	}

	_, _, e = syscall.RawSyscall6(unix.SYS_EXECVEAT, a.exe,
		uintptr(unsafe.Pointer(a.empty)),
		uintptr(unsafe.Pointer(&a.argv[0])),
		uintptr(unsafe.Pointer(&a.envv[0])),
		unix.AT_EMPTY_PATH, 0)
	fail(a, stageExec, e)
}
