package libsandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/procenv"
	"github.com/sandbox-runtime/sandbox-runtime/internal/rlimit"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/caps"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
)

// ExecOpts describe a process to start in a running container.
type ExecOpts struct {
	Process       *specs.Process
	ConsoleSocket string
	// PidfdSocket, if set, is a unix socket that receives a pidfd of the
	// process once it has started (runc's --pidfd-socket).
	PidfdSocket string
	PidFile     string
	PreserveFds int
	// Foreground: a terminal with no console socket comes back in
	// ExecProcess.Console for the caller to relay.
	Foreground bool
	// SubCgroups, if set, places the process in existing sub-cgroups of
	// the container's cgroup instead of the cgroup itself: a v1
	// controller to a path relative to the container's cgroup, or "" to
	// the path in every hierarchy (the only key on a v2 host). runc's
	// exec --cgroup.
	SubCgroups map[string]string
	// IgnorePaused allows an exec into a paused container: the process
	// is placed in the frozen cgroup and Exec waits until the container
	// is resumed (runc's --ignore-paused).
	IgnorePaused bool
	// Interrupt, if set, is polled while the process is being started:
	// a value on it (SIGINT, SIGTERM... of the caller) kills what was
	// started and makes Exec fail.
	Interrupt func() error
}

// ExecProcess is a process started by Exec; it is our child.
type ExecProcess struct {
	Process *os.Process
	Console *os.File
}

// execTimeout bounds the wait for an exec'd process to reach its execve:
// a container can make that wait as long as it likes (a FUSE mount on the
// cwd or the program's path, a frozen cgroup), and the setup itself takes
// milliseconds.
const execTimeout = 60 * time.Second

// nsFiles names each namespace type's file under /proc/PID/ns.
var nsFiles = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace: "pid", specs.NetworkNamespace: "net", specs.MountNamespace: "mnt",
	specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.UserNamespace: "user",
	specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

// Exec starts proc in the container: in every namespace of its init (user
// and mount included), in its cgroup, with the container's seccomp filter,
// and with proc's user, capabilities, rlimits, no_new_privs, labels and
// env. It returns once the process has called execve; errors up to then
// (a bad user, a missing binary) are Exec's.
//
// No runtime process of ours runs in the container: the process is set
// up by a raw-forked child that the container cannot see, and only the
// last fork, holding just what the user's process will hold, enters the
// container's pid namespace (see package rawfork).
func (c *Container) Exec(o *ExecOpts) (_ *ExecProcess, retErr error) {
	gate := opExec
	if o.IgnorePaused {
		gate = opExecIgnorePaused
	}
	if _, err := c.require(gate); err != nil {
		return nil, err
	}
	spec, err := c.Spec()
	if err != nil {
		return nil, err
	}
	if o.Process == nil {
		return nil, errors.New("process: missing")
	}
	proc := withContainerDefaults(o.Process, spec.Process)
	p := &plan{lastCap: caps.LastCap()}
	if err := p.checkProcess(proc); err != nil {
		return nil, err
	}
	for _, w := range p.warnings {
		logrus.Warn(w)
	}
	if proc.Terminal && o.ConsoleSocket == "" && !o.Foreground {
		return nil, errors.New("process.terminal: cannot allocate tty if runc will detach without setting console socket (--console-socket)")
	}

	// The namespaces of init, opened while its pidfd proves the pid is
	// still init's.
	pidfd, err := c.openInit()
	if err != nil {
		return nil, fmt.Errorf("cannot exec: %w", err)
	}
	defer unix.Close(pidfd)
	attr := &rawfork.Attr{Exe: -1, Argv: proc.Args}
	var nsOpen []*os.File
	defer func() {
		for _, f := range nsOpen {
			f.Close()
		}
	}()
	nsNames := []specs.LinuxNamespaceType{}
	for _, ns := range spec.Linux.Namespaces {
		f, err := os.Open("/proc/" + strconv.Itoa(c.state.InitPid) + "/ns/" + nsFiles[ns.Type])
		if err != nil {
			return nil, fmt.Errorf("open %s namespace of init: %w", ns.Type, err)
		}
		nsOpen = append(nsOpen, f)
		nsNames = append(nsNames, ns.Type)
		if ns.Type == specs.UserNamespace {
			if err := checkExecUserNS(join{typ: ns.Type, path: f.Name(), f: f}); err != nil {
				return nil, err
			}
		}
		attr.Namespaces = append(attr.Namespaces, rawfork.Namespace{Fd: int(f.Fd()), Type: nsFlags[ns.Type]})
		if ns.Type == specs.PIDNamespace {
			attr.ForkAgain = true
		}
	}
	if !alive(c.state.InitPid, c.state.InitStart) {
		return nil, fmt.Errorf("cannot exec: %w", ErrNotRunning)
	}
	logrus.Debugf("exec %s: %q as %d:%d, in the namespaces of init %d: %v", c.id, proc.Args, proc.User.UID, proc.User.GID, c.state.InitPid, nsNames)

	check := c.execCheck(o.Interrupt)
	var homeErr error
	env := procenv.Prepare(proc.Env, func() string {
		// (the lookup runs on the host: a frozen cgroup does not hold it)
		home, err := c.homeDir(pidfd, proc.User.UID, func() error { return check(false) })
		homeErr = err
		return home
	})
	if homeErr != nil {
		return nil, homeErr
	}
	attr.Env = env
	if attr.Process, err = execSetup(proc, spec, env, p.lastCap, c.dir); err != nil {
		return nil, err
	}
	umask := uint32(0o022)
	if proc.User.Umask != nil {
		umask = *proc.User.Umask
	}
	attr.Umask = &umask
	if proc.OOMScoreAdj != nil {
		attr.OOMScoreAdj = strconv.Itoa(*proc.OOMScoreAdj)
	}

	console, err := dialConsole(o.ConsoleSocket)
	if err != nil {
		return nil, err
	}
	if console != nil {
		defer console.Close()
	}
	pidfdConn, err := dialPidfdSocket(o.PidfdSocket)
	if err != nil {
		return nil, err
	}
	if pidfdConn != nil {
		defer pidfdConn.Close()
	}

	attr.Files = []int{0, 1, 2}
	for i := 0; i < o.PreserveFds; i++ {
		attr.Files = append(attr.Files, 3+i)
	}
	var cg cgroups.Manager
	var tasks *v1Tasks
	var sub *subCgroups
	defer func() {
		if tasks != nil {
			tasks.Close()
		}
	}()
	if len(o.SubCgroups) > 0 && c.state.Cgroup == nil {
		return nil, errors.New("--cgroup: the container has no cgroup")
	}
	if len(o.SubCgroups) > 0 {
		cg = cgroups.Load(c.state.Cgroup)
		if sub, err = openSubCgroups(c.state.Cgroup, o.SubCgroups); err != nil {
			return nil, err
		}
		defer sub.Close()
		if sub.v2 != nil {
			attr.UseCgroupFD, attr.CgroupFD = true, int(sub.v2.Fd())
		}
		if tasks, err = sub.tasks(3 + o.PreserveFds); err != nil {
			return nil, err
		}
	} else if c.state.Cgroup != nil {
		cg = cgroups.Load(c.state.Cgroup)
		f, err := cg.CloneFD()
		if err != nil {
			return nil, err
		}
		if f != nil {
			defer f.Close()
			attr.UseCgroupFD, attr.CgroupFD = true, int(f.Fd())
		}
		if cg.NeedsEnter() {
			// v1: the first child writes itself into the
			// container's hierarchies (v1Tasks), before it forks
			// the process, which is born in them; a hybrid host's
			// v2 one is clone3's (fs1's CloneFD gives its fd or an
			// error, never nothing). Only v1 needs entering: v2 and
			// a started systemd scope are cloned into.
			if tasks, err = openV1Tasks(c.state.Cgroup, 3+o.PreserveFds); err != nil {
				return nil, err
			}
		}
	}
	if tasks != nil {
		attr.CgroupTasks = tasks.fds
	}
	if st := c.state.Cgroup; st != nil && st.V1Controllers["freezer"] != "" {
		// The first child is in the container's v1 freezer cgroup
		// from before it joins anything (v1Tasks), and the container
		// may freeze it (its cgroup, or a sub-cgroup of it, with a
		// writable cgroupfs), or it is paused (--ignore-paused): a
		// frozen task ignores SIGKILL, so what is killed is thawed.
		attr.Unfreeze = cgroups.UnfreezeOurs
	}
	if c.state.IntelRdt != nil {
		attr.Pause = rdtPause(attr.Pause, c.state.IntelRdt)
	}
	if attr.Process.Filter != nil {
		attr.Process.FilterBeforeFork = c.ptraceThreat(cg)
		logrus.Debugf("exec %s: seccomp filter loaded before the fork: %v", c.id, attr.Process.FilterBeforeFork)
	}
	attr.Check = func() error {
		// Only a paused container (its own cgroup frozen, the
		// caller's doing) stops the time-out: a sub-cgroup is the
		// container's to freeze, for as long as it likes.
		paused := cg != nil && cg.Frozen()
		if sub != nil && sub.frozen() && !o.IgnorePaused {
			return errors.New("--cgroup: the sub-cgroup's freezer was frozen while the process was starting")
		}
		if paused && !o.IgnorePaused {
			return errors.New("the container's cgroup was frozen while the process was starting")
		}
		return check(paused)
	}
	logrus.Debugf("exec %s: starting the process (clone3 into the v2 cgroup: %v, v1 hierarchies: %d by itself, moved: %v)", c.id, attr.UseCgroupFD, len(attr.CgroupTasks), attr.Pause != nil)
	res, err := rawfork.Start(attr)
	if err != nil {
		logrus.Debugf("exec %s: %v", c.id, err)
		return nil, execError(err, proc, nsNames, tasks)
	}
	logrus.Debugf("exec %s: process %d has exec'd %q", c.id, res.Pid, proc.Args[0])
	for _, w := range res.Warnings {
		logrus.Warn(w)
	}
	child, _ := os.FindProcess(res.Pid)
	defer func() {
		if retErr != nil {
			child.Kill()
			rawfork.ReapKilled(res.Pid)
		}
	}()
	if res.Notify != nil {
		err := c.sendListener(spec.Linux.Seccomp, res.Notify, res.Pid)
		res.Notify.Close()
		if err != nil {
			return nil, err
		}
	}
	ep := &ExecProcess{Process: child}
	if res.Console != nil {
		if console != nil {
			err := sendFd(console, res.Console)
			res.Console.Close()
			if err != nil {
				return nil, fmt.Errorf("--console-socket: send pty master: %w", err)
			}
		} else {
			ep.Console = res.Console
		}
	}
	if pidfdConn != nil {
		if err := sendPidfd(pidfdConn, res.Pid, "setns"); err != nil {
			return nil, err
		}
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, res.Pid); err != nil {
			return nil, err
		}
	}
	return ep, nil
}

// execCheck is what the wait for an exec'd process polls: the caller's
// interrupt and the time-out. The time-out does not run while the
// container is paused (frozen, with --ignore-paused): how long it stays
// paused is the caller's choice, not the container's, and the caller
// can still interrupt the wait, as runc's users can.
func (c *Container) execCheck(interrupt func() error) func(frozen bool) error {
	deadline := time.Now().Add(execTimeout)
	last := time.Now()
	return func(frozen bool) error {
		if interrupt != nil {
			if err := interrupt(); err != nil {
				return err
			}
		}
		now := time.Now()
		if frozen {
			deadline = deadline.Add(now.Sub(last))
		}
		last = now
		if now.After(deadline) {
			return fmt.Errorf("the process did not start within %v", execTimeout)
		}
		return nil
	}
}

// execSetup lays proc out for rawfork: everything the raw child applies.
// env is proc.Env with HOME filled in.
func execSetup(proc *specs.Process, spec *specs.Spec, env []string, lastCap int, dir string) (*rawfork.Process, error) {
	sets, _, err := caps.Resolve(proc.Capabilities, lastCap)
	if err != nil {
		return nil, err
	}
	rp := &rawfork.Process{
		Terminal:   proc.Terminal,
		Cwd:        proc.Cwd,
		UID:        proc.User.UID,
		GID:        proc.User.GID,
		Groups:     proc.User.AdditionalGids,
		Caps:       sets,
		LastCap:    lastCap,
		NoNewPrivs: proc.NoNewPrivileges,
		Paths:      execPaths(proc.Args[0], env),
	}
	if err := execProcAttrs(rp, proc, spec.Linux); err != nil {
		return nil, err
	}
	if proc.ApparmorProfile != "" {
		rp.Labels = append(rp.Labels, rawfork.Label{
			Paths: []string{"/proc/thread-self/attr/apparmor/exec", "/proc/thread-self/attr/exec"},
			Value: "exec " + proc.ApparmorProfile,
		})
	}
	if proc.SelinuxLabel != "" {
		rp.Labels = append(rp.Labels, rawfork.Label{Paths: []string{"/proc/thread-self/attr/exec"}, Value: proc.SelinuxLabel})
	}
	for _, r := range proc.Rlimits {
		res, _ := rlimit.Resource(r.Type) // checked by checkProcess
		rp.Rlimits = append(rp.Rlimits, rawfork.Rlimit{Resource: res, Cur: r.Soft, Max: r.Hard})
	}
	if spec.Linux != nil && spec.Linux.Seccomp != nil {
		prog, err := compiledSeccomp(dir, spec.Linux.Seccomp)
		if err != nil {
			return nil, err
		}
		if rp.Filter, err = sockFilter(prog.Filter); err != nil {
			return nil, err
		}
		// With SCMP_ACT_NOTIFY rules the process's filter has a
		// listener of its own, which goes to the agent (sendListener).
		rp.FilterFlags = prog.Flags
		rp.Notify = prog.Notify
	}
	return rp, nil
}

// defaultPath is used to find args[0] when the process env has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// execPaths lists where the child looks for the program: args[0] itself
// if it has a slash, else each directory of the process's PATH (not
// ours), as execvp(3) does.
func execPaths(arg0 string, env []string) []string {
	if strings.Contains(arg0, "/") {
		return []string{arg0}
	}
	p, ok := procenv.Lookup(env, "PATH")
	if !ok {
		p = defaultPath
	}
	var out []string
	for _, dir := range strings.Split(p, ":") {
		if dir == "" {
			dir = "."
		}
		out = append(out, path.Join(dir, arg0))
	}
	return out
}

// execError words a failure of the child as runc's users expect it
// ("unable to start container process: exec: ...").
func execError(err error, proc *specs.Process, ns []specs.LinuxNamespaceType, tasks *v1Tasks) error {
	var re *rawfork.Error
	if !errors.As(err, &re) {
		if errors.Is(err, rawfork.ErrStopped) {
			return fmt.Errorf("unable to start container process: %w (a process in the container stopped it?); it was killed", err)
		}
		return fmt.Errorf("unable to start container process: %w", err)
	}
	u := proc.User
	var msg string
	switch re.Stage {
	case "exec":
		msg = execFailure(proc.Args[0], re.Errno)
	case "setns":
		if re.Index >= 0 && re.Index < len(ns) {
			msg = fmt.Sprintf("join the %s namespace of init: %v", ns[re.Index], re.Errno)
		}
	case "cwd":
		msg = fmt.Sprintf("process.cwd %q: %v", proc.Cwd, re.Errno)
	case "chdir":
		msg = fmt.Sprintf("chdir to cwd (%q) set in config.json failed: %v", proc.Cwd, re.Errno)
	case "rlimit":
		if re.Index >= 0 && re.Index < len(proc.Rlimits) {
			r := proc.Rlimits[re.Index]
			msg = fmt.Sprintf("process.rlimits: set %s to soft %d hard %d: %v", r.Type, r.Soft, r.Hard, re.Errno)
		}
	case "setgroups":
		msg = fmt.Sprintf("process.user: setgroups %v: %v", u.AdditionalGids, re.Errno)
	case "setresgid":
		msg = fmt.Sprintf("process.user: setresgid %d: %v", u.GID, re.Errno)
	case "setresuid":
		msg = fmt.Sprintf("process.user: setresuid %d: %v", u.UID, re.Errno)
	case "bounding":
		msg = fmt.Sprintf("process.capabilities.bounding: drop %s: %v", caps.Name(re.Index), re.Errno)
	case "capset":
		msg = fmt.Sprintf("process.capabilities: capset: %v", re.Errno)
	case "noNewPrivileges":
		msg = fmt.Sprintf("process.noNewPrivileges: %v", re.Errno)
	case "oomScoreAdj":
		msg = fmt.Sprintf("process.oomScoreAdj: %v", re.Errno)
	case "label":
		msg = fmt.Sprintf("process.apparmorProfile/selinuxLabel: %v", re.Errno)
		if re.Index == 0 && proc.ApparmorProfile != "" {
			msg = fmt.Sprintf("process.apparmorProfile %q: %v", proc.ApparmorProfile, re.Errno)
		} else if proc.SelinuxLabel != "" {
			msg = fmt.Sprintf("process.selinuxLabel %q: %v", proc.SelinuxLabel, re.Errno)
		}
	case "console":
		msg = fmt.Sprintf("process.terminal: the container's /dev/ptmx: %v", re.Errno)
	case "seccomp":
		msg = fmt.Sprintf("linux.seccomp: load filter: %v", re.Errno)
	case "cgroup":
		if tasks != nil {
			msg = tasks.error(re.Index, re.Errno)
		}
	}
	if msg == "" {
		msg = re.Error()
	}
	if re.Stage != "exec" && (re.Errno == unix.EPERM || re.Errno == unix.EACCES) && Rootless() {
		// An exec'd program's EACCES keeps runc's bare words; the
		// rest was refused to us, not to the program.
		msg += " (the runtime runs without root)"
	}
	return fmt.Errorf("unable to start container process: %s", msg)
}

// execFailure keeps exec.LookPath's words, which clients match:
// "executable file not found in $PATH", "stat X: no such file or
// directory", and a bare "permission denied" (runc's `exec: "X":
// permission denied`, which podman maps to exit 126).
func execFailure(arg0 string, e syscall.Errno) string {
	switch {
	case e == unix.EACCES:
		return fmt.Sprintf("exec: %q: permission denied", arg0)
	case !strings.Contains(arg0, "/") && (e == unix.ENOENT || e == unix.ENOTDIR):
		return fmt.Sprintf("exec: %q: executable file not found in $PATH", arg0)
	case e == unix.ENOENT || e == unix.ENOTDIR:
		return fmt.Sprintf("exec: %q: stat %s: %v", arg0, arg0, e)
	}
	return fmt.Sprintf("exec: %q: %v", arg0, e)
}

// sendListener hands the seccomp listener of an exec'd process to the
// user's agent at listenerPath, as create's init does for the container's
// process and runc does for both: one message, the state
// (specs.ContainerProcessState, the process's pid) with the fd.
func (c *Container) sendListener(sc *specs.LinuxSeccomp, listener *os.File, pid int) error {
	st := c.hookState(Running)
	b, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: sc.ListenerMetadata,
		State:    *st,
	})
	if err != nil {
		return err
	}
	conn, err := net.Dial("unix", sc.ListenerPath)
	if err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: %w", err)
	}
	defer conn.Close()
	if _, _, err := conn.(*net.UnixConn).WriteMsgUnix(b, unix.UnixRights(int(listener.Fd())), nil); err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: send the listener: %w", err)
	}
	return nil
}

// withContainerDefaults returns a copy of proc that takes from base, the
// container's process, what it does not set itself: its AppArmor
// profile, SELinux label and rlimits (runc's newInitConfig starts from
// the container's config). An `exec --process` JSON without them must not
// run unconfined, or without the container's limits (security issue
// 11.10).
func withContainerDefaults(proc, base *specs.Process) *specs.Process {
	p := *proc
	if base == nil {
		return &p
	}
	if p.ApparmorProfile == "" {
		p.ApparmorProfile = base.ApparmorProfile
	}
	if p.SelinuxLabel == "" {
		p.SelinuxLabel = base.SelinuxLabel
	}
	if len(p.Rlimits) == 0 {
		p.Rlimits = base.Rlimits
	}
	procAttrDefaults(&p, base)
	return &p
}

// ptraceThreat reports whether a process of the container may attach to
// the one exec sends into it, before its execve (rawfork's grandchild),
// and so must find it already under the seccomp filter
// (rawfork.Process.FilterBeforeFork). That process is non-dumpable and
// its memory belongs to the host's user namespace: attaching to it takes
// CAP_SYS_PTRACE over the host's user namespace. So no process can when
// the container has a user namespace of its own (its capabilities are
// over that one), nor when none of its processes has CAP_SYS_PTRACE in
// its bounding set (none can ever hold it: the bounding set only
// shrinks). Otherwise, or when we cannot tell, one may.
func (c *Container) ptraceThreat(cg cgroups.Manager) bool {
	pid := strconv.Itoa(c.state.InitPid)
	theirs, err1 := os.Readlink("/proc/" + pid + "/ns/user")
	ours, err2 := os.Readlink("/proc/self/ns/user")
	if err1 == nil && err2 == nil && theirs != ours {
		return false
	}
	if cg == nil {
		return true
	}
	pids, err := cg.Pids()
	if err != nil {
		return true
	}
	const capSysPtrace = 19
	for _, p := range append(pids, c.state.InitPid) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/status")
		if err != nil {
			continue // gone
		}
		bnd, ok := statusHex(b, "CapBnd:")
		if !ok || bnd&(1<<capSysPtrace) != 0 {
			return true
		}
	}
	return false
}

// statusHex reads a hexadecimal field of /proc/PID/status.
func statusHex(status []byte, key string) (uint64, bool) {
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, key); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n, err == nil
		}
	}
	return 0, false
}
