package rawfork

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// childArgs is everything the child touches, prepared before the fork so
// that the child allocates nothing.
type childArgs struct {
	ppid      uintptr // our pid: the first child checks it still has us
	nsfd      []int
	nstype    []int
	retry     []bool // scratch: setns to retry after the user namespace
	userIdx   int    // index of the user namespace in nsfd, or -1
	unshare   uintptr
	wait      bool
	waitFd    int
	setid     bool
	forkAgain bool
	clone3    cloneArgs
	useClone3 bool
	tasks     []int  // Attr.CgroupTasks
	zero      []byte // "0", what is written to them
	files     []int
	exe       int   // -1 with a process, or to exec path
	path      *byte // Attr.Path
	dir       *byte // Attr.Dir, or nil
	setUmask  bool
	umask     uintptr
	oomPath   *byte // Attr.OOMScoreAdj: the path and the value
	oomVal    []byte
	empty     *byte
	argv      []*byte
	envv      []*byte
	// rep is the first child's report socket to us, trusted: the first
	// child closes it before it forks the grandchild. gcrep is the
	// grandchild's, for errors (and the seccomp listener) only: the
	// grandchild is visible in the container, and what it holds may be
	// stolen (see the package comment). out is the one report writes to.
	rep   int
	gcrep int
	out   int
	keep  [3]int // scratch: the fds layout keeps, sorted
	// Attr.SameRoot: checkRoot, what it must be, and statx's scratch.
	checkRoot bool
	root      FileID
	slash     *byte
	stx       unix.Statx_t
	rec       [recLen]byte
	p         *procArgs
}

func prepare(attr *Attr) (*childArgs, error) {
	empty, err := syscall.BytePtrFromString("")
	if err != nil {
		return nil, err
	}
	argv, err := syscall.SlicePtrFromStrings(attr.Argv)
	if err != nil {
		return nil, fmt.Errorf("rawfork: argv: %w", err)
	}
	envv, err := syscall.SlicePtrFromStrings(attr.Env)
	if err != nil {
		return nil, fmt.Errorf("rawfork: env: %w", err)
	}
	a := &childArgs{
		ppid:      uintptr(os.Getpid()),
		userIdx:   -1,
		unshare:   attr.Unshare,
		wait:      attr.Pause != nil,
		waitFd:    -1,
		setid:     attr.BecomeRoot,
		forkAgain: attr.ForkAgain,
		useClone3: attr.UseCgroupFD,
		tasks:     append([]int(nil), attr.CgroupTasks...),
		zero:      []byte("0"),
		files:     append([]int(nil), attr.Files...),
		exe:       attr.Exe,
		empty:     empty,
		argv:      argv,
		envv:      envv,
	}
	if attr.Process != nil {
		a.exe = -1
		if a.p, err = prepareProcess(attr.Process); err != nil {
			return nil, err
		}
		if a.p.terminal && len(a.files) < 3 {
			return nil, errors.New("rawfork: a terminal needs stdio in Files")
		}
		if err := a.p.forkScheduler(a.forkAgain); err != nil {
			return nil, err
		}
	}
	for i, ns := range attr.Namespaces {
		if ns.Type == unix.CLONE_NEWUSER {
			if a.userIdx >= 0 {
				return nil, errors.New("rawfork: two user namespaces")
			}
			a.userIdx = i
		}
		a.nsfd = append(a.nsfd, ns.Fd)
		a.nstype = append(a.nstype, ns.Type)
	}
	a.retry = make([]bool, len(a.nsfd))
	if attr.OOMScoreAdj != "" {
		if a.oomPath, err = syscall.BytePtrFromString("/proc/self/oom_score_adj"); err != nil {
			return nil, err
		}
		a.oomVal = []byte(attr.OOMScoreAdj)
	}
	if attr.Umask != nil {
		a.setUmask, a.umask = true, uintptr(*attr.Umask)
	}
	if attr.Path != "" {
		if a.path, err = syscall.BytePtrFromString(attr.Path); err != nil {
			return nil, fmt.Errorf("rawfork: path: %w", err)
		}
	}
	if attr.Dir != "" {
		if a.dir, err = syscall.BytePtrFromString(attr.Dir); err != nil {
			return nil, fmt.Errorf("rawfork: dir: %w", err)
		}
	}
	if attr.SameRoot != nil {
		a.checkRoot, a.root = true, *attr.SameRoot
		if a.slash, err = syscall.BytePtrFromString("/"); err != nil {
			return nil, err
		}
	}
	if a.useClone3 {
		a.clone3 = cloneArgs{
			flags:      unix.CLONE_INTO_CGROUP,
			exitSignal: uint64(unix.SIGCHLD),
			cgroup:     uint64(attr.CgroupFD),
		}
	}
	return a, nil
}

// atFdcwd is AT_FDCWD (-100) as a system call argument.
const atFdcwd = ^uintptr(99)

// report sends one record; it must not allocate.
//
//go:norace
//go:nosplit
func report(a *childArgs, kind, v1, v2, v3 uint32) {
	put32(a.rec[0:4], kind)
	put32(a.rec[4:8], v1)
	put32(a.rec[8:12], v2)
	put32(a.rec[12:16], v3)
	syscall.RawSyscall(syscall.SYS_WRITE, uintptr(a.out), uintptr(unsafe.Pointer(&a.rec[0])), recLen)
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
func exit(code uintptr) {
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, code, 0, 0)
	}
}

//go:norace
//go:nosplit
func fail(a *childArgs, stage uint32, e syscall.Errno, idx int) {
	report(a, recError, stage, uint32(e), uint32(idx))
	exit(253)
}

//go:norace
//go:nosplit
func prctl(op, arg uintptr) syscall.Errno {
	_, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, op, arg, 0, 0, 0, 0)
	return e
}

//go:norace
//go:nosplit
func setns(fd, typ int) syscall.Errno {
	_, _, e := syscall.RawSyscall(unix.SYS_SETNS, uintptr(fd), uintptr(typ), 0)
	return e
}

// forkScheduler fits the scheduler to a first child that forks the
// process (ForkAgain). A SCHED_DEADLINE task cannot fork (sched_fork:
// EAGAIN), and a fork resets a task with SCHED_FLAG_RESET_ON_FORK to
// SCHED_OTHER, nice 0 or above; the process, which must not hold
// CAP_SYS_NICE unless it is the user's, could not raise it again. So the
// first child sets the policy without that flag and the process adds the
// flag itself (sched_setattr(2) lets any task set it, with its policy and
// priority unchanged); SCHED_DEADLINE for a process in a pid namespace is
// refused, naming the field.
func (p *procArgs) forkScheduler(forkAgain bool) error {
	if !p.hasSched || !forkAgain {
		return nil
	}
	if p.sched.Policy == 6 {
		return errors.New("process.scheduler: SCHED_DEADLINE cannot be given to a process exec'd into a container with a pid namespace: the runtime forks it into the namespace, and a deadline task cannot fork")
	}
	if p.sched.Flags&unix.SCHED_FLAG_RESET_ON_FORK != 0 {
		p.sched.Flags &^= unix.SCHED_FLAG_RESET_ON_FORK
		p.schedAgain = true
	}
	return nil
}

// childMain runs in the forked child. Everything it uses was allocated by
// Start; it calls only nosplit functions and raw system calls. The order
// of the steps is the security argument of the package comment.
//
//go:norace
//go:nosplit
func childMain(a *childArgs) {
	protect(a)
	if a.oomPath != nil {
		// Through our /proc: nothing is joined yet, so the container
		// cannot stand in for it (CVE-2019-16884; hostWrites).
		var e syscall.Errno
		if e = writeFile(a.oomPath, a.oomVal); e != 0 {
			fail(a, stageOOM, e, 0)
		}
	}
	if a.p != nil {
		if a.p.initialCPUs != nil {
			setAffinity(a, a.p.initialCPUs, stageAffinityInitial)
		}
		hostWrites(a)
	}
	if len(a.tasks) > 0 {
		// After the initial affinity (the spec's order: "before the
		// transition to container's cgroup"), before any join.
		enterCgroups(a)
	}
	joinAll(a)
	// setns into a user namespace that another uid made is a change of
	// credentials that clears our parent-death signal and resets
	// dumpable to fs.suid_dumpable (commit_creds; libsandbox's
	// checkSuidDumpable says when that is refused): protect again.
	protect(a)
	if a.checkRoot {
		sameRoot(a)
	}
	if a.wait {
		pause(a)
	}
	if a.dir != nil {
		chdir(a)
	}
	if a.setUmask {
		syscall.RawSyscall(syscall.SYS_UMASK, a.umask, 0, 0)
	}
	if a.p != nil {
		setupProcess(a)
	}
	if a.setid {
		becomeRoot(a)
		// setresuid changed our euid (host root to the user
		// namespace's root), and commit_creds (kernel/cred.c) then
		// clears the parent-death signal and resets dumpable to
		// fs.suid_dumpable (1 on some hosts): protect again, and see
		// that we were not orphaned meanwhile.
		protect(a)
	}
	layout(a)
	if a.forkAgain {
		forkAgain(a)
	}
	if a.p != nil {
		execProcess(a)
	}
	execExe(a)
}

// protect makes the first child non-dumpable before it joins anything
// (ptrace, /proc/PID/fd and /proc/PID/mem need CAP_SYS_PTRACE over the
// owner of its memory then) and ties its life to ours: a runtime killed
// mid-way leaves no child going on alone with our fds.
//
//go:norace
//go:nosplit
func protect(a *childArgs) {
	var (
		e  syscall.Errno
		r1 uintptr
	)
	if e = prctl(unix.PR_SET_DUMPABLE, 0); e != 0 {
		fail(a, stageDumpable, e, 0)
	}
	prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL))
	r1, _, _ = syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	if r1 != a.ppid {
		exit(253)
	}
}

// writeFile opens path (relative to the cwd, which is ours: the host's)
// and writes val; it returns the errno.
//
//go:norace
//go:nosplit
func writeFile(path *byte, val []byte) syscall.Errno {
	var (
		r1 uintptr
		e  syscall.Errno
		fd uintptr
	)
	r1, _, e = syscall.RawSyscall6(syscall.SYS_OPENAT, atFdcwd, uintptr(unsafe.Pointer(path)), uintptr(unix.O_WRONLY|unix.O_CLOEXEC), 0, 0, 0)
	if e != 0 {
		return e
	}
	fd = r1
	_, _, e = syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&val[0])), uintptr(len(val)))
	syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
	return e
}

// hostWrites does what must go through the host's /proc: we have joined
// nothing yet, so /proc/self is ours and the container cannot stand in
// for it (CVE-2019-16884).
//
//go:norace
//go:nosplit
func hostWrites(a *childArgs) {
	var (
		i, j int
		e    syscall.Errno
	)
	p := a.p
	for i = 0; i < len(p.labels); i++ {
		e = syscall.ENOENT
		for j = 0; j < len(p.labels[i].paths) && e == syscall.ENOENT; j++ {
			e = writeFile(p.labels[i].paths[j], p.labels[i].val)
		}
		if e != 0 {
			fail(a, stageLabel, e, i)
		}
	}
}

// enterCgroups moves us into the cgroups of Attr.CgroupTasks: "0" is
// the writer itself (see CgroupTasks).
//
//go:norace
//go:nosplit
func enterCgroups(a *childArgs) {
	var (
		i int
		e syscall.Errno
	)
	for i = 0; i < len(a.tasks); i++ {
		for {
			_, _, e = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(a.tasks[i]), uintptr(unsafe.Pointer(&a.zero[0])), 1)
			if e != syscall.EINTR {
				break
			}
		}
		if e != 0 {
			fail(a, stageCgroup, e, i)
		}
	}
}

// joinAll joins the namespaces, the user namespace last (see Attr), and
// unshares.
//
//go:norace
//go:nosplit
func joinAll(a *childArgs) {
	var (
		i int
		e syscall.Errno
	)
	// Pass 1: every namespace but the user one. EPERM may mean the
	// namespace is owned by the user namespace not joined yet: it is
	// retried after that one.
	for i = 0; i < len(a.nsfd); i++ {
		if i == a.userIdx {
			continue
		}
		e = setns(a.nsfd[i], a.nstype[i])
		if e == syscall.EPERM && a.userIdx >= 0 {
			a.retry[i] = true
			continue
		}
		if e != 0 {
			fail(a, stageSetns, e, i)
		}
	}
	if a.userIdx >= 0 {
		if e = setns(a.nsfd[a.userIdx], a.nstype[a.userIdx]); e != 0 {
			fail(a, stageSetns, e, a.userIdx)
		}
		for i = 0; i < len(a.nsfd); i++ {
			if a.retry[i] {
				if e = setns(a.nsfd[i], a.nstype[i]); e != 0 {
					fail(a, stageSetns, e, i)
				}
			}
		}
	}
	// Namespaces made by unshare belong to the user namespace we are
	// in now.
	if a.unshare != 0 {
		if _, _, e = syscall.RawSyscall(syscall.SYS_UNSHARE, a.unshare, 0, 0); e != 0 {
			fail(a, stageUnshare, e, 0)
		}
	}
}

// sameRoot fails unless our root directory is a.root (Attr.SameRoot).
// "/" is resolved from the root setns gave us, whatever is mounted in
// the tree: no /proc, no path a process of the namespace controls.
//
//go:norace
//go:nosplit
func sameRoot(a *childArgs) {
	_, _, e := syscall.RawSyscall6(unix.SYS_STATX, atFdcwd, uintptr(unsafe.Pointer(a.slash)), 0, unix.STATX_INO, uintptr(unsafe.Pointer(&a.stx)), 0)
	if e != 0 {
		fail(a, stageRoot, e, 0)
	}
	if a.stx.Dev_major != a.root.DevMajor || a.stx.Dev_minor != a.root.DevMinor || a.stx.Ino != a.root.Ino {
		fail(a, stageRoot, syscall.EXDEV, 0)
	}
}

// pause tells the parent we have joined and unshared, and waits for its
// byte (Attr.Pause).
//
//go:norace
//go:nosplit
func pause(a *childArgs) {
	var (
		r1 uintptr
		e  syscall.Errno
	)
	report(a, recPaused, 0, 0, 0)
	r1, _, e = syscall.RawSyscall(syscall.SYS_READ, uintptr(a.waitFd), uintptr(unsafe.Pointer(&a.rec[0])), 1)
	if e != 0 {
		fail(a, stageWait, e, 0)
	}
	if r1 != 1 {
		// The parent gave up; it has its own error to report.
		exit(253)
	}
}

// setupProcess makes the first child the user's process but for the
// exec: everything privileged happens here, where no process of the
// container can reach us.
//
//go:norace
//go:nosplit
func setupProcess(a *childArgs) {
	var (
		i int
		e syscall.Errno
	)
	p := a.p
	if p.hugePagesOn {
		if e = prctl(unix.PR_SET_THP_DISABLE, 0); e != 0 {
			fail(a, stageHugePages, e, 0)
		}
	}
	// process.execCPUAffinity.final if given; else the initial one
	// stays; else every CPU the cgroup allows, not the caller's affinity
	// (runc 1.4+'s tryResetCPUAffinity and setFinalCPUAffinity): the
	// kernel clamps the mask to the CPUs there are and to the cgroup's
	// cpuset, and keeps the rest in case the cpuset grows. We are in the
	// cgroup by now. A failure of the reset is harmless: the process
	// keeps the caller's affinity.
	if p.finalCPUs != nil {
		setAffinity(a, p.finalCPUs, stageAffinityFinal)
	} else if p.initialCPUs == nil {
		syscall.RawSyscall(unix.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(p.allCPUs), uintptr(unsafe.Pointer(&p.allCPUs[0])))
	}
	for i = 0; i < len(p.rlimits); i++ {
		if _, _, e = syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, p.rlimits[i].res, uintptr(unsafe.Pointer(&p.rlimits[i].lim)), 0, 0, 0); e != 0 {
			fail(a, stageRlimit, e, i)
		}
	}
	setProcAttrs(a)
	if p.terminal {
		openConsole(a)
	}
	fixStdioOwner(a)
	if p.cwd != nil {
		enterCwd(a)
	}
	setCreds(a)
	if p.cwdLater {
		if _, _, e = syscall.RawSyscall(syscall.SYS_FCHDIR, uintptr(p.cwdFd), 0, 0); e != 0 {
			fail(a, stageChdir, e, 0)
		}
	}
	if p.cwdFd >= 0 {
		syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(p.cwdFd), 0, 0)
		p.cwdFd = -1
	}
	setCaps(a)
	if p.nnp {
		if e = prctl(unix.PR_SET_NO_NEW_PRIVS, 1); e != 0 {
			fail(a, stageNoNewPrivs, e, 0)
		}
	}
	// setCreds protected us again right after the change of ids (which
	// resets the dumpable flag to fs.suid_dumpable and clears the
	// parent-death signal: commit_creds); once more after the
	// capabilities and no_new_privs, so that what the grandchild
	// inherits is certain: 0.
	protect(a)
}

// setAffinity sets this process's CPU affinity to mask (non-empty); a
// failure is the stage's error (EINVAL: no CPU of the mask is online or
// in the cgroup's cpuset).
//
//go:norace
//go:nosplit
func setAffinity(a *childArgs, mask []uint64, stage uint32) {
	var e syscall.Errno
	if _, _, e = syscall.RawSyscall(unix.SYS_SCHED_SETAFFINITY, 0, uintptr(len(mask))*8, uintptr(unsafe.Pointer(&mask[0]))); e != 0 {
		fail(a, stage, e, 0)
	}
}

// setProcAttrs sets the per-task attributes of Process (Sched...) while
// we are still root with every capability: a real-time policy and the RT
// I/O class need CAP_SYS_NICE, which is the config's to give, as under
// runc. The process inherits each at fork (the scheduler: see
// forkScheduler), and execve keeps them. ioprio_set: IOPRIO_WHO_PROCESS,
// see procattr.IOPrioWhoProcess.
//
//go:norace
//go:nosplit
func setProcAttrs(a *childArgs) {
	var e syscall.Errno
	p := a.p
	if p.hasSched {
		if _, _, e = syscall.RawSyscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(&p.sched)), 0); e != 0 {
			fail(a, stageScheduler, e, 0)
		}
	}
	if p.ioprio != 0 {
		if _, _, e = syscall.RawSyscall(unix.SYS_IOPRIO_SET, 1, 0, uintptr(p.ioprio)); e != 0 {
			fail(a, stageIOPriority, e, 0)
		}
	}
	if p.persona >= 0 {
		if _, _, e = syscall.RawSyscall(unix.SYS_PERSONALITY, uintptr(p.persona), 0, 0); e != 0 {
			fail(a, stagePersonality, e, 0)
		}
	}
	if p.hasMpol {
		if len(p.mpolNodes) > 0 {
			_, _, e = syscall.RawSyscall(unix.SYS_SET_MEMPOLICY, p.mpolMode, uintptr(unsafe.Pointer(&p.mpolNodes[0])), p.mpolMax)
		} else {
			_, _, e = syscall.RawSyscall(unix.SYS_SET_MEMPOLICY, p.mpolMode, 0, 0)
		}
		if e != 0 {
			fail(a, stageMemoryPolicy, e, 0)
		}
	}
}

// openConsole makes the pty in the container's devpts: /dev/ptmx resolved
// in the container's root (we have joined its mount namespace, whose root
// is our root and cwd), and checked to be a ptmx before it is used; the
// peer becomes stdio and is given to the user; the master goes to the
// parent.
//
//go:norace
//go:nosplit
func openConsole(a *childArgs) {
	var (
		r1 uintptr
		e  syscall.Errno
		i  int
	)
	p := a.p
	r1, _, e = syscall.RawSyscall6(unix.SYS_OPENAT2, atFdcwd, uintptr(unsafe.Pointer(p.ptmx)), uintptr(unsafe.Pointer(&p.howTTY)), unsafe.Sizeof(p.howTTY), 0, 0)
	if e != 0 {
		fail(a, stageConsole, e, 0)
	}
	p.master = int(r1)
	if _, _, e = syscall.RawSyscall(syscall.SYS_FSTAT, uintptr(p.master), uintptr(unsafe.Pointer(&p.stat)), 0); e != 0 {
		fail(a, stageConsole, e, 1)
	}
	// /dev/ptmx and devpts's own ptmx are both char 5:2.
	if p.stat.Mode&syscall.S_IFMT != syscall.S_IFCHR || p.stat.Rdev != 5<<8|2 {
		fail(a, stageConsole, syscall.ENOTTY, 1)
	}
	if _, _, e = syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(p.master), syscall.F_SETFL, 0); e != 0 {
		fail(a, stageConsole, e, 2)
	}
	p.zero = 0
	if _, _, e = syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(p.master), uintptr(unix.TIOCSPTLCK), uintptr(unsafe.Pointer(&p.zero))); e != 0 {
		fail(a, stageConsole, e, 3)
	}
	// TIOCGPTPEER opens the peer of exactly this master, with no path
	// lookup the container could race.
	r1, _, e = syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(p.master), uintptr(unix.TIOCGPTPEER), uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if e != 0 {
		fail(a, stageConsole, e, 4)
	}
	p.slave = int(r1)
	// No NL -> CR NL mapping on our side of the pty, as runc: the
	// caller's terminal (or client) maps line ends itself, and with both
	// every line would end in "\r\r\n".
	if _, _, e = syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(p.slave), uintptr(unix.TCGETS), uintptr(unsafe.Pointer(&p.termios))); e != 0 {
		fail(a, stageConsole, e, 5)
	}
	p.termios.Oflag &^= unix.ONLCR
	if _, _, e = syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(p.slave), uintptr(unix.TCSETS), uintptr(unsafe.Pointer(&p.termios))); e != 0 {
		fail(a, stageConsole, e, 5)
	}
	if e = sendFd(a, recConsole, p.master); e != 0 {
		fail(a, stageConsole, e, 6)
	}
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(p.master), 0, 0)
	p.master = -1
	for i = 0; i < 3; i++ {
		a.files[i] = p.slave
	}
}

// fixStdioOwner gives the process's stdio to its user, as runc's
// fixStdioPermissions does, so that `tty` and /dev/stdout reopened by
// name work for a user other than root: the pty we made, and pipes and
// sockets (a client's: conmon's, containerd's shim's). Never a terminal
// or a file of the caller's, which would hand a host object to the
// container's user (runc chows anything but /dev/null; we do not). The
// group stays (a pty's is tty), and a refusal (an owner or group not
// mapped in the user namespace) is not an error, as in runc.
//
//go:norace
//go:nosplit
func fixStdioOwner(a *childArgs) {
	var (
		i    int
		kind uint32
	)
	p := a.p
	for i = 0; i < 3; i++ {
		if a.files[i] < 0 {
			continue
		}
		if _, _, e := syscall.RawSyscall(syscall.SYS_FSTAT, uintptr(a.files[i]), uintptr(unsafe.Pointer(&p.stat)), 0); e != 0 {
			continue
		}
		kind = p.stat.Mode & syscall.S_IFMT
		if uintptr(p.stat.Uid) == p.uid || !(kind == syscall.S_IFIFO || kind == syscall.S_IFSOCK || (p.terminal && a.files[i] == p.slave)) {
			continue
		}
		syscall.RawSyscall(syscall.SYS_FCHOWN, uintptr(a.files[i]), p.uid, ^uintptr(0))
	}
}

// sendFd sends a record of kind with fd attached (SCM_RIGHTS).
//
//go:norace
//go:nosplit
func sendFd(a *childArgs, kind uint32, fd int) syscall.Errno {
	p := a.p
	p.iov.Base = &a.rec[0]
	p.iov.SetLen(recLen)
	*(*int32)(unsafe.Pointer(&p.oob[unix.CmsgLen(0)])) = int32(fd)
	put32(a.rec[0:4], kind)
	put32(a.rec[4:8], 0)
	put32(a.rec[8:12], 0)
	put32(a.rec[12:16], 0)
	_, _, e := syscall.RawSyscall(syscall.SYS_SENDMSG, uintptr(a.out), uintptr(unsafe.Pointer(&p.msg)), 0)
	return e
}

// loadFilter loads the seccomp filter; with SCMP_ACT_NOTIFY rules the
// listener fd it returns (close-on-exec: the kernel makes it so) goes to
// the parent, which hands it to the user's agent: the user's process
// never holds it (it could answer its own notifications). The filter
// must allow sendmsg then, which Compile checks.
//
//go:norace
//go:nosplit
func loadFilter(a *childArgs) {
	var (
		r1 uintptr
		e  syscall.Errno
	)
	p := a.p
	if r1, _, e = syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, p.fflags, uintptr(unsafe.Pointer(&p.fprog))); e != 0 {
		fail(a, stageSeccomp, e, 0)
	}
	if p.notify {
		// Sent by the process that execs (execProcess): it has the
		// listener from us (close-on-exec, so its program never does).
		p.listener = int(r1)
	}
}

// enterCwd opens the cwd inside the container's root and enters it as
// root; if root may not (EACCES, EPERM: a directory only its user may
// search, say on NFS), setupProcess enters it after the ids change.
//
//go:norace
//go:nosplit
func enterCwd(a *childArgs) {
	var (
		r1 uintptr
		e  syscall.Errno
	)
	p := a.p
	r1, _, e = syscall.RawSyscall6(unix.SYS_OPENAT2, atFdcwd, uintptr(unsafe.Pointer(p.cwd)), uintptr(unsafe.Pointer(&p.howCwd)), unsafe.Sizeof(p.howCwd), 0, 0)
	if e != 0 {
		fail(a, stageCwd, e, 0)
	}
	p.cwdFd = int(r1)
	_, _, e = syscall.RawSyscall(syscall.SYS_FCHDIR, uintptr(p.cwdFd), 0, 0)
	if e == syscall.EACCES || e == syscall.EPERM {
		p.cwdLater = true
	} else if e != 0 {
		fail(a, stageChdir, e, 0)
	}
}

// setCreds drops the bounding set while we still have CAP_SETPCAP, then
// takes the user's groups and ids keeping the permitted set for setCaps.
// These calls change this thread only, which is the whole process here.
//
//go:norace
//go:nosplit
func setCreds(a *childArgs) {
	var (
		i int
		e syscall.Errno
	)
	p := a.p
	for i = 0; i <= p.lastCap; i++ {
		if p.bounding&(1<<uint(i)) != 0 {
			continue
		}
		if e = prctl(unix.PR_CAPBSET_DROP, uintptr(i)); e != 0 && e != syscall.EINVAL {
			fail(a, stageBounding, e, i)
		}
	}
	if e = prctl(unix.PR_SET_KEEPCAPS, 1); e != 0 {
		fail(a, stageKeepCaps, e, 0)
	}
	_, _, e = syscall.RawSyscall(syscall.SYS_SETGROUPS, uintptr(p.ngroups), uintptr(unsafe.Pointer(&p.groups[0])), 0)
	// In a user namespace whose setgroups is "deny", only an empty list
	// is refused harmlessly.
	if e != 0 && !(e == syscall.EPERM && p.ngroups == 0) {
		fail(a, stageSetgroups, e, 0)
	}
	if _, _, e = syscall.RawSyscall(syscall.SYS_SETRESGID, p.gid, p.gid, p.gid); e != 0 {
		fail(a, stageSetgid, e, 0)
	}
	if _, _, e = syscall.RawSyscall(syscall.SYS_SETRESUID, p.uid, p.uid, p.uid); e != 0 {
		fail(a, stageSetuid, e, 0)
	}
	// Now, while our permitted set is still whole (KEEPCAPS), not after
	// setCaps empties it: the new ids made us dumpable as
	// fs.suid_dumpable says, and a host process of the same uid and no
	// capabilities, which commoncap's subset rule stops only while we
	// hold more than it, would find us (a review took our fds so in the
	// gap).
	protect(a)
	if e = prctl(unix.PR_SET_KEEPCAPS, 0); e != 0 {
		fail(a, stageKeepCaps, e, 0)
	}
}

// setCaps sets the effective, permitted and inheritable sets (plus
// CAP_SYS_ADMIN for an early filter, see procArgs) and raises the ambient
// ones; one that cannot be raised is a warning, as runc and crun have it.
//
//go:norace
//go:nosplit
func setCaps(a *childArgs) {
	var (
		i int
		e syscall.Errno
	)
	p := a.p
	if p.early {
		_, _, e = syscall.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&p.capHdr)), uintptr(unsafe.Pointer(&p.capAdmin[0])), 0)
	} else {
		_, _, e = syscall.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&p.capHdr)), uintptr(unsafe.Pointer(&p.capData[0])), 0)
	}
	if e != 0 {
		fail(a, stageCapset, e, 0)
	}
	if e = prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL); e != 0 && e != syscall.EINVAL {
		fail(a, stageAmbient, e, -1)
	}
	for i = 0; i <= p.lastCap; i++ {
		if p.ambient&(1<<uint(i)) == 0 {
			continue
		}
		_, _, e = syscall.RawSyscall6(syscall.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i), 0, 0, 0)
		if e != 0 {
			report(a, recWarn, stageAmbient, uint32(e), uint32(i))
		}
	}
}

// becomeRoot: see Attr.BecomeRoot.
//
//go:norace
//go:nosplit
func becomeRoot(a *childArgs) {
	var e syscall.Errno
	// setgroups may be denied in the user namespace
	// (/proc/PID/setgroups "deny"); that is not fatal.
	syscall.RawSyscall(syscall.SYS_SETGROUPS, 0, 0, 0)
	if _, _, e = syscall.RawSyscall(syscall.SYS_SETRESGID, 0, 0, 0); e != 0 {
		fail(a, stageSetid, e, 0)
	}
	if _, _, e = syscall.RawSyscall(syscall.SYS_SETRESUID, 0, 0, 0); e != 0 {
		fail(a, stageSetid, e, 0)
	}
}

// layout places Files at 0, 1, 2... and closes every other fd but the
// report sockets and the executable: the process that execs (visible in
// the container, if it is the grandchild) holds nothing else of ours.
//
//go:norace
//go:nosplit
func layout(a *childArgs) {
	var (
		i, j   int
		e      syscall.Errno
		nextfd int
		lo     int
	)
	// Move every fd we keep above all the targets first, so that placing
	// fd i never overwrites a source still to be placed (as the standard
	// library does). nextfd starts above every fd we know of.
	nextfd = len(a.files)
	for i = 0; i < len(a.files); i++ {
		if a.files[i] >= nextfd {
			nextfd = a.files[i] + 1
		}
	}
	a.keep[0], a.keep[1], a.keep[2] = a.rep, a.gcrep, a.exe
	for i = 0; i < 3; i++ {
		if a.keep[i] >= nextfd {
			nextfd = a.keep[i] + 1
		}
	}
	for i = 0; i < 3; i++ {
		if a.keep[i] >= 0 && a.keep[i] < len(a.files) {
			if _, _, e = syscall.RawSyscall(syscall.SYS_DUP3, uintptr(a.keep[i]), uintptr(nextfd), syscall.O_CLOEXEC); e != 0 {
				fail(a, stageDup, e, -1)
			}
			a.keep[i] = nextfd
			nextfd++
		}
	}
	a.rep, a.gcrep, a.exe = a.keep[0], a.keep[1], a.keep[2]
	a.out = a.rep
	for i = 0; i < len(a.files); i++ {
		if a.files[i] >= 0 && a.files[i] < len(a.files) {
			if _, _, e = syscall.RawSyscall(syscall.SYS_DUP3, uintptr(a.files[i]), uintptr(nextfd), syscall.O_CLOEXEC); e != 0 {
				fail(a, stageDup, e, i)
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
			fail(a, stageDup, e, i)
		}
	}
	// Close everything from len(files) up but the kept fds (all above
	// len(files) by now; -1 for those we do not have): sort them, then
	// close the gaps.
	for i = 1; i < 3; i++ {
		for j = i; j > 0 && a.keep[j] < a.keep[j-1]; j-- {
			a.keep[j], a.keep[j-1] = a.keep[j-1], a.keep[j]
		}
	}
	lo = len(a.files)
	for i = 0; i < 3; i++ {
		if a.keep[i] < 0 {
			continue
		}
		closeRange(a, lo, a.keep[i]-1)
		lo = a.keep[i] + 1
	}
	closeRange(a, lo, -1)
}

// closeRange closes [first, last] (last -1: to the end).
//
//go:norace
//go:nosplit
func closeRange(a *childArgs, first, last int) {
	var e syscall.Errno
	if last >= 0 && last < first {
		return
	}
	if _, _, e = syscall.RawSyscall(unix.SYS_CLOSE_RANGE, uintptr(first), uintptr(last), 0); e != 0 {
		fail(a, stageClose, e, first)
	}
}

// forkAgain forks the grandchild into the pid namespace we joined or
// made, which goes on to exec; we exit.
//
// Before the grandchild exists we close our trusted report socket: a
// process of the container may steal what the grandchild holds (with
// CAP_SYS_PTRACE over the host's user namespace, which is what it has
// without a user namespace of its own), and with that socket it could
// feed the parent anything. From here we report on the grandchild's
// socket, which the parent trusts for nothing but errors, and by our
// exit status; the parent learns the grandchild's pid from the kernel
// (our parent's /proc/.../children), not from us.
//
// When a process of the container may attach to the grandchild
// (Process.FilterBeforeFork), the seccomp filter is loaded here, before
// the fork: the grandchild is visible before its execve, and the
// attacker could otherwise run system calls in it unfiltered. Without
// no_new_privs the load needs CAP_SYS_ADMIN, which setCaps kept for it
// and which is dropped at once (procArgs.early). The filter must then
// allow what follows: capset (only then), clone, and in the grandchild
// setsid, ioctl (with a terminal), sendmsg (with SCMP_ACT_NOTIFY) and
// execve.
//
//go:norace
//go:nosplit
func forkAgain(a *childArgs) {
	var (
		r1 uintptr
		e  syscall.Errno
	)
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(a.rep), 0, 0)
	a.rep = -1
	a.out = a.gcrep
	if a.p != nil && a.p.hasFilter && a.p.inC1 {
		loadFilter(a)
		if a.p.early {
			if _, _, e = syscall.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&a.p.capHdr)), uintptr(unsafe.Pointer(&a.p.capData[0])), 0); e != 0 {
				fail(a, stageCapset, e, 1)
			}
		}
	}
	// With CLONE_PARENT the child's exit signal is ours (SIGCHLD): it is
	// the parent's child, reaped like any other.
	r1, _, e = syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(unix.CLONE_PARENT), 0, 0, 0, 0, 0)
	if e != 0 {
		fail(a, stageFork, e, 0)
	}
	if r1 != 0 {
		exit(0)
	}
}

// execProcess is the last step of the user's process: a session of its
// own (no process of the container may reach the caller's terminal:
// TIOCSTI needs it to be the controlling one, CVE-2016-10124), the
// console as controlling terminal, the seccomp listener to the parent
// (SCMP_ACT_NOTIFY), and execve of each candidate path in turn.
//
//go:norace
//go:nosplit
func execProcess(a *childArgs) {
	var (
		i int
		e syscall.Errno
	)
	p := a.p
	if _, _, e = syscall.RawSyscall(syscall.SYS_SETSID, 0, 0, 0); e != 0 {
		fail(a, stageSetsid, e, 0)
	}
	if p.schedAgain {
		// The flag the fork dropped (forkScheduler), before the
		// user's filter, which may not allow sched_setattr.
		if _, _, e = syscall.RawSyscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(&p.schedFull)), 0); e != 0 {
			fail(a, stageScheduler, e, 1)
		}
	}
	if p.terminal {
		if _, _, e = syscall.RawSyscall(syscall.SYS_IOCTL, 0, uintptr(syscall.TIOCSCTTY), 0); e != 0 {
			fail(a, stageCtty, e, 0)
		}
	}
	if p.hasFilter && !(p.inC1 && a.forkAgain) {
		// No process of the container can attach to us (see
		// Process.FilterBeforeFork), or we exec ourselves: the filter
		// comes last, as for create's init; an early CAP_SYS_ADMIN
		// goes at the execve.
		loadFilter(a)
	}
	if p.listener >= 0 {
		if e = sendFd(a, recNotify, p.listener); e != 0 {
			fail(a, stageSeccomp, e, 1)
		}
	}
	p.bestErr = 0
	p.bestIdx = 0
	for i = 0; i < len(p.paths); i++ {
		_, _, e = syscall.RawSyscall(syscall.SYS_EXECVE,
			uintptr(unsafe.Pointer(p.paths[i])),
			uintptr(unsafe.Pointer(&a.argv[0])),
			uintptr(unsafe.Pointer(&a.envv[0])))
		switch e {
		case syscall.ENOENT, syscall.ENOTDIR:
			if p.bestErr == 0 {
				p.bestErr, p.bestIdx = e, i
			}
		case syscall.EACCES:
			if p.bestErr != syscall.EACCES {
				p.bestErr, p.bestIdx = e, i
			}
		default:
			fail(a, stageExec, e, i)
		}
	}
	fail(a, stageExec, p.bestErr, p.bestIdx)
}

// execExe execs the runtime binary (create's init).
//
//go:norace
//go:nosplit
func execExe(a *childArgs) {
	var e syscall.Errno
	if a.exe < 0 {
		_, _, e = syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(a.path)),
			uintptr(unsafe.Pointer(&a.argv[0])), uintptr(unsafe.Pointer(&a.envv[0])))
		fail(a, stageExec, e, 0)
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_EXECVEAT, uintptr(a.exe),
		uintptr(unsafe.Pointer(a.empty)),
		uintptr(unsafe.Pointer(&a.argv[0])),
		uintptr(unsafe.Pointer(&a.envv[0])),
		unix.AT_EMPTY_PATH, 0)
	fail(a, stageExec, e, 0)
}

// chdir enters Attr.Dir, resolved in the mount namespace joined.
//
//go:norace
//go:nosplit
func chdir(a *childArgs) {
	var e syscall.Errno
	if _, _, e = syscall.RawSyscall(syscall.SYS_CHDIR, uintptr(unsafe.Pointer(a.dir)), 0, 0); e != 0 {
		fail(a, stageChdir, e, 0)
	}
}
