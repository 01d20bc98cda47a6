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
	"bytes"
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
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/sigcatch"
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
	// Forked, if set, runs right after the fork, on the thread that
	// forked (still locked), before anything waits for the child: the
	// place for that thread to leave where it went for the child to be
	// born there (a container's v1 cgroups). If it fails, the child is
	// killed and Start returns its error.
	Forked func() error
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
	// CgroupTasks are v1 `tasks` files, open for writing, into which
	// the first child writes "0" (itself) once the initial CPU affinity
	// is set and before it joins anything: it moves itself into those
	// cgroups, and every process it forks is born there. A thread that
	// moves itself takes no cgroup_threadgroup_rwsem (kernel/cgroup/
	// cgroup.c, cgroup_procs_write_start: "If the thread is `current`
	// ... we can skip the global lock"), where a write of its pid to
	// cgroup.procs from here (Pause) waits for an RCU grace period
	// (5-20 ms) unless another migration just happened. The kernel
	// checks the credentials of whoever opened the file (v1's
	// __cgroup1_procs_write: of->file->f_cred), so the caller opens
	// them; the child closes them with every other fd before it forks
	// or execs (layout). Error.Index is the file's index.
	CgroupTasks []int
	// Unfreeze, if set, is called for every process Start kills
	// (after its SIGKILL) that the caller's cgroup v1 freezer may hold:
	// a task the v1 freezer stopped ignores even SIGKILL until thawed
	// (it sleeps in __refrigerator; v2's freezer lets fatal signals
	// through), so the unbounded wait for the first child would last as
	// long as whoever froze the cgroup liked. Unfreeze thaws the task,
	// typically by moving it to a cgroup that is not frozen
	// (legacy_freezer.c, freezer_attach: a task moved into a cgroup
	// that is not freezing is thawed); if it fails, the first child's
	// wait is bounded, as for a process the container may trace.
	Unfreeze func(pid int) error
	// Files[i] becomes fd i in the process that execs; with
	// Process.Terminal, 0-2 are replaced by the console.
	Files []int
	// Exe is an fd of the binary to run (execveat AT_EMPTY_PATH), so no
	// path is resolved in the namespaces the child has joined. -1 with
	// Process, which execs Process.Paths instead.
	Exe  int
	Argv []string
	Env  []string
	// Path, with Exe -1 and no Process, is the program to exec by its
	// path, resolved in the mount namespace joined (a hook's, whose
	// script sees its path as $0 as it does when the runtime runs it).
	Path string
	// OOMScoreAdj, if not empty, is written to the child's
	// /proc/self/oom_score_adj before it joins anything: the process it
	// execs inherits it.
	OOMScoreAdj string
	// Umask, if set, is the process's umask (else ours), set once the
	// namespaces are joined.
	Umask *uint32
	// Dir, if set, is the working directory of the process, resolved
	// once the namespaces are joined (in a joined mount namespace, by
	// its tree).
	Dir string
	// Process, if set, is the user's process to set up and exec (exec
	// into a container): see process.go.
	Process *Process
	// SameRoot, if set, is the device and inode of our root directory:
	// once the namespaces are joined, the child's root (which
	// setns(CLONE_NEWNS) makes the joined namespace's root) must be
	// that directory, or the child fails at stage "root" (EXDEV) and
	// execs nothing. See libsandbox's spawnRaw for why.
	SameRoot *FileID
	// Check, if set, is called every tick (tickInterval) while we wait
	// for the child; an error kills what we started and is returned.
	Check func() error
	// Held, if set, is called at every turn of the wait with the
	// grandchild (ForkAgain) until it has exec'd: an error (a frozen
	// cgroup that is not the caller's holds it, say) kills what we
	// started and is returned.
	Held func(pid int) error
}

// FileID names a file by device and inode, as statx(2) gives them.
type FileID struct {
	DevMajor, DevMinor uint32
	Ino                uint64
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
	stageRoot
	stageCgroup
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
	stageRoot:            "root",
	stageCgroup:          "cgroup",
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
	if attr.Process == nil && attr.Exe < 0 && attr.Path == "" {
		return nil, errors.New("rawfork: no executable")
	}
	if attr.Process != nil && attr.Dir != "" {
		return nil, errors.New("rawfork: Dir with Process (its Cwd)")
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
	a.rep, a.out, a.gcrep = sp[1], sp[1], -1
	var gcrep *os.File
	if a.forkAgain {
		gp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			unix.Close(sp[1])
			return nil, os.NewSyscallError("socketpair", err)
		}
		gcrep = os.NewFile(uintptr(gp[0]), "rawfork-grandchild-report")
		defer gcrep.Close()
		a.gcrep = gp[1]
		// Closed once: after the fork (below), or here should we
		// return before it. Closed a second time, its number could
		// be another fd by then: one another goroutine opened, or the
		// pty master the wait receives (exec -t sent a closed fd to
		// --console-socket, "bad file descriptor", when one did).
		defer func() {
			if a.gcrep >= 0 {
				unix.Close(a.gcrep)
			}
		}()
	}
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
	var forkedErr error
	if attr.Forked != nil {
		forkedErr = attr.Forked()
	}
	syscall.ForkLock.Unlock()
	runtime.UnlockOSThread()
	unix.Close(sp[1])
	if a.forkAgain {
		// Ours must be closed for its EOF: only the grandchild holds it
		// then (and the first child until it exits). The child has its
		// own copy of a (a fork without CLONE_VM).
		unix.Close(a.gcrep)
		a.gcrep = -1
	}
	if a.wait {
		unix.Close(wp[0])
	}
	runtime.KeepAlive(a)
	if errno != 0 {
		return nil, os.NewSyscallError("clone", errno)
	}

	w := &waiter{
		rep:       rep,
		gcrep:     gcrep,
		c1:        c1,
		tid:       tid,
		before:    before,
		forkAgain: a.forkAgain,
		check:     attr.Check,
		held:      attr.Held,
		unfreeze:  attr.Unfreeze,
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
	if forkedErr != nil {
		w.killAll()
		return nil, forkedErr
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
	return res, nil
}

// waiter is the parent's side of the report sockets.
type waiter struct {
	rep       *os.File // the first child's: trusted
	gcrep     *os.File // the grandchild's: errors and the listener only
	c1        int
	c1Done    bool // reaped
	gc        int  // the grandchild, once the kernel shows it
	tid       int
	before    map[int]bool
	forkAgain bool
	check     func() error
	held      func(pid int) error // Attr.Held
	pause     func() error
	unfreeze  func(pid int) error // Attr.Unfreeze
	records   int                 // read from gcrep
}

// maxGrandchildRecords bounds what we read from the grandchild's socket:
// an error and the seccomp listener. A process of the container that
// stole the socket gets no more than that out of us.
const maxGrandchildRecords = 4

// wait follows the child to its execve. Every wait is bounded (tick):
// see the package comment.
func (w *waiter) wait() (*Result, error) {
	res := &Result{}
	report, err := w.readTrusted(res)
	if err != nil {
		return res, err
	}
	if !w.forkAgain {
		// EOF without an error: the first child exec'd (the socket is
		// close-on-exec).
		if report != nil {
			return res, report
		}
		res.Pid = w.c1
		return res, nil
	}
	if report != nil {
		return res, report
	}
	// The first child closed our socket before it forks: it exits now,
	// with 0 once the grandchild exists.
	status, err := w.waitFirstChild()
	if err != nil {
		return res, err
	}
	if status != 0 {
		// It reported why on the grandchild's socket, which nothing
		// else holds, there being no grandchild.
		if rep := w.readGrandchild(res, true); rep != nil {
			return res, rep
		}
		return res, firstChildFailure(status)
	}
	if err := w.findGrandchild(); err != nil {
		return res, err
	}
	if rep := w.readGrandchild(res, false); rep != nil {
		return res, rep
	}
	res.Pid = w.gc
	return res, nil
}

// readTrusted reads the first child's records until EOF. The first
// child is not in the container's pid namespace: nothing of the
// container can write here.
func (w *waiter) readTrusted(res *Result) (report error, err error) {
	buf := make([]byte, recLen)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		if err := w.tick(); err != nil {
			return nil, err
		}
		ready, err := pollTick(int(w.rep.Fd()))
		if err != nil {
			return nil, err
		}
		if !ready {
			continue
		}
		m, oobn, _, _, err := unix.Recvmsg(int(w.rep.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rawfork: read report: %w", err)
		}
		fds := rights(oob[:oobn])
		if m == 0 && oobn == 0 {
			return report, nil
		}
		if m != recLen {
			closeAll(fds)
			return nil, fmt.Errorf("rawfork: short report (%d bytes)", m)
		}
		kind, v1, v2, v3 := decode(buf)
		switch kind {
		case recError:
			if report == nil {
				report = &Error{Stage: stageNames[v1], Errno: syscall.Errno(v2), Index: int(int32(v3))}
			}
		case recWarn:
			res.Warnings = append(res.Warnings, warning(v1, syscall.Errno(v2), int(int32(v3))))
		case recConsole:
			if len(fds) != 1 || res.Console != nil {
				closeAll(fds)
				return nil, errors.New("rawfork: bad console report")
			}
			res.Console = os.NewFile(uintptr(fds[0]), "/dev/ptmx")
			fds = nil
		case recNotify:
			// Only when the first child execs itself (no fork).
			if len(fds) != 1 || res.Notify != nil {
				closeAll(fds)
				return nil, errors.New("rawfork: bad seccomp listener report")
			}
			res.Notify = os.NewFile(uintptr(fds[0]), "seccomp-listener")
			fds = nil
		case recPaused:
			if w.pause == nil {
				closeAll(fds)
				return nil, errors.New("rawfork: unexpected pause")
			}
			if err := w.pause(); err != nil {
				return nil, err
			}
		default:
			closeAll(fds)
			return nil, fmt.Errorf("rawfork: bad report %d", kind)
		}
		closeAll(fds)
	}
}

// waitFirstChild reaps the first child, which has closed our socket and
// is forking the grandchild, and returns its wait status (0: forked).
//
// A pidfd of the first child wakes us the moment it exits (it is our
// child and not reaped yet, so the pid is still its own); tearing down
// its copy of our memory takes a few hundred microseconds, and the
// millisecond's sleep between looks that kernels before 5.3 get made
// every exec wait for the next one.
func (w *waiter) waitFirstChild() (unix.WaitStatus, error) {
	pidfd, perr := unix.PidfdOpen(w.c1, 0)
	if perr == nil {
		defer unix.Close(pidfd)
	}
	for {
		var ws unix.WaitStatus
		n, err := unix.Wait4(w.c1, &ws, unix.WNOHANG|unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("wait4", err)
		}
		if n == w.c1 {
			w.c1Done = true
			return ws, nil
		}
		if err := w.tick(); err != nil {
			return 0, err
		}
		if perr != nil {
			time.Sleep(time.Millisecond)
			continue
		}
		// Readable once it has exited; at most a tick otherwise.
		if _, err := pollTick(pidfd); err != nil {
			return 0, err
		}
	}
}

// findGrandchild learns the grandchild's pid from the kernel: the one new
// child of the thread that forked (CLONE_PARENT makes it that thread's).
// Never from a report: a stolen socket could name any process.
func (w *waiter) findGrandchild() error {
	var found []int
	for pid := range threadChildren(w.tid) {
		if !w.before[pid] && pid != w.c1 {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		return fmt.Errorf("rawfork: %d new children, want the grandchild alone", len(found))
	}
	w.gc = found[0]
	return nil
}

// readGrandchild reads the grandchild's socket until its execve: EOF,
// or its executable is no longer ours (a process of the container may
// hold a stolen copy of the socket open). What it accepts there: one
// error and one seccomp listener, at most maxGrandchildRecords records.
// It returns the error to report, if any. noChild: the first child
// failed before the fork; only its error is read, and not waited for.
func (w *waiter) readGrandchild(res *Result, noChild bool) error {
	buf := make([]byte, recLen)
	oob := make([]byte, unix.CmsgSpace(4))
	var report error
	for {
		if !noChild {
			if err := w.tick(); err != nil {
				return err
			}
			if report == nil && w.execd() {
				// Take what it sent before its execve (the listener).
				w.drain(res, buf, oob)
				return nil
			}
		}
		ready, err := pollTick(int(w.gcrep.Fd()))
		if err != nil {
			return err
		}
		if !ready {
			if noChild {
				return report
			}
			if !alive(w.gc) {
				if report != nil {
					return report
				}
				return errors.New("the process exited before its execve")
			}
			continue
		}
		m, oobn, _, _, err := unix.Recvmsg(int(w.gcrep.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return fmt.Errorf("rawfork: read report: %w", err)
		}
		fds := rights(oob[:oobn])
		if m == 0 && oobn == 0 {
			return report
		}
		if rep := w.grandchildRecord(res, buf[:m], fds); rep != nil && report == nil {
			report = rep
		}
	}
}

// grandchildRecord takes one record of the grandchild's: an error, or
// the listener (a seccomp notify fd, checked to be one).
func (w *waiter) grandchildRecord(res *Result, b []byte, fds []int) error {
	w.records++
	if w.records > maxGrandchildRecords || len(b) != recLen {
		closeAll(fds)
		return errors.New("rawfork: unexpected reports from the process (a process of the container wrote to its socket?)")
	}
	kind, v1, v2, v3 := decode(b)
	switch {
	case kind == recError && len(fds) == 0:
		return &Error{Stage: stageNames[v1], Errno: syscall.Errno(v2), Index: int(int32(v3))}
	case kind == recNotify && len(fds) == 1 && res.Notify == nil && isListener(fds[0]):
		res.Notify = os.NewFile(uintptr(fds[0]), "seccomp-listener")
		return nil
	}
	closeAll(fds)
	return errors.New("rawfork: unexpected report from the process (a process of the container wrote to its socket?)")
}

// drain reads what is already queued on the grandchild's socket.
func (w *waiter) drain(res *Result, buf, oob []byte) {
	for w.records < maxGrandchildRecords {
		m, oobn, _, _, err := unix.Recvmsg(int(w.gcrep.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
		if err != nil || m == 0 {
			return
		}
		w.grandchildRecord(res, buf[:m], rights(oob[:oobn]))
	}
}

// execd reports whether the grandchild runs another program than ours:
// it has called execve.
func (w *waiter) execd() bool {
	var self, gc unix.Stat_t
	if unix.Stat("/proc/self/exe", &self) != nil || unix.Stat("/proc/"+strconv.Itoa(w.gc)+"/exe", &gc) != nil {
		return false
	}
	return self.Dev != gc.Dev || self.Ino != gc.Ino
}

// isListener reports whether fd is a seccomp notify listener.
func isListener(fd int) bool {
	t, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	return err == nil && t == "anon_inode:seccomp notify"
}

func decode(b []byte) (kind, v1, v2, v3 uint32) {
	return binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:]),
		binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
}

// firstChildFailure words a failed first child that reported nothing.
func firstChildFailure(ws unix.WaitStatus) error {
	if ws.Signaled() && ws.Signal() == unix.SIGSYS {
		return errors.New("the container's seccomp filter killed the runtime's child after it was loaded: exec needs clone, setsid and execve (and capset without noNewPrivileges, ioctl with a terminal) to be allowed")
	}
	if ws.Signaled() {
		return fmt.Errorf("rawfork: child killed by %v", ws.Signal())
	}
	return fmt.Errorf("rawfork: child exited with status %d", ws.ExitStatus())
}

// tick looks at the child at every turn of a wait: a stopped or traced
// child is an attack (or a debugger) and is never waited for; Check
// decides about the rest (signals, deadlines, a frozen cgroup).
func (w *waiter) tick() error {
	for _, pid := range []int{w.c1, w.gc} {
		if pid <= 0 || (pid == w.c1 && w.c1Done) {
			continue
		}
		if st := procState(pid); st == 'T' || (st == 't' && !OursTracingStop(pid)) {
			return fmt.Errorf("process %d: %w", pid, ErrStopped)
		}
		// Held is for the grandchild: the first child is not in the
		// namespaces joined, so nothing there can name it.
		if w.held != nil && pid == w.gc {
			if err := w.held(pid); err != nil {
				return err
			}
		}
	}
	if w.check != nil {
		return w.check()
	}
	return nil
}

// killAll kills and reaps what we started: the first child, the
// grandchild, and a grandchild the kernel had not shown us yet (any new
// child of the thread that forked: CLONE_PARENT makes it that thread's).
func (w *waiter) killAll() {
	if !w.c1Done {
		unix.Kill(w.c1, unix.SIGKILL)
		// Ours alone (no process of the container can trace it), so
		// the wait is unbounded, unless a freezer may hold it and
		// could not be made to let go.
		if w.thaw(w.c1) {
			reap(w.c1)
		} else {
			ReapKilled(w.c1)
		}
	}
	var pids []int
	for pid := range threadChildren(w.tid) {
		if !w.before[pid] && pid != w.c1 {
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		unix.Kill(pid, unix.SIGKILL)
		w.thaw(pid)
		ReapKilled(pid)
	}
}

// thaw lets a killed pid die if a cgroup v1 freezer holds it
// (Attr.Unfreeze); it reports whether pid will die. It is called for
// every pid killed, frozen or not, on purpose: a task woken by SIGKILL
// still passes try_to_freeze, at the top of get_signal, on its way to
// exit, so one found thawed could be frozen a moment later by a
// container that freezes its cgroup; moved out of the container's
// freezer cgroup, it cannot be. The move waits for a grace period, on
// an error path only.
func (w *waiter) thaw(pid int) bool {
	return w.unfreeze == nil || w.unfreeze(pid) == nil
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

// pollTick waits for fd to be readable for at most one tick; it reports
// whether it is.
func pollTick(fd int) (bool, error) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, int(tickInterval/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, os.NewSyscallError("poll", err)
		}
		return n > 0, nil
	}
}

// alive reports whether pid is a process that has not exited (a zombie
// has).
func alive(pid int) bool {
	st := procState(pid)
	return st != 0 && st != 'Z' && st != 'X'
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
// OursTracingStop reports whether pid, seen in a tracing stop ('t'), is
// held there by no one a container could be: a tracer that traces us too
// (strace -f of the runtime, from the host), whose stops are no attack,
// that tracer holding the runtime itself already, and no process of a
// container can trace us (we are not dumpable); or by no tracer at all
// any more (it let go, or pid went, between the two reads). Such stops
// last as long as it takes the tracer to print, or to delay a call it was
// told to (delay_enter), and a look may land in one. A tracer of the
// container's own is another pid: the stop counts.
func OursTracingStop(pid int) bool {
	t, ok := tracerPid(strconv.Itoa(pid))
	if !ok || t == 0 {
		return true
	}
	ours, ok := tracerPid("self")
	return ok && t == ours
}

// tracerPid reads TracerPid from /proc/PID/status (0: not traced).
func tracerPid(pid string) (int, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, false
	}
	_, rest, ok := bytes.Cut(b, []byte("\nTracerPid:"))
	if !ok {
		return 0, false
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	n, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	return n, err == nil
}

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
	// The handlers sigcatch installed are ours, not the child's: reset
	// before the runtime unblocks signals (its own it resets itself).
	sigcatch.ResetInChild()
	runtime_AfterForkInChild()
	childMain(a)
	return 0, 0 // not reached
}
