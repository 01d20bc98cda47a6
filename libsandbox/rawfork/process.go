package rawfork

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/procattr"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/caps"
)

// Process is the user's process that the child becomes (exec into a
// container). Everything runc's init does in Go inside the container is
// done here by the first child, with raw system calls over what prepare
// laid out, before the grandchild exists: see the package comment for
// why.
type Process struct {
	// On the host, before any namespace is joined (so through the
	// host's /proc, which the container cannot fake: CVE-2019-16884):

	// (Attr.OOMScoreAdj too.)
	// Labels are written to /proc/thread-self/attr/... for the coming
	// execve (AppArmor profile, SELinux label).
	Labels []Label

	// In the container's namespaces:

	// HugePagesOn turns transparent huge pages back on (the caller had
	// them on; the runtime turns them off for its own children).
	HugePagesOn bool
	Rlimits     []Rlimit
	// Terminal makes a pty from the container's /dev/ptmx, its peer the
	// process's stdio and controlling terminal (owned by UID/GID), and
	// sends the master back in Result.Console.
	Terminal bool
	// Cwd is entered as root first (runc: a directory root can enter and
	// the user cannot is still the user's cwd), and as the user only if
	// root may not; resolved in the container's root without magic
	// links (CVE-2024-21626).
	Cwd    string
	UID    uint32
	GID    uint32
	Groups []uint32
	Caps   caps.Sets
	// LastCap is the highest capability number of the kernel.
	LastCap    int
	NoNewPrivs bool
	// Filter is the seccomp program (already checked, one
	// instruction per element) and FilterFlags its flags.
	Filter      []unix.SockFilter
	FilterFlags uint
	// FilterBeforeFork: load the filter in the first child, before the
	// grandchild exists, rather than in the grandchild just before its
	// execve. Needed when a process of the container may attach to the
	// grandchild (no user namespace of its own, and CAP_SYS_PTRACE within
	// reach: see libsandbox's ptraceThreat), which could otherwise run
	// unfiltered system calls in it; the filter must then allow clone,
	// setsid, ioctl (with a terminal) and, without no_new_privs, capset.
	// Otherwise the grandchild loads it after its setsid and ioctl, and
	// the filter need allow nothing of ours but execve (and sendmsg with
	// SCMP_ACT_NOTIFY), as for create's init.
	FilterBeforeFork bool
	// Notify: the filter has SCMP_ACT_NOTIFY rules (FilterFlags has
	// SECCOMP_FILTER_FLAG_NEW_LISTENER): the listener fd the load
	// returns comes back in Result.Notify, for the caller to hand to the
	// user's agent.
	Notify bool
	// Paths are the candidates for the program, tried in order like
	// execvp(3): ENOENT, ENOTDIR and EACCES go on to the next one.
	Paths []string

	// Per-task attributes (internal/procattr has the values), set by
	// the first child while it is still root with every capability, as
	// runc's setns init sets them before finalizeNamespace, and
	// inherited by the process at fork: Sched (process.scheduler), if
	// set; IOPrio (process.ioPriority), unless 0 (IOPRIO_CLASS_NONE,
	// which no spec value gives); Persona (linux.personality) if
	// SetPersona; Mempolicy (linux.memoryPolicy), if set.
	Sched      *unix.SchedAttr
	IOPrio     int
	SetPersona bool
	Persona    int
	Mempolicy  *procattr.Mempolicy
	// InitialCPUs and FinalCPUs are process.execCPUAffinity as CPU
	// masks (nil: not given). The first child runs on InitialCPUs from
	// its first instruction, before it joins anything; the process gets
	// FinalCPUs. With neither, the process gets every CPU its cgroup
	// allows; with InitialCPUs alone it keeps those (runc's
	// setFinalCPUAffinity).
	InitialCPUs []uint64
	FinalCPUs   []uint64
}

// Label is one write to a /proc attribute file: the first of Paths that
// opens gets Value.
type Label struct {
	Paths []string
	Value string
}

// Rlimit is one setrlimit.
type Rlimit struct {
	Resource int
	Cur, Max uint64
}

// procArgs is Process laid out for the child: byte strings, fixed
// structures and scratch space, so that the child allocates nothing.
type procArgs struct {
	labels []labelArgs

	hugePagesOn bool
	rlimits     []rlimitArgs
	// allCPUs is a CPU mask with every bit set: see resetAffinity.
	allCPUs [128]uint64

	terminal bool
	ptmx     *byte
	howTTY   unix.OpenHow
	master   int
	slave    int
	stat     unix.Stat_t
	termios  unix.Termios
	zero     int32
	iov      unix.Iovec
	msg      unix.Msghdr
	oob      []byte

	cwd      *byte
	howCwd   unix.OpenHow
	cwdFd    int
	cwdLater bool

	bounding uint64
	lastCap  int
	groups   []uint32 // one spare element: &groups[0] always exists
	ngroups  int
	uid, gid uintptr
	capHdr   unix.CapUserHeader
	capData  [2]unix.CapUserData
	ambient  uint64
	nnp      bool

	// With neither no_new_privs nor CAP_SYS_ADMIN among the process's
	// capabilities, loading the filter needs a CAP_SYS_ADMIN the user's
	// process must not have: capAdmin is capData plus CAP_SYS_ADMIN
	// (early). Loaded by the first child (inC1), it is dropped right
	// after the load, before the grandchild exists. Loaded by the
	// grandchild, it is kept up to the execve, which drops it (it is in
	// neither the bounding, inheritable nor ambient set), so the filter
	// need not allow capset; no process of the container can attach to
	// the grandchild then (that is when it loads the filter itself).
	hasFilter bool
	notify    bool
	listener  int  // the seccomp listener, once the filter is loaded
	inC1      bool // the first child loads it (FilterBeforeFork)
	early     bool
	capAdmin  [2]unix.CapUserData
	filter    []unix.SockFilter
	fprog     unix.SockFprog
	fflags    uintptr

	paths   []*byte
	bestErr syscall.Errno
	bestIdx int

	// See Process.Sched... and setProcAttrs.
	hasSched bool
	sched    unix.SchedAttr
	// schedAgain: the grandchild sets schedFull itself (see prepare).
	schedAgain  bool
	schedFull   unix.SchedAttr
	ioprio      int // 0: none
	persona     int // -1: none
	hasMpol     bool
	mpolMode    uintptr
	mpolNodes   []uint64
	mpolMax     uintptr
	initialCPUs []uint64
	finalCPUs   []uint64
}

type labelArgs struct {
	paths []*byte
	val   []byte
	fd    int
}

type rlimitArgs struct {
	res uintptr
	lim unix.Rlimit
}

const capSysAdmin = 21

func prepareProcess(p *Process) (*procArgs, error) {
	var err error
	a := &procArgs{master: -1, slave: -1, cwdFd: -1, listener: -1, lastCap: p.LastCap, nnp: p.NoNewPrivs, hugePagesOn: p.HugePagesOn, terminal: p.Terminal,
		ioprio: p.IOPrio, persona: -1, initialCPUs: p.InitialCPUs, finalCPUs: p.FinalCPUs}
	if p.SetPersona {
		a.persona = p.Persona
	}
	if p.Sched != nil {
		a.hasSched, a.sched, a.schedFull = true, *p.Sched, *p.Sched
	}
	if m := p.Mempolicy; m != nil {
		a.hasMpol, a.mpolMode, a.mpolNodes, a.mpolMax = true, uintptr(m.Mode), m.Nodes, uintptr(m.MaxNode)
	}
	for _, l := range p.Labels {
		la := labelArgs{val: []byte(l.Value), fd: -1}
		if len(la.val) == 0 {
			continue
		}
		for _, path := range l.Paths {
			b, err := syscall.BytePtrFromString(path)
			if err != nil {
				return nil, err
			}
			la.paths = append(la.paths, b)
		}
		a.labels = append(a.labels, la)
	}
	for i := range a.allCPUs {
		a.allCPUs[i] = ^uint64(0)
	}
	for _, r := range p.Rlimits {
		a.rlimits = append(a.rlimits, rlimitArgs{res: uintptr(r.Resource), lim: unix.Rlimit{Cur: r.Cur, Max: r.Max}})
	}
	if p.Terminal || p.Notify {
		// One SCM_RIGHTS message each for the pty master and the
		// seccomp listener (sendFd).
		a.oob = unix.UnixRights(0)
		a.msg.Control = &a.oob[0]
		a.msg.SetControllen(len(a.oob))
		a.msg.Iov = &a.iov
		a.msg.Iovlen = 1
	}
	if p.Terminal {
		a.ptmx, _ = syscall.BytePtrFromString("/dev/ptmx")
		// O_NONBLOCK: whatever the container put at /dev/ptmx, the open
		// cannot wait (a tty that waits for carrier); the master is made
		// blocking again once it is known to be one.
		a.howTTY = unix.OpenHow{
			Flags:   unix.O_RDWR | unix.O_NOCTTY | unix.O_CLOEXEC | unix.O_NONBLOCK,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		}
	}
	if p.Cwd != "" {
		if a.cwd, err = syscall.BytePtrFromString("/" + strings.TrimPrefix(p.Cwd, "/")); err != nil {
			return nil, fmt.Errorf("process.cwd: %w", err)
		}
		a.howCwd = unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		}
	}
	a.bounding = uint64(p.Caps.Bounding)
	a.groups = append(append([]uint32(nil), p.Groups...), 0)
	a.ngroups = len(p.Groups)
	a.uid, a.gid = uintptr(p.UID), uintptr(p.GID)
	a.capHdr = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	for i := 0; i < 2; i++ {
		a.capData[i].Effective = uint32(p.Caps.Effective >> (32 * i))
		a.capData[i].Permitted = uint32(p.Caps.Permitted >> (32 * i))
		a.capData[i].Inheritable = uint32(p.Caps.Inheritable >> (32 * i))
	}
	a.ambient = uint64(p.Caps.Ambient)
	if len(p.Filter) > 0 {
		if len(p.Filter) > 0xffff {
			return nil, errors.New("linux.seccomp: oversized filter")
		}
		a.hasFilter = true
		a.filter = p.Filter
		a.fprog = unix.SockFprog{Len: uint16(len(p.Filter)), Filter: &a.filter[0]}
		a.fflags = uintptr(p.FilterFlags)
		a.notify = p.Notify
		a.inC1 = p.FilterBeforeFork
		if !p.NoNewPrivs && !p.Caps.Effective.Has(capSysAdmin) {
			a.early = true
			a.capAdmin = a.capData
			a.capAdmin[0].Effective |= 1 << capSysAdmin
			a.capAdmin[0].Permitted |= 1 << capSysAdmin
		}
	}
	if len(p.Paths) == 0 {
		return nil, errors.New("process.args: empty")
	}
	for _, path := range p.Paths {
		b, err := syscall.BytePtrFromString(path)
		if err != nil {
			return nil, fmt.Errorf("process.args[0]: %w", err)
		}
		a.paths = append(a.paths, b)
	}
	return a, nil
}
