package libsandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu/rpc"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/hooks"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/intelrdt"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/osthread"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// Restore makes the container id from spec as Create does (the same
// checks, state directory and new cgroup with the spec's limits), but
// its processes are restored by CRIU from co.ImagePath instead of a new
// init's: the container is running when Restore returns. CRIU runs in
// the container's cgroup and puts what it restores there, reaching it
// through a yard of its clones (makeCgroupYard; checkPlacement checks
// where the processes went), and the restored init is our child
// (rst_sibling). The prestart and createRuntime hooks run once CRIU has
// made the namespaces, with the restored init's pid, as runc runs them;
// poststart hooks do not run (nothing is started). On any error nothing
// is left behind.
func Restore(root, id string, spec *specs.Spec, opts *CreateOpts, co *CriuOpts) (*NewContainer, error) {
	cr := &creation{root: root, id: id, spec: spec, opts: opts}
	rs := &restoration{creation: cr, co: co}
	defer cr.release()
	defer rs.close()
	if err := runSteps(id, rs.steps()); err != nil {
		return nil, err
	}
	return cr.created, nil
}

// RunRestore restores a container, as Run creates and starts one:
// detached, it returns 0 once the container runs; in the foreground it
// forwards our signals to the restored init, relays its terminal when
// there is no console socket, waits for it, deletes the container and
// returns its exit status.
func RunRestore(root, id string, spec *specs.Spec, opts *CreateOpts, co *CriuOpts) (int, error) {
	var q *sigQueue
	if opts.Foreground {
		q = catchSignals(true)
		opts.Interrupt = q.interrupt
	}
	nc, err := Restore(root, id, spec, opts, co)
	if err != nil {
		return 0, err
	}
	nc.Close()
	if !opts.Foreground {
		return 0, nil
	}
	status := waitForeground(nc.Init, nc.Console, q)
	if c, err := Load(root, id); err == nil {
		if err := c.Destroy(true); err != nil {
			logrus.Warnf("delete %s: %v", id, err)
		}
		c.Close()
	}
	return status, nil
}

// restoration is one Restore on its way: a creation whose init is
// CRIU's.
type restoration struct {
	*creation
	co *CriuOpts

	mode    rpc.CriuCgMode
	emptyNs uint32
	images  *os.File
	work    *os.File
	logDir  string
	// stdio is descriptors.json: init's fds 0-2 at the dump.
	stdio []string

	// master is the console's new pty master (orphan-pts-master) when
	// there is no console socket to send it to.
	master *os.File
	// hooksRan: the prestart and createRuntime hooks ran, so a failure
	// from then on runs the poststop ones, as create's does.
	hooksRan bool
	// cgMounts are the cgroup directories CRIU binds into the
	// container (externalMounts), from the yard (makeCgroupYard),
	// checked once it has (checkCgroupMounts).
	cgMounts []cgroupBind
	// yard is CRIU's cgroup yard, once made.
	yard *cgroupYard
}

// cgroupBind is one of them: its place in the container, the directory
// (its path in the state) and its key among the external mounts.
type cgroupBind struct {
	dest, path, key string
}

func (rs *restoration) close() {
	for _, f := range []*os.File{rs.images, rs.work} {
		if f != nil {
			f.Close()
		}
	}
}

func (rs *restoration) steps() []step {
	cr := rs.creation
	return []step{
		{name: "check the restore options and the image", do: rs.checkOptions},
		{name: "validate the config", do: cr.validate},
		{name: "check the namespaces CRIU is to join", do: rs.checkNamespaces},
		{name: "check that the ID and the cgroup are free", do: cr.checkFree},
		{name: "connect to the console socket", do: cr.dialConsole},
		{name: "make the state directory", do: cr.makeStateDir},
		{name: "write the first state", do: cr.writeFirstState},
		{name: "make the cgroup", do: cr.makeCgroup},
		{name: "make the mount points", do: rs.makeMountpoints},
		{name: "restore the processes with CRIU", do: rs.restore},
		{name: "put the processes in their resctrl group", do: rs.intelRdt},
		{name: "write the state", do: rs.writeState},
	}
}

// checkOptions checks the flags and the image directory, and that criu
// runs, before anything is made on the host.
func (rs *restoration) checkOptions() (func(), error) {
	o := rs.co
	var err error
	if rs.mode, err = cgMode(o.ManageCgroupsMode); err != nil {
		return nil, err
	}
	if rs.emptyNs, err = emptyNs(o.EmptyNs); err != nil {
		return nil, err
	}
	switch {
	case o.ImagePath == "":
		return nil, errors.New("--image-path: missing")
	case o.PreDump, o.LeaveRunning, o.ParentPath != "", o.PageServer != "", o.StatusFd >= 0:
		return nil, errors.New("--pre-dump, --leave-running, --parent-path, --page-server, --status-fd: checkpoint options")
	case rs.opts.PreserveFds > 0:
		return nil, errors.New("--preserve-fds: a restored process has the fds it had")
	}
	// Opened, not made: an image directory that is not there is the
	// user's mistake, not one to fill with a log.
	if rs.images, err = os.Open(o.ImagePath); err != nil {
		return nil, fmt.Errorf("--image-path: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(o.ImagePath, descriptorsFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("--image-path %s: not a checkpoint of this runtime or runc (no %s; a pre-dump is not one either)", o.ImagePath, descriptorsFile)
		}
		return nil, fmt.Errorf("--image-path: %w", err)
	}
	if err := json.Unmarshal(b, &rs.stdio); err != nil {
		return nil, fmt.Errorf("--image-path: %s: %w", descriptorsFile, err)
	}
	rs.logDir = o.ImagePath
	if o.WorkPath != "" {
		if rs.work, err = openDir(o.WorkPath, "--work-path"); err != nil {
			return nil, err
		}
		rs.logDir = o.WorkPath
	}
	if err := checkCriu(o.CriuPath); err != nil {
		return nil, err
	}
	if err := checkFeatures(o, false); err != nil {
		return nil, err
	}
	if (o.LsmProfile != "" || o.LsmMountContext != "") && !criuAtLeast(o.CriuPath, 31600) {
		return nil, errors.New("--lsm-profile, --lsm-mount-context: need CRIU 3.16 or later")
	}
	return nil, nil
}

func criuAtLeast(path string, v int) bool {
	got, err := criu.Version(path)
	return err == nil && got >= v
}

// checkNamespaces refuses what CRIU cannot restore into: a cgroup
// namespace joined by path (CRIU has no way to join one; runc refuses it
// too); and a mount namespace joined by path that create would refuse
// (checkJoinedMount): CRIU, as root, restores the mounts in its tree.
// (create's other check, of init's root after setns, needs our fork:
// CRIU joins by itself. A namespace whose processes hold every
// capability we hold is no escalation for them.)
func (rs *restoration) checkNamespaces() (func(), error) {
	if rs.plan.ns.joined(specs.CgroupNamespace) {
		return nil, errors.New("linux.namespaces: CRIU cannot restore into a cgroup namespace joined by path")
	}
	if mnt, ok := rs.plan.ns.joinOf(specs.MountNamespace); ok {
		if err := checkJoinedMount(mnt, rs.plan.ns); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// joinNsFile is the file CRIU opens to join j: our fd of it, through
// /proc/<our pid>/fd/N, as CRIU opens the image directory. Not j.path:
// what planNamespaces and checkNamespaces checked (its type, a mount
// namespace's owner and members) is the namespace we opened, and the
// path may name another by the time CRIU, a separate process, opens it
// (a /proc/PID/ns link whose PID died and was reused, a bind mount
// mounted over). CRIU, as root, would restore into a namespace no one
// checked, a mount namespace's tree an unprivileged user arranged
// (checkJoinedMount). Our fds stay open until Restore returns
// (creation's closers), and the link resolves to the open file itself,
// not to its path again (proc_ns_get_link). Our /proc must show our pid
// as CRIU's does (the same pid namespace): the link is checked to be
// j's namespace before CRIU gets it.
func joinNsFile(j join) (string, error) {
	p := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/" + strconv.Itoa(int(j.f.Fd()))
	var a, b unix.Stat_t
	if err := unix.Fstat(int(j.f.Fd()), &a); err != nil {
		return "", fmt.Errorf("linux.namespaces: %s: %w", j.path, err)
	}
	if err := unix.Stat(p, &b); err != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		return "", fmt.Errorf("linux.namespaces: %s: %s does not show it (is /proc of another pid namespace?)", j.path, p)
	}
	return p, nil
}

// makeMountpoints makes the mount points of the spec's mounts in the
// rootfs, as init made them at create: CRIU needs them and makes none
// (rootfs.MakeMountpoint). Those in a tmpfs of the spec come back with
// the tmpfs's content, and the cgroup hierarchies with /sys.
func (rs *restoration) makeMountpoints() (func(), error) {
	for i, m := range rs.plan.mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" || onTmpfs(m.Destination, rs.plan.mounts) {
			continue
		}
		file := false
		if isBind(m) {
			if fi, err := os.Stat(m.Source); err == nil && !fi.IsDir() {
				file = true
			}
		}
		if err := rootfs.MakeMountpoint(rs.plan.rootfs, m.Destination, file); err != nil {
			return nil, fmt.Errorf("mounts[%d]: %w", i, err)
		}
	}
	return nil, nil
}

// onTmpfs reports whether dest is below a tmpfs mount of the spec.
func onTmpfs(dest string, mounts []rootfs.Mount) bool {
	for _, m := range mounts {
		if m.Type == "tmpfs" && strings.HasPrefix(path.Clean(dest), path.Clean(m.Destination)+"/") {
			return true
		}
	}
	return false
}

// restore runs CRIU's restore. Its undo kills what was restored (the
// cgroup's undo kills the rest) and runs the poststop hooks if the
// prestart ones ran.
func (rs *restoration) restore() (func(), error) {
	o, spec, st := rs.co, rs.spec, rs.c.state
	mode := rs.mode
	// CRIU wants the root to be a mount point whose parent is not
	// overmounted: the rootfs is bound there, in a mount namespace of
	// CRIU's own (spawnInRoot), so that nothing is mounted on the host
	// and nothing outlives us should we be killed.
	if rs.cg == nil {
		// (Create goes on without one where a runtime without root may
		// not make it; CRIU needs root anyway.)
		return nil, errors.New("restore: the container has no cgroup of its own to restore into")
	}
	// Absolute: CRIU, and the thread that makes its yard in its mount
	// namespace, resolve them from elsewhere (a relative --root).
	dir, err := filepath.Abs(rs.dir)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	crRoot := filepath.Join(dir, "criu-root")
	if err := os.Mkdir(crRoot, 0o755); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	opts := &rpc.CriuOpts{
		ImagesDirFd:       rpc.Int32(int32(rs.images.Fd())),
		EvasiveDevices:    rpc.Bool(true),
		LogLevel:          rpc.Int32(criuLogLevel),
		LogFile:           rpc.String("restore.log"),
		RstSibling:        rpc.Bool(true),
		Root:              rpc.String(crRoot),
		ManageCgroups:     rpc.Bool(true),
		ManageCgroupsMode: &mode,
		NotifyScripts:     rpc.Bool(true),
		ShellJob:          rpc.Bool(o.ShellJob),
		ExtUnixSk:         rpc.Bool(o.ExtUnixSk),
		TcpEstablished:    rpc.Bool(o.TCPEstablished),
		FileLocks:         rpc.Bool(o.FileLocks),
		EmptyNs:           rpc.Uint32(rs.emptyNs),
		OrphanPtsMaster:   rpc.Bool(true),
		AutoDedup:         rpc.Bool(o.AutoDedup),
		LazyPages:         rpc.Bool(o.LazyPages),
		ConfigFile:        configFile(spec.Annotations),
	}
	if rs.work != nil {
		opts.WorkDirFd = rpc.Int32(int32(rs.work.Fd()))
	}
	if o.LsmProfile != "" {
		opts.LsmProfile = rpc.String(o.LsmProfile)
	}
	if o.LsmMountContext != "" {
		opts.LsmMountContext = rpc.String(o.LsmMountContext)
	}
	// Namespaces joined by path: a network or pid one was left out of
	// the dump under its key and is handed back as an fd (4 on: 0-2
	// are stdio, 3 the RPC socket); CRIU joins the others itself.
	var extra []*os.File
	for _, j := range rs.plan.ns.joins {
		switch j.typ {
		case specs.NetworkNamespace, specs.PIDNamespace:
			opts.InheritFd = append(opts.InheritFd, &rpc.InheritFd{Key: rpc.String(nsKey(j.typ)), Fd: rpc.Int32(int32(4 + len(extra)))})
			extra = append(extra, j.f)
		default:
			file, err := joinNsFile(j)
			if err != nil {
				return nil, err
			}
			opts.JoinNs = append(opts.JoinNs, &rpc.JoinNamespace{Ns: rpc.String(nsCriuName(j.typ)), NsFile: rpc.String(file)})
		}
	}
	ext, err := rs.externalMounts()
	if err != nil {
		return nil, err
	}
	for _, m := range ext {
		opts.ExtMnt = append(opts.ExtMnt, &rpc.ExtMountMap{Key: rpc.String(m[0]), Val: rpc.String(m[1])})
	}
	// The pipes init had as stdio (a shim's, conmon's) are outside the
	// image: the restored init gets ours in their place.
	for i, d := range rs.stdio {
		if strings.HasPrefix(d, "pipe:") {
			opts.InheritFd = append(opts.InheritFd, &rpc.InheritFd{Key: rpc.String(d), Fd: rpc.Int32(int32(i))})
		}
	}
	cgfd, err := rs.cg.CloneFD()
	if err != nil {
		return nil, err
	}
	if cgfd != nil {
		defer cgfd.Close()
	}
	t := rpc.CriuReqType_RESTORE
	req := &rpc.CriuReq{Type: &t, Opts: opts}
	s := &criu.Swrk{
		Path:    o.CriuPath,
		Stdio:   [3]*os.File{os.Stdin, os.Stdout, os.Stderr},
		Extra:   extra,
		Cgroup:  cgfd,
		Spawn:   rs.spawnInRoot(opts, crRoot),
		LogDir:  rs.logDir,
		LogFile: "restore.log",
		Started: func(pid int) error {
			if rs.cg.NeedsEnter() {
				if err := rs.cg.Enter(pid, cgfd != nil); err != nil {
					return err
				}
			}
			// CRIU restores the image's cgroups into the
			// container's, through a yard of their clones: no path
			// that can come to name another cgroup.
			return rs.makeCgroupYard(pid, opts)
		},
		Notify: rs.notify,
	}
	undo := func() {
		if st.InitPid != 0 {
			if fd, err := unix.PidfdOpen(st.InitPid, 0); err == nil {
				if alive(st.InitPid, st.InitStart) {
					unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
				}
				unix.Close(fd)
				rawfork.ReapKilled(st.InitPid)
			}
		}
		if rs.master != nil {
			rs.master.Close()
		}
		if h := spec.Hooks; rs.hooksRan && h != nil && len(h.Poststop) > 0 {
			if err := hooks.RunAll("poststop", h.Poststop, rs.c.hookState(Stopped)); err != nil {
				logrus.Warn(err)
			}
		}
	}
	logrus.Debugf("restore %s: from %s", rs.id, o.ImagePath)
	if _, err := s.Run(req); err != nil {
		return undo, rs.yardError(err)
	}
	if st.InitPid == 0 {
		return undo, errors.New("criu restored no process (no post-restore notification)")
	}
	os.Remove(crRoot)
	if rs.yard != nil {
		os.Remove(rs.yard.dir)
	}
	init, err := os.FindProcess(st.InitPid)
	if err != nil {
		return undo, err
	}
	rs.init = init
	rs.created = &NewContainer{Container: rs.c, Init: init, Console: rs.master}
	return undo, nil
}

// notify answers CRIU's notifications during the restore.
func (rs *restoration) notify(n *rpc.CriuNotify, fds []int) error {
	st := rs.c.state
	switch n.GetScript() {
	case "setup-namespaces":
		// The restored init exists, in its namespaces, and has not run:
		// what create does between making init and its first step.
		closeFds(fds)
		if err := rs.adopt(int(n.GetPid())); err != nil {
			return err
		}
		// Only a namespace CRIU made: one joined by path is its
		// owner's, and without a network namespace init is in ours.
		if rs.plan.ns.create&unix.CLONE_NEWNET != 0 {
			if err := restoredLoopbackUp(st.InitPid, st.InitStart); errors.Is(err, errRuntimeNetns) {
				// CRIU makes one only if the image has one.
				return fmt.Errorf("linux.namespaces: network: the image has no network namespace of its own (dumped in the runtime's): %w", err)
			} else if err != nil {
				return err
			}
		}
		if err := moveNetDevices(rs.spec.Linux.NetDevices, st.InitPid, st.InitStart); err != nil {
			return err
		}
		h := rs.spec.Hooks
		if h == nil || len(h.Prestart)+len(h.CreateRuntime) == 0 {
			return nil
		}
		rs.hooksRan = true
		hs := rs.c.hookState(Creating)
		if err := hooks.Run("prestart", h.Prestart, hs); err != nil {
			return err
		}
		return hooks.Run("createRuntime", h.CreateRuntime, hs)
	case "post-restore":
		closeFds(fds)
		pid := int(n.GetPid())
		if st.InitPid != 0 && st.InitPid != pid {
			return fmt.Errorf("criu restored init as %d, set up as %d", pid, st.InitPid)
		}
		if err := rs.adopt(pid); err != nil {
			return err
		}
		if err := rs.checkPlacement(pid); err != nil {
			return err
		}
		// makeCgroup left the pids limit out (for create's Go init,
		// which starts threads). Set here, it counts none of CRIU's
		// helpers (gone by now), and the systemd driver's scope
		// exists (Enter started it); what was restored cannot fork
		// before we answer.
		return rs.setTasksLimit()
	case "orphan-pts-master":
		// The console: CRIU made a new pty for the restored one and
		// hands us its master, which goes where create's would.
		if len(fds) != 1 {
			closeFds(fds)
			return fmt.Errorf("%d fds with the pty master", len(fds))
		}
		master := os.NewFile(uintptr(fds[0]), "/dev/ptmx")
		if rs.console != nil {
			defer master.Close()
			if err := sendFd(rs.console, master); err != nil {
				return fmt.Errorf("--console-socket: send pty master: %w", err)
			}
			return nil
		}
		if !rs.opts.Foreground {
			master.Close()
			return errors.New("process.terminal: the restored process has a terminal and there is no --console-socket to send it to")
		}
		rs.master = master
		return nil
	default:
		// network-lock, network-unlock: see Checkpoint.
		closeFds(fds)
		return nil
	}
}

// adopt records pid, the restored init, in the state.
func (rs *restoration) adopt(pid int) error {
	ps, err := readProcStat(pid)
	if err != nil {
		return fmt.Errorf("restored init %d: %w", pid, err)
	}
	rs.c.state.InitPid, rs.c.state.InitStart = pid, ps.StartTime
	return nil
}

// checkPlacement checks, in CRIU's post-restore notification, what CRIU
// did with the new cgroup: the root of the restored processes' cgroup
// namespace, the cgroup directories it bound into the container, and
// where it put the processes. Each must be the directory restore made,
// or the restore fails. The owner of a delegated parent can rename
// another container's cgroup, or one of its own, to that path (v1 allows
// a rename; libsandbox/cgroups/identity.go) between restore's mkdir and
// CRIU's use of it, and back, and the restored container would run in
// the other cgroup (its limits and device rules, not the spec's), or see
// it, or with a writable mount set, write it. CRIU reaches the cgroup
// through the yard's clones, no path (makeCgroupYard): these checks are
// the second line, for a CRIU that did otherwise.
//
// What can change meanwhile: the restored processes have not run yet.
// They wait in CRIU's restorer until this notification is answered, and
// an error makes CRIU kill them. Init is our child (RstSibling) and we
// reap it only in restore's undo, so its pid is not reused under us; the
// others cannot fork or exit meanwhile. The parent's owner can still
// rename, but not move root's processes on v1 (CheckMembers), and the
// mounts are compared by device and inode, not by path.
func (rs *restoration) checkPlacement(pid int) error {
	if rs.cg == nil {
		return nil
	}
	// The pinned directories' identities, taken here: in our mount
	// namespace, not in the container's, where inViewOf's thread is.
	st := rs.cg.State()
	want := make([]unix.Stat_t, len(rs.cgMounts))
	for i, m := range rs.cgMounts {
		var err error
		if want[i], err = statCgroup(st, m.path); err != nil {
			return fmt.Errorf("cgroup mount %s: %w", m.dest, err)
		}
	}
	ownNs, err := inOurNs(pid, "cgroup")
	if err != nil {
		return err
	}
	if rs.plan.ns.has(specs.CgroupNamespace) && ownNs {
		return errors.New("linux.namespaces: cgroup: the restored init is in the runtime's cgroup namespace: CRIU made none (--manage-cgroups-mode ignore, or an image dumped without one)")
	}
	err = inViewOf(pid, func(root, cgroups int) error {
		if !ownNs {
			if err := checkCgroupNsRoot(cgroups); err != nil {
				return err
			}
		}
		return rs.checkCgroupMounts(root, want)
	})
	if err != nil {
		return err
	}
	tids, err := restoredThreads(pid)
	if err != nil {
		return fmt.Errorf("list the restored processes: %w", err)
	}
	return st.CheckMembers(tids)
}

// inOurNs reports whether pid is in our namespace of the type (its name
// under /proc/PID/ns).
func inOurNs(pid int, typ string) (bool, error) {
	var ours, theirs unix.Stat_t
	if err := unix.Stat("/proc/self/ns/"+typ, &ours); err != nil {
		return false, os.NewSyscallError("stat", err)
	}
	p := "/proc/" + strconv.Itoa(pid) + "/ns/" + typ
	if err := unix.Stat(p, &theirs); err != nil {
		return false, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	return ours.Dev == theirs.Dev && ours.Ino == theirs.Ino, nil
}

// restoredThreads lists the threads of pid and of its descendants
// (/proc/PID/task/TID/children, which CRIU needs too), zombies left out:
// an exited thread is in no cgroup's list.
func restoredThreads(pid int) ([]int, error) {
	var out []int
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		dir := "/proc/" + strconv.Itoa(queue[0]) + "/task/"
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			ps, err := readProcStat(tid)
			if err != nil {
				return nil, err
			}
			if ps.State != 'Z' && ps.State != 'X' {
				out = append(out, tid)
			}
			b, err := os.ReadFile(dir + e.Name() + "/children")
			if err != nil {
				return nil, err
			}
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil {
					queue = append(queue, c)
				}
			}
		}
	}
	return out, nil
}

// inViewOf runs f on a thread of ours that sees what pid sees: root is an
// fd of the root of pid's mount namespace, which the container sees as /
// (pid's own root is the same: CRIU refuses to dump a root task that
// chrooted), cgroups one of pid's /proc/PID/cgroup, read in pid's cgroup
// namespace. The thread is thrown away after (osthread.Discard: never
// the main thread, whose namespaces /proc/self shows), its namespaces
// with it.
//
// It waits viewTimeout at most: a path in the container can wait on a
// process of the container (an autofs mount's daemon) that is itself
// waiting in CRIU for our answer. Failing answers CRIU, which kills it,
// and the thread then ends too.
func inViewOf(pid int, f func(root, cgroups int) error) error {
	errc := make(chan error, 1)
	osthread.Discard(func() {
		errc <- func() error {
			p := "/proc/" + strconv.Itoa(pid) + "/"
			var fds [3]int
			for i, name := range []string{"ns/mnt", "ns/cgroup", "cgroup"} {
				fd, err := unix.Open(p+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					return fmt.Errorf("restored init: %w", &os.PathError{Op: "open", Path: p + name, Err: err})
				}
				defer unix.Close(fd)
				fds[i] = fd
			}
			// A thread that joins another mount namespace must not
			// share its root and cwd with ours (setns(2)).
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				return os.NewSyscallError("unshare", err)
			}
			if err := unix.Setns(fds[0], unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("restored init: join its mount namespace: %w", err)
			}
			if err := unix.Setns(fds[1], unix.CLONE_NEWCGROUP); err != nil {
				return fmt.Errorf("restored init: join its cgroup namespace: %w", err)
			}
			root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("restored init: open its mount namespace's root: %w", err)
			}
			defer unix.Close(root)
			return f(root, fds[2])
		}()
	})
	t := time.NewTimer(viewTimeout)
	defer t.Stop()
	select {
	case err := <-errc:
		return err
	case <-t.C:
		return fmt.Errorf("restored init %d: no answer from its mount namespace in %v (an automount that waits on a restored process?)", pid, viewTimeout)
	}
}

// viewTimeout bounds inViewOf's wait.
const viewTimeout = 10 * time.Second

// checkCgroupNsRoot checks, from a file of init's /proc/PID/cgroup read
// in init's cgroup namespace (a process's cgroup paths are shown from
// the reader's namespace: proc_cgroup_show), that init is at or below
// the namespace's root in every hierarchy. CRIU makes a restored cgroup
// namespace by moving init to the new cgroup and unsharing there
// (prepare_cgns); had it been a sibling then (by path, before the yard),
// and the new cgroup again by the time CRIU placed init, init would see
// its own cgroup as "/../<name>".
func checkCgroupNsRoot(fd int) error {
	b := make([]byte, 0, 4096)
	for {
		n, err := unix.Pread(fd, b[len(b):cap(b)], int64(len(b)))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("restored init: read its cgroups: %w", err)
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && (parts[2] == "/.." || strings.HasPrefix(parts[2], "/../")) {
			return fmt.Errorf("restored init's cgroup namespace has its root outside the container's cgroup (init is at %s in it, hierarchy %q): CRIU made it in another cgroup (one renamed to the new cgroup's path by the owner of a parent?)", parts[2], parts[1])
		}
	}
	return nil
}

// checkCgroupMounts checks that each cgroup directory CRIU bound into the
// container (from the yard) is the one restore made, as create checks
// its clone of the directory in init (rootfs.CgroupMount.Ino): by device
// and inode against the pinned directory's, want (an inode number alone
// is unique only within one file system). root is the root of the container's
// mount namespace, and each destination is opened in it with
// RESOLVE_IN_ROOT, as init's own mounts are: a symlink of the image's
// stays in the container's tree and reaches what the container would.
func (rs *restoration) checkCgroupMounts(root int, want []unix.Stat_t) error {
	for i, m := range rs.cgMounts {
		fd, err := rootfs.OpenInRoot(root, m.dest)
		if err != nil {
			return fmt.Errorf("cgroup mount %s: %w", m.dest, err)
		}
		var got unix.Stat_t
		err = unix.Fstat(fd, &got)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("cgroup mount %s: %w", m.dest, err)
		}
		if got.Dev != want[i].Dev || got.Ino != want[i].Ino {
			return fmt.Errorf("cgroup mount %s: %s is not the container's cgroup any more (inode %d, restore made %d): replaced since by the owner of a parent?", m.dest, m.path, got.Ino, want[i].Ino)
		}
	}
	return nil
}

// statCgroup stats d, one of the container's own cgroup directories,
// through the fd checked against the inode restore recorded.
func statCgroup(st *cgroups.State, d string) (unix.Stat_t, error) {
	var s unix.Stat_t
	fd, err := st.Open(d, ".", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return s, err
	}
	defer unix.Close(fd)
	return s, unix.Fstat(fd, &s)
}

// externalMounts maps each external mount of the image (Checkpoint's
// externalMounts) to its source here: the spec's bind sources, the new
// cgroup's directories, the null device, the host's device nodes.
func (rs *restoration) externalMounts() ([][2]string, error) {
	root := rs.plan.rootfs
	var out [][2]string
	for _, m := range rs.plan.mounts {
		switch {
		case isBind(m):
			out = append(out, [2]string{mountKey(root, m.Destination), m.Source})
		case m.Type == "cgroup" && !rs.plan.ns.has(specs.CgroupNamespace):
			cms, err := cgroupMounts(rs.host, rs.cg.State())
			if err != nil {
				return nil, err
			}
			for _, cm := range cms {
				// The source is a stand-in: CRIU binds it from a
				// mount namespace of its own, where the kernel
				// refuses a /proc/<pid>/fd path into ours
				// (check_mnt; a review reproduced the EINVAL), so
				// makeCgroupYard points it at the directory's
				// clone in CRIU's yard. What CRIU bound is checked
				// once it has (checkCgroupMounts).
				dest := path.Join(m.Destination, cm.Name)
				key := mountKey(root, dest)
				out = append(out, [2]string{key, cm.Path})
				rs.cgMounts = append(rs.cgMounts, cgroupBind{dest: dest, path: cm.Path, key: key})
			}
		}
	}
	out = append(out, [2]string{"/dev/null", "/dev/null"})
	for _, d := range append(append([]specs.LinuxDevice{}, rootfs.DefaultDevices...), rs.spec.Linux.Devices...) {
		out = append(out, [2]string{mountKey(root, d.Path), d.Path})
	}
	return out, nil
}

// spawnInRoot starts criu in a mount namespace of its own in which the
// rootfs is bound at target, CRIU's root. The namespace is made on a
// thread that is thrown away after (osthread.Discard), and the bind
// mount ends with CRIU. Mounts made on the host after this one
// still reach CRIU ("/" is made a slave), as they reach a container.
//
// The image and work directories are opened again there: CRIU opens
// them through /proc/<our pid>/fd/N and works in them, and it cannot
// mount (its cgroup yard) in a directory whose mount is in another
// namespace (EINVAL). The fds are ours until Restore returns.
func (rs *restoration) spawnInRoot(opts *rpc.CriuOpts, target string) func(*exec.Cmd) error {
	return func(cmd *exec.Cmd) error {
		errc := make(chan error, 1)
		osthread.Discard(func() {
			if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
				errc <- os.NewSyscallError("unshare", err)
				return
			}
			if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
				errc <- fmt.Errorf("make / a slave: %w", err)
				return
			}
			if err := unix.Mount(rs.plan.rootfs, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				errc <- fmt.Errorf("bind rootfs %s to %s: %w", rs.plan.rootfs, target, err)
				return
			}
			for _, d := range []struct {
				f  **os.File
				fd **int32
			}{{&rs.images, &opts.ImagesDirFd}, {&rs.work, &opts.WorkDirFd}} {
				if *d.f == nil {
					continue
				}
				f, err := reopenSame(*d.f)
				if err != nil {
					errc <- err
					return
				}
				(*d.f).Close()
				*d.f = f
				*d.fd = rpc.Int32(int32(f.Fd()))
			}
			errc <- cmd.Start()
		})
		return <-errc
	}
}

// reopenSame opens old's path again, here, and makes sure it is still
// the directory old is: what was checked (the image's descriptors, the
// work directory made) must be what CRIU reads and writes, not whatever
// the path names by now.
func reopenSame(old *os.File) (*os.File, error) {
	f, err := os.Open(old.Name())
	if err != nil {
		return nil, err
	}
	var a, b unix.Stat_t
	if err := unix.Fstat(int(old.Fd()), &a); err != nil {
		f.Close()
		return nil, err
	}
	if err := unix.Fstat(int(f.Fd()), &b); err != nil {
		f.Close()
		return nil, err
	}
	if a.Dev != b.Dev || a.Ino != b.Ino {
		f.Close()
		return nil, fmt.Errorf("%s: changed during the restore (another directory by that path now)", old.Name())
	}
	return f, nil
}

// intelRdt puts the restored processes in the container's resctrl group
// (init first: its state is written with it).
func (rs *restoration) intelRdt() (func(), error) {
	undo, err := rs.intelRdtStep()
	if err != nil || rs.c.state.IntelRdt == nil {
		return undo, err
	}
	pids, err := rs.cg.Pids()
	if err != nil {
		return undo, err
	}
	for _, pid := range pids {
		if pid != rs.c.state.InitPid {
			if err := intelrdt.Enter(rs.c.state.IntelRdt, pid); err != nil {
				return undo, err
			}
		}
	}
	return undo, nil
}

// writeState saves the state, create's way. The config saved for exec
// gets the namespaces CRIU put init in that the spec does not list (a
// time namespace, which CRIU 3.14+ makes to keep the clocks the process
// had): exec joins what the saved config lists.
func (rs *restoration) writeState() (func(), error) {
	spec := *rs.spec
	lin := *spec.Linux
	lin.Namespaces = append([]specs.LinuxNamespace{}, lin.Namespaces...)
	for _, t := range []specs.LinuxNamespaceType{specs.TimeNamespace} {
		if hasNS(&spec, t) {
			continue
		}
		// (An error: a kernel without that namespace.)
		if ours, err := inOurNs(rs.c.state.InitPid, nsFiles[t]); err == nil && !ours {
			lin.Namespaces = append(lin.Namespaces, specs.LinuxNamespace{Type: t})
		}
	}
	spec.Linux = &lin
	rs.creation.spec = &spec
	return rs.writeFinalState()
}
