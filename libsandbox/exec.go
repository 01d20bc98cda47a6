package libsandbox

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/fds"
	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	isync "github.com/sandbox-runtime/sandbox-runtime/internal/sync"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/caps"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/seccomp"
)

// ExecOpts describe a process to start in a running container.
type ExecOpts struct {
	Process       *specs.Process
	ConsoleSocket string
	PidFile       string
	PreserveFds   int
	// Foreground: a terminal with no console socket comes back in
	// ExecProcess.Console for the caller to relay.
	Foreground bool
}

// ExecProcess is a process started by Exec; it is our child.
type ExecProcess struct {
	Process *os.Process
	Console *os.File
}

// nsFiles names each namespace type's file under /proc/PID/ns.
var nsFiles = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace: "pid", specs.NetworkNamespace: "net", specs.MountNamespace: "mnt",
	specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.UserNamespace: "user",
	specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

// Exec starts proc in the container: in every namespace of its init
// (user and mount included, through rawfork: no C), in its cgroup (clone3
// CLONE_INTO_CGROUP on v2), with the container's seccomp filter, and with
// proc's user, capabilities, rlimits, no_new_privs, labels and env. It
// returns once the process is about to execve; errors up to then (a bad
// user, a missing binary) are Exec's.
func (c *Container) Exec(o *ExecOpts) (_ *ExecProcess, retErr error) {
	switch st := c.Status(); st {
	case Running, Created:
	case Paused:
		return nil, errors.New("cannot exec in a paused container")
	default:
		return nil, fmt.Errorf("cannot exec in a %s container: %w", st, ErrNotRunning)
	}
	specp, err := c.Spec()
	if err != nil {
		return nil, err
	}
	spec := *specp
	proc := o.Process
	if proc == nil {
		return nil, errors.New("process: missing")
	}
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
	spec.Process = proc

	// The namespaces of init, opened while its pidfd proves the pid is
	// still init's.
	pidfd, err := c.openInit()
	if err != nil {
		return nil, fmt.Errorf("cannot exec: %w", err)
	}
	defer unix.Close(pidfd)
	var (
		attr   rawfork.Attr
		nsOpen []*os.File
		userns bool
	)
	defer func() {
		for _, f := range nsOpen {
			f.Close()
		}
	}()
	for _, ns := range spec.Linux.Namespaces {
		name := nsFiles[ns.Type]
		f, err := os.Open("/proc/" + strconv.Itoa(c.state.InitPid) + "/ns/" + name)
		if err != nil {
			return nil, fmt.Errorf("open %s namespace of init: %w", ns.Type, err)
		}
		nsOpen = append(nsOpen, f)
		attr.Namespaces = append(attr.Namespaces, rawfork.Namespace{Fd: int(f.Fd()), Type: nsFlags[ns.Type]})
		switch ns.Type {
		case specs.UserNamespace:
			userns = true
		case specs.PIDNamespace:
			attr.ForkAgain = true
		}
	}
	if !alive(c.state.InitPid, c.state.InitStart) {
		return nil, fmt.Errorf("cannot exec: %w", ErrNotRunning)
	}

	console, err := dialConsole(o.ConsoleSocket)
	if err != nil {
		return nil, err
	}
	if console != nil {
		defer console.Close()
	}
	var prog *initcfg.Seccomp
	if spec.Linux.Seccomp != nil {
		if prog, err = seccomp.Compile(spec.Linux.Seccomp); err != nil {
			return nil, err
		}
		if prog.Notify {
			// The listener got this container's notify fd at start; an
			// exec'd process would need its own connection, which runc
			// does not make either.
			prog.Notify = false
			return nil, errors.New("exec into a container with SCMP_ACT_NOTIFY rules is not supported yet")
		}
	}

	exe, _, err := exeseal.Open(c.dir)
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	syncP, syncC, err := isync.Socketpair()
	if err != nil {
		return nil, err
	}
	defer syncP.Close()
	defer syncC.Close()
	extra := fds.New(3 + o.PreserveFds)
	extra.Add("sync-fd", syncC)
	files := []int{0, 1, 2}
	for i := 0; i < o.PreserveFds; i++ {
		files = append(files, 3+i)
	}
	for _, f := range extra.Files {
		files = append(files, int(f.Fd()))
	}

	var cg cgroups.Manager
	if c.state.Cgroup != nil {
		cg = cgroups.Load(c.state.Cgroup)
		if f, err := cg.CloneFD(); err != nil {
			return nil, err
		} else if f != nil {
			defer f.Close()
			attr.UseCgroupFD, attr.CgroupFD = true, int(f.Fd())
		}
	}
	attr.BecomeRoot = userns
	attr.Files = files
	attr.Exe = int(exe.Fd())
	attr.Argv = append([]string{"sandbox-runtime", "init", "--exec"}, extra.Args...)
	attr.Env = initEnv
	hugePagesBack := hugePagesOffForInit()
	pid, err := rawfork.Start(&attr)
	syncC.Close()
	if err != nil {
		return nil, fmt.Errorf("start exec process: %w", err)
	}
	child, _ := os.FindProcess(pid)
	defer func() {
		if retErr != nil {
			child.Kill()
			child.Wait()
		}
	}()
	if cg != nil && cg.NeedsEnter() {
		if err := cg.Enter(pid, attr.UseCgroupFD); err != nil {
			return nil, err
		}
	}
	cfg := &initcfg.Config{
		ID:            c.id,
		Bundle:        c.state.Bundle,
		Rootfs:        c.state.Rootfs,
		Spec:          initcfg.NewSpec(&spec),
		Exec:          true,
		PreserveFds:   o.PreserveFds,
		UserNS:        userns,
		LastCap:       p.lastCap,
		HugePagesBack: hugePagesBack,
		Seccomp:       prog,
	}
	if err := isync.SendConfig(syncP, cfg); err != nil {
		return nil, err
	}
	ep := &ExecProcess{Process: child}
	nc := &NewContainer{}
	if err := c.serveInit(syncP, child, console, nc, nil); err != nil {
		return nil, err
	}
	ep.Console = nc.Console
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, pid); err != nil {
			return nil, err
		}
	}
	return ep, nil
}
