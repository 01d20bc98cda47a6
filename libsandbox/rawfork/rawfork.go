// Package rawfork starts a process that joins existing namespaces, a user
// or time namespace included, without any C; for exec, it also sets up
// the user's process and execs it, so that no Go runtime of ours ever
// runs inside a container that has processes of its own.
//
// A multithreaded process cannot join a user namespace (setns(2) returns
// EINVAL, golang/go#22283) nor a time namespace (EUSERS), and every Go
// process is multithreaded. So we do what the standard library's
// forkAndExecInChild does, with setns(2) in the middle: from a locked
// thread, clone(2) without CLONE_VM; the child is a copy of that one thread,
// single-threaded, and makes only raw system calls (no allocation, no stack
// growth, no locks) until execve(2) replaces it. Any error is reported on
// a close-on-exec socket and the child exits; a clean EOF means execve
// worked.
//
// setns(CLONE_NEWPID) and unshare(CLONE_NEWPID) only move the caller's
// future children, so when the process must live in a pid namespace the
// child forks once more with CLONE_PARENT: the grandchild is our child, is
// in the namespace, and carries on to execve, while the first child reports
// the grandchild's pid and exits.
//
// # Who can reach which process, and what it holds
//
// The container's processes are hostile (root in their namespaces, maybe
// with CAP_SYS_PTRACE and CAP_KILL there, watching /proc for new pids).
// They can name a process only through their pid namespace, so:
//
//   - The first child (C1) is never in the container's pid namespace:
//     setns(CLONE_NEWPID) does not move it. No process of the container
//     can signal, ptrace or open /proc/PID/* of it. It may hold anything
//     of ours (namespace fds, the v2 cgroup directory...), and does all
//     the privileged work: joining, creating the console, the user's ids,
//     capabilities, rlimits. It is also non-dumpable from its first
//     instruction and dies with us (PR_SET_PDEATHSIG).
//   - The grandchild is visible in the container from its clone until its
//     execve. Before C1 forks it, C1 closes every fd but those the user's
//     process gets (stdio, preserved fds) and the report socket, and (for
//     exec) has already taken the user's ids and capabilities: the
//     grandchild holds nothing the user's process will not. It is
//     non-dumpable (inherited), and its memory belongs to the host's user
//     namespace until execve (fork keeps mm->user_ns; execve sets it), so
//     root of a user-namespaced container cannot ptrace it or open its
//     /proc/PID/fd even with CAP_SYS_PTRACE in its namespace
//     (kernel/ptrace.c __ptrace_may_access: a non-dumpable mm needs
//     CAP_SYS_PTRACE over mm->user_ns). A container without a user
//     namespace that holds CAP_SYS_PTRACE can attach to it (that is
//     CAP_SYS_PTRACE over the host's namespace); it then finds only what
//     the user's process will have.
//   - The container can stop the grandchild (SIGSTOP with CAP_KILL, or as
//     the same uid) or make it block (a FUSE mount on its path, a frozen
//     cgroup). The parent's wait is therefore bounded: it polls, notices a
//     stopped or traced child, asks Attr.Check (signals, deadlines, a
//     frozen cgroup), and kills what it started.
package rawfork

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/caps"
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
	// Pause, if set, runs in the parent once the first child has joined
	// and unshared, while the child waits: the place to write the id maps
	// of a new user namespace or the offsets of a new time namespace,
	// which only a process outside those namespaces may write, or to move
	// the child into cgroup v1 hierarchies. pid is the first child.
	Pause func(pid int) error
	// BecomeRoot makes the child setresgid/setresuid(0) after the
	// namespaces are joined or made, so that it keeps its capabilities
	// across execve in a user namespace. Not with Process.
	BecomeRoot bool
	// ForkAgain makes the process that execs a grandchild (see the package
	// comment). Needed when joining or creating a pid namespace.
	ForkAgain bool
	// UseCgroupFD: CgroupFD is a cgroup v2 directory the first child is
	// created in (clone3 CLONE_INTO_CGROUP, from here: with our
	// credentials and cgroup namespace, as the kernel wants). Every
	// process it forks is born there too.
	UseCgroupFD bool
	CgroupFD    int
	// Files[i] becomes fd i in the process that execs; with
	// Process.Terminal, 0-2 are replaced by the console.
	Files []int
	// Exe is an fd of the binary to run (execveat AT_EMPTY_PATH), so no
	// path is resolved in the namespaces the child has joined. -1 with
	// Process, which execs Process.Paths instead.
	Exe  int
	Argv []string
	Env  []string
	// Process, if set, is the user's process to set up and exec (exec
	// into a container): see process.go.
	Process *Process
	// Check, if set, is called every tick (tickInterval) while we wait
	// for the child; an error kills what we started and is returned.
	Check func() error
}

// Result is what Start returns on success.
type Result struct {
	// Pid is the process that called execve; it is our child.
	Pid int
	// Console is the pty master of Process.Terminal.
	Console *os.File
	// Notify is the seccomp listener of Process.Notify.
	Notify *os.File
	// Warnings are what the child could not do and went on without
	// (an ambient capability it could not raise, as runc warns).
	Warnings []string
}

// Error is a failure reported by the child: the step, the errno and, for
// steps over a list (rlimits, capabilities, exec paths), the index.
type Error struct {
	Stage string
	Errno syscall.Errno
	Index int
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %v", e.Stage, e.Errno)
}

func (e *Error) Unwrap() error { return e.Errno }

// ErrStopped is returned when the child was stopped or traced before it
// could exec: a process of the container stopped it.
var ErrStopped = errors.New("stopped before it could exec")

// Stages reported by a failing child. The names are what Error.Stage
// says; callers match them to word their errors.
const (
	stageSetns = iota + 1
	stageUnshare
	stageFork
	stageDup
	stageExec
	stageWait
	stageSetid
	stageDumpable
	stageOOM
	stageLabel
	stageHugePages
	stageRlimit
	stageConsole
	stageCwd
	stageChdir
	stageBounding
	stageKeepCaps
	stageSetgroups
	stageSetgid
	stageSetuid
	stageCapset
	stageAmbient
	stageNoNewPrivs
	stageSeccomp
	stageSetsid
	stageCtty
	stageClose
	stageScheduler
	stageIOPriority
	stagePersonality
	stageMemoryPolicy
	stageAffinityInitial
	stageAffinityFinal
)

// StageNames maps the stages to Error.Stage.
var stageNames = map[uint32]string{
	stageSetns:      "setns",
	stageUnshare:    "unshare",
	stageFork:       "second clone",
	stageDup:        "dup3",
	stageExec:       "exec",
	stageWait:       "wait for parent",
	stageSetid:      "setresuid",
	stageDumpable:   "prctl dumpable",
	stageOOM:        "oomScoreAdj",
	stageLabel:      "label",
	stageHugePages:  "hugepages",
	stageRlimit:     "rlimit",
	stageConsole:    "console",
	stageCwd:        "cwd",
	stageChdir:      "chdir",
	stageBounding:   "bounding",
	stageKeepCaps:   "keepcaps",
	stageSetgroups:  "setgroups",
	stageSetgid:     "setresgid",
	stageSetuid:     "setresuid",
	stageCapset:     "capset",
	stageAmbient:    "ambient",
	stageNoNewPrivs: "noNewPrivileges",
	stageSeccomp:    "seccomp",
	stageSetsid:     "setsid",
	stageCtty:       "ctty",
	stageClose:      "close",
	// The process's attributes: Error.Stage names the spec field.
	stageScheduler:       "process.scheduler",
	stageIOPriority:      "process.ioPriority",
	stagePersonality:     "linux.personality",
	stageMemoryPolicy:    "linux.memoryPolicy",
	stageAffinityInitial: "process.execCPUAffinity.initial",
	stageAffinityFinal:   "process.execCPUAffinity.final",
}

// Records the child sends on the report socket (SOCK_SEQPACKET: one
// record a packet): four little-endian uint32, kind first.
const (
	recPid     = 1 // pid of the grandchild (ForkAgain)
	recError   = 2 // stage, errno, index
	recPaused  = 3 // the child has joined and unshared and waits for a byte
	recConsole = 4 // with SCM_RIGHTS: the pty master
	recWarn    = 5 // stage, errno, index: done without
	recNotify  = 6 // with SCM_RIGHTS: the seccomp listener
	recLen     = 16
)

// tickInterval is how often the parent looks at the child while it
// waits: a create or exec takes a few milliseconds, so the common path
// never ticks.
const tickInterval = 50 * time.Millisecond

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

// Start forks, joins, sets up and execs as Attr says, and returns once
// the process has called execve (or failed). Precondition: no fd in Files
// or Namespaces is closed by another goroutine while Start runs.
func Start(attr *Attr) (_ *Result, retErr error) {
	if attr.Process == nil && attr.Exe < 0 {
		return nil, errors.New("rawfork: no executable")
	}
	if attr.Process != nil && attr.BecomeRoot {
		return nil, errors.New("rawfork: BecomeRoot with Process")
	}
	a, err := prepare(attr)
	if err != nil {
		return nil, err
	}
	// The Go runtime raised our soft RLIMIT_NOFILE at start-up
	// (go.dev/issue/46279); the process we start must get the one we
	// were given. syscall.Exec puts it back before its execve, which
	// fails here (no path): what remains is the restored limit.
	_ = syscall.Exec("", nil, nil)

	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	rep := os.NewFile(uintptr(sp[0]), "rawfork-report")
	defer rep.Close()
	a.rep = sp[1]
	// The child reads one byte from wp[0] once it has unshared.
	var wp [2]int
	if a.wait {
		if err := unix.Pipe2(wp[:], unix.O_CLOEXEC); err != nil {
			unix.Close(sp[1])
			return nil, os.NewSyscallError("pipe2", err)
		}
		a.waitFd = wp[0]
		defer unix.Close(wp[1])
	}

	// The thread that forks must not change under us, and the child
	// inherits this thread's namespaces and credentials: lock it.
	runtime.LockOSThread()
	tid := unix.Gettid()
	before := threadChildren(tid)
	syscall.ForkLock.Lock()
	c1, errno := forkChild(a)
	syscall.ForkLock.Unlock()
	runtime.UnlockOSThread()
	unix.Close(sp[1])
	if a.wait {
		unix.Close(wp[0])
	}
	runtime.KeepAlive(a)
	if errno != 0 {
		return nil, os.NewSyscallError("clone", errno)
	}

	w := &waiter{
		rep:      rep,
		c1:       c1,
		tid:      tid,
		before:   before,
		forkAgin: a.forkAgain,
		check:    attr.Check,
		pause: func() error {
			if err := attr.Pause(c1); err != nil {
				return err
			}
			if _, err := unix.Write(wp[1], []byte{0}); err != nil {
				return fmt.Errorf("rawfork: release child: %w", err)
			}
			return nil
		},
	}
	res, err := w.wait()
	if err != nil {
		w.killAll()
		if res != nil && res.Console != nil {
			res.Console.Close()
		}
		if res != nil && res.Notify != nil {
			res.Notify.Close()
		}
		return nil, err
	}
	if a.forkAgain {
		// The first child exits once it has forked the grandchild.
		reap(c1)
	} else {
		res.Pid = c1
	}
	return res, nil
}

// waiter is the parent's side of the report socket.
type waiter struct {
	rep      *os.File
	c1       int
	gc       int // the grandchild, once reported
	tid      int
	before   map[int]bool
	forkAgin bool
	check    func() error
	pause    func() error
}

// wait reads the child's records until EOF, which means that every
// process holding the socket's other end has exec'd or exited. EOF after
// a pid record (or none, without ForkAgain) and no error record means
// execve succeeded. The wait is bounded: see tick.
func (w *waiter) wait() (*Result, error) {
	res := &Result{}
	var report error
	buf := make([]byte, recLen)
	oob := make([]byte, unix.CmsgSpace(4))
	pfd := []unix.PollFd{{Fd: int32(w.rep.Fd()), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, int(tickInterval/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return res, os.NewSyscallError("poll", err)
		}
		if n == 0 {
			if err := w.tick(); err != nil {
				return res, err
			}
			continue
		}
		m, oobn, _, _, err := unix.Recvmsg(int(w.rep.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return res, fmt.Errorf("rawfork: read report: %w", err)
		}
		fds := rights(oob[:oobn])
		if m == 0 && oobn == 0 {
			if report != nil {
				return res, report
			}
			if w.forkAgin && w.gc == 0 {
				return res, errors.New("rawfork: child exited without reporting")
			}
			res.Pid = w.gc
			return res, nil
		}
		if m != recLen {
			closeAll(fds)
			return res, fmt.Errorf("rawfork: short report (%d bytes)", m)
		}
		kind := binary.LittleEndian.Uint32(buf[0:])
		v1 := binary.LittleEndian.Uint32(buf[4:])
		v2 := binary.LittleEndian.Uint32(buf[8:])
		v3 := binary.LittleEndian.Uint32(buf[12:])
		switch kind {
		case recPid:
			w.gc = int(v1)
		case recError:
			if report == nil {
				report = &Error{Stage: stageNames[v1], Errno: syscall.Errno(v2), Index: int(int32(v3))}
			}
		case recWarn:
			res.Warnings = append(res.Warnings, warning(v1, syscall.Errno(v2), int(int32(v3))))
		case recConsole:
			if len(fds) != 1 || res.Console != nil {
				closeAll(fds)
				return res, errors.New("rawfork: bad console report")
			}
			res.Console = os.NewFile(uintptr(fds[0]), "/dev/ptmx")
			fds = nil
		case recNotify:
			if len(fds) != 1 || res.Notify != nil {
				closeAll(fds)
				return res, errors.New("rawfork: bad seccomp listener report")
			}
			res.Notify = os.NewFile(uintptr(fds[0]), "seccomp-listener")
			fds = nil
		case recPaused:
			if w.pause == nil {
				return res, errors.New("rawfork: unexpected pause")
			}
			if err := w.pause(); err != nil {
				return res, err
			}
		default:
			closeAll(fds)
			return res, fmt.Errorf("rawfork: bad report %d", kind)
		}
		closeAll(fds)
	}
}

// tick runs when the child has said nothing for a tick: a stopped or
// traced child is an attack (or a debugger) and is never waited for;
// Check decides about the rest.
func (w *waiter) tick() error {
	for _, pid := range []int{w.c1, w.gc} {
		if pid <= 0 {
			continue
		}
		if st := procState(pid); st == 'T' || st == 't' {
			return fmt.Errorf("process %d: %w", pid, ErrStopped)
		}
	}
	if w.check != nil {
		return w.check()
	}
	return nil
}

// killAll kills and reaps what we started: the first child, the
// grandchild, and a grandchild whose pid the first child did not get to
// report (any new child of the thread that forked: CLONE_PARENT makes it
// that thread's child).
func (w *waiter) killAll() {
	pids := []int{w.c1}
	if w.gc > 0 {
		pids = append(pids, w.gc)
	}
	unix.Kill(w.c1, unix.SIGKILL)
	reap(w.c1)
	if w.forkAgin && w.gc == 0 {
		for pid := range threadChildren(w.tid) {
			if !w.before[pid] && pid != w.c1 {
				pids = append(pids, pid)
			}
		}
	}
	for _, pid := range pids[1:] {
		unix.Kill(pid, unix.SIGKILL)
		ReapKilled(pid)
	}
}

// ReapKilled reaps a process we have just killed, for up to a second: a
// process of the container may be tracing it, and then its zombie goes to
// the tracer first, which may keep it as long as it likes (a wait here
// without a bound would be the container's to hold). One not reaped in
// time is left to whoever inherits it when we exit.
func ReapKilled(pid int) {
	var ws unix.WaitStatus
	for i := 0; i < 100; i++ {
		n, err := unix.Wait4(pid, &ws, unix.WNOHANG|unix.WALL, nil)
		if n == pid || (err != nil && err != unix.EINTR) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// threadChildren lists the children of thread tid of this process.
func threadChildren(tid int) map[int]bool {
	b, _ := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/children")
	m := map[int]bool{}
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			m[n] = true
		}
	}
	return m
}

// procState returns the state letter of /proc/PID/stat, or 0.
func procState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

func warning(stage uint32, e syscall.Errno, idx int) string {
	if stage == stageAmbient {
		return caps.AmbientWarning(idx, e)
	}
	return fmt.Sprintf("%s: %v", stageNames[stage], e)
}

func rights(oob []byte) []int {
	if len(oob) == 0 {
		return nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		if f, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, f...)
		}
	}
	return fds
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func reap(pid int) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		if err != unix.EINTR {
			return
		}
	}
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

// forkChild forks (clone3 into a cgroup, or clone); in the parent it
// returns the child's pid. The child never returns from it.
//
//go:norace
//go:nosplit
func forkChild(a *childArgs) (pid int, errno syscall.Errno) {
	var (
		r1 uintptr
		e  syscall.Errno
	)
	runtime_BeforeFork()
	if a.useClone3 {
		r1, _, e = syscall.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&a.clone3)), unsafe.Sizeof(a.clone3), 0)
	} else {
		r1, _, e = syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	}
	if e != 0 || r1 != 0 {
		runtime_AfterFork()
		return int(r1), e
	}
	// In the child: one thread, signals blocked, no Go runtime services.
	runtime_AfterForkInChild()
	childMain(a)
	return 0, 0 // not reached
}
