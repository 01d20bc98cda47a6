package libsandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/fds"
	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	isync "github.com/sandbox-runtime/sandbox-runtime/internal/sync"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/hooks"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// Container is a container loaded from the state directory.
type Container struct {
	root  string // the runtime's --root
	id    string
	dir   string
	state *persisted
	lockf *os.File
}

// CreateOpts are create's command-line options.
type CreateOpts struct {
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFds   int
	// SystemdCgroup: the cgroup is a systemd scope (--systemd-cgroup).
	SystemdCgroup bool
	// Foreground is `run` without --detach: init dies with us
	// (Pdeathsig), and with a terminal and no console socket the pty
	// master comes back in NewContainer.Console for us to relay.
	Foreground bool
	// Interrupt, if set, is polled while create waits for init: an
	// error (a signal of the caller's) fails create, which cleans up.
	Interrupt func() error
}

// NewContainer is a container create has just made, with its init process
// (our child).
type NewContainer struct {
	*Container
	Init    *os.Process
	Console *os.File
}

// ID returns the container's ID.
func (c *Container) ID() string { return c.id }

// Close releases the container's lock.
func (c *Container) Close() {
	if c.lockf != nil {
		c.lockf.Close()
		c.lockf = nil
	}
}

// Load opens an existing container and takes its lock.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	l, err := lock(dir)
	if err != nil {
		return nil, err
	}
	s, err := readState(dir)
	if err != nil {
		l.Close()
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	return &Container{root: root, id: id, dir: dir, state: s, lockf: l}, nil
}

// Status derives the container's status now.
func (c *Container) Status() Status { return c.state.status(c.dir) }

// State is `state`'s JSON: the runtime-spec State plus runc's rootfs,
// created and owner, in runc's field order.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      Status            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// State returns the container's state; pid is 0 once it has stopped.
func (c *Container) State() *State {
	st := c.Status()
	pid := c.state.InitPid
	if st == Stopped || st == Creating {
		pid = 0
	}
	return &State{
		OCIVersion:  c.state.OCIVersion,
		ID:          c.id,
		Pid:         pid,
		Status:      st,
		Bundle:      c.state.Bundle,
		Rootfs:      c.state.Rootfs,
		Created:     c.state.Created,
		Annotations: c.state.Annotations,
	}
}

func (c *Container) hookState(st Status) *specs.State {
	pid := c.state.InitPid
	if st == Stopped {
		pid = 0
	}
	return &specs.State{
		Version:     c.state.OCIVersion,
		ID:          c.id,
		Status:      specs.ContainerState(st),
		Pid:         pid,
		Bundle:      c.state.Bundle,
		Annotations: c.state.Annotations,
	}
}

// Create validates spec, creates the container and returns once its init
// waits on the exec fifo. On any error nothing is left behind: no state
// directory, no process.
func Create(root, id string, spec *specs.Spec, opts *CreateOpts) (_ *NewContainer, retErr error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(opts.Bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	logrus.Debugf("create %s: validating", id)
	p, err := validate(spec, bundle)
	if err != nil {
		return nil, err
	}
	defer p.ns.close()
	for _, w := range p.warnings {
		logrus.Warn(w)
	}
	if spec.Process.Terminal && opts.ConsoleSocket == "" && !opts.Foreground {
		return nil, errors.New("process.terminal: cannot allocate tty if runc will detach without setting console socket (--console-socket)")
	}
	if !spec.Process.Terminal && opts.ConsoleSocket != "" {
		return nil, errors.New("--console-socket: only allowed when process.terminal is true")
	}
	var devRules []specs.LinuxDeviceCgroup
	if spec.Linux.Resources != nil {
		devRules = spec.Linux.Resources.Devices
	}
	rules, err := cgroups.Rules(devRules, spec.Linux.Devices)
	if err != nil {
		return nil, err
	}
	host, err := cgroups.Probe()
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	cg, err := cgroups.New(host, cgroups.Config{
		Path: spec.Linux.CgroupsPath, ID: id, Devices: rules,
		Systemd: opts.SystemdCgroup, Annotations: spec.Annotations,
	})
	if err != nil {
		return nil, err
	}
	// Before anything is made on the host: a refused cgroup leaves
	// nothing to clean up (cg.Create checks again). An ID in use is
	// the error to give first, as runc does (factory_linux.go Create
	// looks for the state directory, then at the cgroup, then makes
	// the directory); the Mkdir below still decides.
	if _, err := os.Lstat(filepath.Join(root, id)); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrExist, id)
	}
	if err := host.Check(spec.Linux.CgroupsPath, cg.State()); err != nil {
		return nil, err
	}

	console, err := dialConsole(opts.ConsoleSocket)
	if err != nil {
		return nil, err
	}
	if console != nil {
		defer console.Close()
	}

	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	dir := filepath.Join(root, id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExist, id)
		}
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	lockf, err := lock(dir)
	if errors.Is(err, ErrNotExist) {
		// A delete of the ID took our directory, still without state,
		// for an aborted create's (RemoveLeftover) before we could
		// lock it. What is there now, if anything, is not ours.
		return nil, fmt.Errorf("create state directory: %s: removed by a concurrent delete", dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c := &Container{root: root, id: id, dir: dir, lockf: lockf}
	var (
		init      *os.Process
		cgCreated bool
	)
	defer func() {
		if retErr != nil {
			if cgCreated {
				if err := cg.Destroy(); err != nil {
					logrus.Warn(err)
				}
			}
			if init != nil {
				init.Kill()
				init.Wait()
				// The runtime spec goes on to delete after a failed
				// create: poststop hooks run (as runc's destroy does).
				if h := spec.Hooks; h != nil && len(h.Poststop) > 0 {
					if err := hooks.RunAll("poststop", h.Poststop, c.hookState(Stopped)); err != nil {
						logrus.Warn(err)
					}
				}
			}
			os.RemoveAll(dir)
			c.Close()
		}
	}()

	self, err := readProcStat(os.Getpid())
	if err != nil {
		return nil, err
	}
	// The first state names the cgroup directories Create is about to
	// make (see cgroups.State.Claim): if we are killed from now on,
	// delete --force finds and removes them.
	if err := cg.State().Claim(); err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	c.state = &persisted{
		ID:           id,
		Bundle:       bundle,
		Rootfs:       p.rootfs,
		Created:      time.Now().UTC(),
		Annotations:  spec.Annotations,
		OCIVersion:   spec.Version,
		CreatorPid:   os.Getpid(),
		CreatorStart: self.StartTime,
		Hooks:        spec.Hooks,
		Cgroup:       cg.State(),
	}
	if err := writeState(dir, c.state); err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}

	// The cgroup exists before init does, with its limits set: init is
	// cloned straight into it (v2) or moved in before it runs anything
	// of the user's (v1).
	logrus.Debugf("create %s: making the cgroup", id)
	cgCreated = true
	if err := cg.Create(spec.Linux.Resources); err != nil {
		cgCreated = false
		return nil, err
	}

	// The exec fifo: init blocks opening it for writing until `start`
	// opens it for reading. init opens it after taking process.user's
	// ids, so others must be able to write it whatever our umask is
	// (022 under conmon: the fifo came out 0600 and a container with
	// `--user 1000` failed "open exec fifo: permission denied"); runc
	// clears its umask around mkfifo for the same reason.
	fifo := filepath.Join(dir, fifoFile)
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		return nil, fmt.Errorf("make exec fifo: %w", err)
	}
	// mkfifo's mode is cut by our umask; a non-root container user must
	// be able to open it for writing (init opens it after the uid change).
	if err := os.Chmod(fifo, 0o622); err != nil {
		return nil, fmt.Errorf("make exec fifo: %w", err)
	}
	if uid, gid, ok := rootIDs(spec); ok {
		if err := os.Chown(fifo, uid, gid); err != nil {
			return nil, fmt.Errorf("chown exec fifo: %w", err)
		}
	}
	fifoFd, err := os.OpenFile(fifo, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	defer fifoFd.Close()

	exe, _, err := exeseal.Open(dir)
	if err != nil {
		return nil, err
	}
	defer exe.Close()

	// In a new user namespace, init may not reach a bind source (see
	// rootfs.OpenBindTree): copies of them are made here, on the host,
	// and init attaches those. Not when the mount namespace is joined
	// by path: sources are resolved in it, where init is.
	bindTrees := map[int]*os.File{} // index in p.mounts -> copy of its source
	if p.ns.has(specs.UserNamespace) && !p.ns.joined(specs.MountNamespace) {
		for i, m := range p.mounts {
			o, err := rootfs.ParseOptions(m.Options)
			if err != nil || (!o.Bind() && m.Type != "bind") {
				continue
			}
			fd, err := rootfs.OpenBindTree(m.Source, m.Options)
			if err != nil {
				return nil, fmt.Errorf("mounts[%d] (bind on %s): %w", i, m.Destination, err)
			}
			f := os.NewFile(uintptr(fd), "bind-source")
			defer f.Close()
			bindTrees[i] = f
		}
	}

	syncP, syncC, err := isync.Socketpair()
	if err != nil {
		return nil, err
	}
	defer syncP.Close()
	logR, logW, err := os.Pipe()
	if err != nil {
		syncC.Close()
		return nil, err
	}
	extra := fds.New(3 + opts.PreserveFds)
	extra.Add("sync-fd", syncC)
	extra.Add("log-fd", logW)
	extra.Add("fifo-fd", fifoFd)
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		extra.Args = append(extra.Args, "--debug")
	}
	if p.seccomp != nil && p.seccomp.Notify {
		// init sends the listener fd itself, after loading the filter
		// at start time: it gets a connection opened here, on the
		// host side of the mount namespaces.
		conn, err := net.Dial("unix", p.seccomp.ListenerPath)
		if err != nil {
			logR.Close()
			logW.Close()
			syncC.Close()
			return nil, fmt.Errorf("linux.seccomp.listenerPath: %w", err)
		}
		lf, err := conn.(*net.UnixConn).File()
		conn.Close()
		if err != nil {
			return nil, err
		}
		defer lf.Close()
		extra.Add("seccomp-fd", lf)
	}
	var mountFds []int
	if len(bindTrees) > 0 {
		mountFds = make([]int, len(p.mounts))
		for i := range mountFds {
			mountFds[i] = -1
			if f, ok := bindTrees[i]; ok {
				mountFds[i] = extra.AddFile(f)
			}
		}
	}
	cgfd, err := cg.CloneFD()
	if err != nil {
		return nil, err
	}
	if cgfd != nil {
		defer cgfd.Close()
	}
	// A cgroup namespace's root is the cgroup its creator is in at that
	// moment. Where clone cannot place init in every hierarchy, init
	// makes its cgroup namespace itself, once we have moved it.
	lateCgroupNS := p.ns.create&unix.CLONE_NEWCGROUP != 0 && cg.NeedsEnter()
	if lateCgroupNS {
		p.ns.create &^= unix.CLONE_NEWCGROUP
	}
	sc := &spawnConfig{
		check:      opts.Interrupt,
		exe:        exe,
		cgroupFD:   cgfd,
		stdio:      [3]*os.File{os.Stdin, os.Stdout, os.Stderr},
		extra:      extra,
		args:       extra.Args,
		ns:         p.ns,
		uidMaps:    spec.Linux.UIDMappings,
		gidMaps:    spec.Linux.GIDMappings,
		timeOffset: spec.Linux.TimeOffsets,
	}
	for i := 0; i < opts.PreserveFds; i++ {
		sc.preserved = append(sc.preserved, os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i)))
	}
	if opts.Foreground {
		// init asks for SIGKILL when we die, itself: the standard
		// library's Pdeathsig kills a child that joined a pid
		// namespace (it sees getppid() == 0 and takes us for dead),
		// and a fork does not inherit it (rawfork's second fork).
		extra.Args = append(extra.Args, "--pdeathsig")
		sc.args = extra.Args
	}
	logrus.Debugf("create %s: starting init", id)
	hugePagesBack := hugePagesOffForInit()
	pid, err := spawn(sc)
	syncC.Close()
	logW.Close()
	if err != nil {
		logR.Close()
		return nil, err
	}
	init, _ = os.FindProcess(pid)
	logsDone := make(chan struct{})
	go forwardLogs(logR, logsDone)
	if cg.NeedsEnter() {
		if err := cg.Enter(pid, cgfd != nil); err != nil {
			return nil, err
		}
	}

	resetAffinity(pid)

	st, err := readProcStat(pid)
	if err != nil {
		return nil, fmt.Errorf("read init's start time: %w", err)
	}
	c.state.InitPid, c.state.InitStart = pid, st.StartTime

	hs := c.hookState(Creating)
	cfg := &initcfg.Config{
		ID:              id,
		Bundle:          bundle,
		Rootfs:          p.rootfs,
		Spec:            initcfg.NewSpec(spec),
		NoPivot:         opts.NoPivot,
		NoNewKeyring:    opts.NoNewKeyring,
		PreserveFds:     opts.PreserveFds,
		Mounts:          p.mounts,
		MountFds:        mountFds,
		UserNS:          p.ns.has(specs.UserNamespace),
		UnshareCgroupNS: lateCgroupNS,
		HugePagesBack:   hugePagesBack,
		HookState:       hs,
		LastCap:         p.lastCap,
		WaitHooks:       spec.Hooks != nil && (len(spec.Hooks.Prestart) > 0 || len(spec.Hooks.CreateRuntime) > 0),
		Seccomp:         p.seccomp,
	}
	if p.seccomp != nil && p.seccomp.Notify {
		st := *hs
		st.Status = specs.StateRunning
		if cfg.SeccompState, err = json.Marshal(specs.ContainerProcessState{
			Version:  specs.Version,
			Fds:      []string{specs.SeccompFdName},
			Pid:      pid,
			Metadata: p.seccomp.ListenerMetadata,
			State:    st,
		}); err != nil {
			return nil, err
		}
	}
	if p.cgroupMount {
		if cfg.CgroupMounts, err = cgroupMounts(host, cg.State()); err != nil {
			return nil, err
		}
	}
	if err := isync.SendConfig(syncP, cfg); err != nil {
		return nil, err
	}
	logrus.Debugf("create %s: init %d has its config", id, pid)
	created := &NewContainer{Container: c, Init: init}
	if err := c.serveInit(syncP, init, console, created, hs, opts.Interrupt); err != nil {
		return nil, err
	}
	<-logsDone
	logrus.Debugf("create %s: init is ready", id)

	c.state.CreatorPid, c.state.CreatorStart = 0, 0
	if err := writeSpec(dir, spec); err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}
	if err := writeState(dir, c.state); err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}
	if opts.PidFile != "" {
		if err := writePidFile(opts.PidFile, pid); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// dialConsole connects to the --console-socket at path, if there is one:
// init's pty master goes there.
func dialConsole(path string) (*net.UnixConn, error) {
	if path == "" {
		return nil, nil
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("--console-socket: %w", err)
	}
	return conn.(*net.UnixConn), nil
}

// serveInit answers init's messages until it is ready. The wait is
// bounded: an init found stopped (a process of a pid namespace it joined
// may do that) fails create, and so does the caller's interrupt.
func (c *Container) serveInit(sock *os.File, init *os.Process, console *net.UnixConn, created *NewContainer, hs *specs.State, interrupt func() error) error {
	for {
		ready, err := pollTick(int(sock.Fd()))
		if err != nil {
			return err
		}
		if !ready {
			if stopped(init.Pid) {
				return fmt.Errorf("init %d %w", init.Pid, errStopped)
			}
			if interrupt != nil {
				if err := interrupt(); err != nil {
					return err
				}
			}
			continue
		}
		m, fds, err := isync.Recv(sock)
		if errors.Is(err, isync.ErrEOF) {
			return initExited(init)
		}
		if err != nil {
			return err
		}
		switch m.Type {
		case isync.Error:
			return fmt.Errorf("unable to start container process: %s", m.Error)
		case isync.Console:
			if len(fds) != 1 {
				return fmt.Errorf("%w: console message with %d fds", isync.ErrUnexpected, len(fds))
			}
			master := os.NewFile(uintptr(fds[0]), "/dev/ptmx")
			if console != nil {
				err := sendFd(console, master)
				master.Close()
				if err != nil {
					return fmt.Errorf("--console-socket: send pty master: %w", err)
				}
			} else {
				created.Console = master
			}
		case isync.Hooks:
			h := c.state.Hooks
			if err := hooks.Run("prestart", h.Prestart, hs); err != nil {
				return err
			}
			if err := hooks.Run("createRuntime", h.CreateRuntime, hs); err != nil {
				return err
			}
			if err := isync.Signal(sock, isync.HooksDone); err != nil {
				return err
			}
		case isync.Ready:
			return nil
		default:
			for _, fd := range fds {
				unix.Close(fd)
			}
			return fmt.Errorf("%w: %q from init", isync.ErrUnexpected, m.Type)
		}
	}
}

// sendFd sends f over the console socket as one SCM_RIGHTS message whose
// payload is the file's name: what containerd and conmon expect.
func sendFd(conn *net.UnixConn, f *os.File) error {
	_, _, err := conn.WriteMsgUnix([]byte(f.Name()), unix.UnixRights(int(f.Fd())), nil)
	return err
}

// rootIDs returns the host uid and gid of the container's root when it
// has its own user namespace, so that init can open the fifo.
func rootIDs(spec *specs.Spec) (int, int, bool) {
	uid, okU := hostID(spec.Linux.UIDMappings, 0)
	gid, okG := hostID(spec.Linux.GIDMappings, 0)
	return uid, gid, okU && okG
}

func hostID(m []specs.LinuxIDMapping, id uint32) (int, bool) {
	for _, x := range m {
		if id >= x.ContainerID && id < x.ContainerID+x.Size {
			return int(x.HostID + id - x.ContainerID), true
		}
	}
	return 0, false
}

func writePidFile(name string, pid int) error {
	abs, err := filepath.Abs(name)
	if err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	if err := writeFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	return nil
}

// Spec returns the config the container was created with (as updated).
func (c *Container) Spec() (*specs.Spec, error) {
	return readSpec(c.dir)
}

// resetAffinity gives init (and so the user's process, which inherits it
// from init's main thread, the one that execs) every CPU its cgroup
// allows rather than our caller's affinity (`taskset -c 0 runc run`), as
// runc 1.4+ does once the cgroup is set up: the kernel clamps a full mask
// to the CPUs there are and to the cpuset, and remembers the rest should
// the cpuset grow. A failure leaves the caller's affinity: a warning.
func resetAffinity(pid int) {
	var all unix.CPUSet
	for i := range all {
		all[i] = ^all[i]
	}
	if err := unix.SchedSetaffinity(pid, &all); err != nil {
		logrus.Warnf("resetting the CPU affinity of pid %d failed -- the container process may inherit the runtime's CPU affinity: %v", pid, err)
	}
}
