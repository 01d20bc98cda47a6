package libsandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/fds"
	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	isync "github.com/sandbox-runtime/sandbox-runtime/internal/sync"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal/sealfd"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/hooks"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
)

// Create validates spec, creates the container and returns once its init
// waits on the exec fifo. On any error nothing is left behind: no state
// directory, no cgroup, no process.
//
// It is a list of named steps (createSteps), each undoing what it made
// if a later one fails; see runSteps.
func Create(root, id string, spec *specs.Spec, opts *CreateOpts) (*NewContainer, error) {
	cr := &creation{root: root, id: id, spec: spec, opts: opts}
	defer cr.release()
	if err := runSteps(id, cr.steps()); err != nil {
		return nil, rootlessHint(err)
	}
	return cr.created, nil
}

// step is one step of an operation: do makes something, and returns how
// to take it away again should a later step fail (nil: nothing to undo).
// A step that fails after it has made something returns that undo with
// its error.
type step struct {
	name string
	do   func() (undo func(), err error)
}

// runSteps runs steps in order. When one fails, its own undo (if it
// returned one) and then those of the steps before it run, in reverse
// order, and its error is returned as it is: the steps word their errors
// for the user.
func runSteps(id string, steps []step) error {
	var undos []func()
	for _, s := range steps {
		logrus.Debugf("create %s: %s", id, s.name)
		undo, err := s.do()
		if undo != nil {
			undos = append(undos, undo)
		}
		if err != nil {
			logrus.Debugf("create %s: %s failed: %v", id, s.name, err)
			for i := len(undos) - 1; i >= 0; i-- {
				undos[i]()
			}
			return err
		}
	}
	return nil
}

// creation is one Create on its way: what the steps make and pass on.
type creation struct {
	root, id string
	spec     *specs.Spec
	opts     *CreateOpts

	bundle string
	plan   *plan
	host   *cgroups.Host
	cg     cgroups.Manager
	c      *Container
	dir    string

	// Held until Create returns, whatever happens (release closes them).
	console   *net.UnixConn
	pidfdConn *net.UnixConn
	fifoFd    *os.File
	exe       *os.File
	syncP     *os.File
	syncC     *os.File
	logR      *os.File
	logW      *os.File
	cgfd      *os.File
	closers   []func()

	// tasksLimited: setTasksLimit has written the pids limit.
	tasksLimited bool
	// bornIn: init was born in its v1 cgroups (cgroups.EnterThread),
	// not moved there; threadStuck: the thread that cloned it could not
	// leave them, and the cgroup is left rather than signalled.
	bornIn      bool
	threadStuck bool
	// endingThread: the fork thread ended in the container's v1 cgroups
	// rather than moving back (forkOnThread): makeCgroup's undo waits
	// for it to be gone before it freezes them.
	endingThread int
	// loopbackUp: the fork thread brought up the loopback device of
	// init's network namespace (newForkThread); init need not.
	loopbackUp bool
	// oomScoreAdjSet: startInit wrote init's oom_score_adj.
	oomScoreAdjSet bool
	// hooksOutside: we run the createContainer hooks, not init
	// (containerHooksOutside).
	hooksOutside bool

	// Passed to init.
	extra         *fds.List
	askSources    bool
	lateCgroupNS  bool
	hugePagesBack bool

	sealing    *sealing
	forkThread *forkThread
	init       *os.Process
	logsDone   chan struct{}
	created    *NewContainer
}

func (cr *creation) steps() []step {
	return []step{
		{name: "validate the config", do: cr.validate},
		{name: "check that the ID and the cgroup are free", do: cr.checkFree},
		{name: "make the network namespace, in the background", do: cr.startForkThread},
		{name: "connect to the console and pidfd sockets", do: cr.dialConsole},
		{name: "make the state directory", do: cr.makeStateDir},
		{name: "seal the runtime binary, in the background", do: cr.startSeal},
		{name: "write the first state", do: cr.writeFirstState},
		{name: "make the cgroup", do: cr.makeCgroup},
		{name: "write the cgroup's inodes to the state", do: cr.writeCgroupInodes},
		{name: "make the exec fifo", do: cr.makeFifo},
		{name: "wait for the sealed binary", do: cr.awaitSeal},
		{name: "open init's channels", do: cr.openChannels},
		{name: "start init", do: cr.startInit},
		{name: "move init into its cgroup", do: cr.enterCgroup},
		{name: "move the network devices into init's namespace", do: cr.netDevicesStep},
		{name: "put init in its resctrl group", do: cr.intelRdtStep},
		{name: "send init its config", do: cr.sendConfig},
		{name: "serve init until it is ready", do: cr.serveInit},
		{name: "limit the container's tasks", do: cr.limitTasks},
		{name: "write the state", do: cr.writeFinalState},
	}
}

// release closes what Create holds only while it runs.
func (cr *creation) release() {
	for i := len(cr.closers) - 1; i >= 0; i-- {
		cr.closers[i]()
	}
}

// hold closes f when Create returns.
func (cr *creation) hold(f interface{ Close() error }) {
	cr.closers = append(cr.closers, func() { f.Close() })
}

func (cr *creation) validate() (func(), error) {
	if err := ValidateID(cr.id); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(cr.opts.Bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	cr.bundle = bundle
	p, err := resolveCached(cr.spec, bundle, seccompCacheDir(cr.root))
	if err != nil {
		return nil, err
	}
	cr.plan = p
	cr.closers = append(cr.closers, p.ns.close)
	for _, w := range p.warnings {
		logrus.Warn(w)
	}
	spec, opts := cr.spec, cr.opts
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
	if Rootless() {
		// Device rules need CAP_SYS_ADMIN on the host (a v1
		// devices.allow write, a v2 eBPF program), which a runtime
		// without root never has; its containers get the host's
		// device nodes bind-mounted (rootfs makeDevice), with the
		// host's permissions. runc's rootless mode ignores them too.
		if len(devRules) > 0 {
			logrus.Debugf("create %s: linux.resources.devices not applied: the runtime runs without root", cr.id)
		}
		rules = nil
	}
	if cr.host, err = cgroups.Probe(); err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	cr.cg, err = cgroups.New(cr.host, cgroups.Config{
		Path: spec.Linux.CgroupsPath, ID: cr.id, Devices: rules,
		Systemd: cr.opts.SystemdCgroup, Annotations: spec.Annotations,
		UserInstance: cr.opts.SystemdCgroup && userSystemd(os.Geteuid(), InUserNS(), os.Getenv("XDG_RUNTIME_DIR")),
	})
	if err != nil {
		return nil, err
	}
	return nil, nil
}

// checkFree runs before anything is made on the host: a refused cgroup
// leaves nothing to clean up (cg.Create checks again). An ID in use is
// the error to give first, as runc does (factory_linux.go Create looks
// for the state directory, then at the cgroup, then makes the
// directory); makeStateDir's Mkdir still decides.
func (cr *creation) checkFree() (func(), error) {
	if _, err := os.Lstat(filepath.Join(cr.root, cr.id)); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrExist, cr.id)
	}
	return nil, cr.host.Check(cr.spec.Linux.CgroupsPath, cr.cg.State())
}

// hasCgroup: the container has a cgroup of its own (a runtime without
// root may go without one: makeCgroup).
func (cr *creation) hasCgroup() bool { return cr.cg != nil }

// cgState is the container's cgroup, nil without one.
func (cr *creation) cgState() *cgroups.State {
	if !cr.hasCgroup() {
		return nil
	}
	return cr.cg.State()
}

func (cr *creation) dialConsole() (func(), error) {
	console, err := dialConsole(cr.opts.ConsoleSocket)
	if err != nil {
		return nil, err
	}
	if console != nil {
		cr.console = console
		cr.hold(console)
	}
	pidfdConn, err := dialPidfdSocket(cr.opts.PidfdSocket)
	if err != nil {
		return nil, err
	}
	if pidfdConn != nil {
		cr.pidfdConn = pidfdConn
		cr.hold(pidfdConn)
	}
	return nil, nil
}

func (cr *creation) makeStateDir() (func(), error) {
	if err := os.MkdirAll(cr.root, 0o700); err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	dir := filepath.Join(cr.root, cr.id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExist, cr.id)
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
	cr.dir = dir
	cr.c = &Container{root: cr.root, id: cr.id, dir: dir, lockf: lockf}
	if err := cr.newState(); err != nil {
		cr.c.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	return func() {
		os.RemoveAll(dir)
		cr.c.Close()
	}, nil
}

// newState is the container's state as the steps fill it in (init's pid
// by startInit, ...); writeFirstState and writeFinalState save it.
func (cr *creation) newState() error {
	self, err := readProcStat(os.Getpid())
	if err != nil {
		return err
	}
	spec := cr.spec
	cr.c.state = &persisted{
		ID:           cr.id,
		Bundle:       cr.bundle,
		Rootfs:       cr.plan.rootfs,
		Created:      time.Now().UTC(),
		Annotations:  spec.Annotations,
		OCIVersion:   spec.Version,
		CreatorPid:   os.Getpid(),
		CreatorStart: self.StartTime,
		Hooks:        spec.Hooks,
		Cgroup:       cr.cg.State(),
	}
	return nil
}

// writeFirstState saves a state before the cgroup is made. It names the
// cgroup directories Create is about to make (see cgroups.State.Claim)
// and us as its creator: if we are killed from now on, delete --force
// finds and removes them. It comes right before the cgroup: naming the
// directories long before they are made would let another container
// make them meanwhile if this create died, and delete --force of this
// one kill that one's processes (a review showed it, when the cgroup came
// after init on v1).
func (cr *creation) writeFirstState() (func(), error) {
	if err := cr.cg.State().Claim(); err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	return nil, cr.writeCreatingState()
}

// writeCreatingState saves the state of a container being created.
func (cr *creation) writeCreatingState() error {
	// init is recorded by the final state, once it is ready: until
	// then the container is creating, and a create killed meanwhile
	// leaves it stopped.
	st := *cr.c.state
	st.InitPid, st.InitStart, st.InitExe = 0, 0, nil
	if err := writeState(cr.dir, &st); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// writeCgroupInodes saves the state again once the cgroup is made, with
// the inodes of its directories (cgroups.State.Inodes), before init
// exists: delete --force of a create killed from now on, when init may
// be in the cgroup, acts on the directories only while they are still
// the ones made here. The first state has 0 for each (Claim): nothing
// of the container can be in them yet, and delete only removes them if
// they are empty.
func (cr *creation) writeCgroupInodes() (func(), error) {
	if !cr.hasCgroup() || len(cr.cg.State().Inodes) == 0 {
		return nil, nil // none (withoutCgroup), or systemd's
	}
	return nil, cr.writeCreatingState()
}

// makeCgroup: the cgroup exists before init does, with its limits set
// but the pids limit (withoutPids): init is cloned straight into it (v2),
// born in it from a thread of ours that moved there (v1: startInit), or
// moved in before it runs anything of the user's (systemd's first
// process, and v1 where our thread cannot move). cg.Create removes what
// it made if it fails itself.
func (cr *creation) makeCgroup() (func(), error) {
	if err := cr.cg.Create(withoutPids(cr.spec.Linux.Resources)); err != nil {
		if Rootless() && privilegeError(err) {
			return nil, cr.withoutCgroup(err)
		}
		return nil, err
	}
	return func() {
		if cr.threadStuck {
			// Signalling what is in it would signal us.
			logrus.Warnf("cgroup %v left: %v", cr.cg.State().V1, cgroups.ErrThreadStuck)
			return
		}
		if t := cr.endingThread; t != 0 && !threadGone(t, time.Second) {
			// The fork thread that ended there has not yet:
			// freezing it with the rest would stop us too.
			logrus.Warnf("cgroup %v left: thread %d of the runtime has not left it", cr.cg.State().V1, t)
			return
		}
		// Undo, not Destroy: the parents this create made go too.
		if err := cr.cg.Undo(); err != nil {
			logrus.Warn(err)
		}
	}, nil
}

// withoutPids returns r without its pids limit (linux.resources.pids and
// a unified pids.max), which setTasksLimit writes once init's Go runtime
// has started its threads. Set before, the limit would count them: on v2
// init is cloned into the cgroup, and under a small limit (a limit of 0
// is pids.max 1) its runtime could not start the threads it needs and
// create failed with "pthread_create failed"; on v1 and systemd init is
// moved in while its runtime may still be starting them. runc sets its
// limits at the same point (procHooks). The other limits, which init's
// few threads cannot reach, stay in force from its first instruction.
func withoutPids(r *specs.LinuxResources) *specs.LinuxResources {
	t := tasksLimit(r)
	if t == nil {
		return r
	}
	c := *r
	c.Pids = nil
	if t.Unified != nil {
		c.Unified = map[string]string{}
		for k, v := range r.Unified {
			if k != "pids.max" {
				c.Unified[k] = v
			}
		}
	}
	return &c
}

// tasksLimit is what withoutPids leaves out, or nil. A unified pids.max
// comes after the field, as the fs2 driver writes them, so it wins.
func tasksLimit(r *specs.LinuxResources) *specs.LinuxResources {
	if r == nil {
		return nil
	}
	v, unified := r.Unified["pids.max"]
	if r.Pids == nil && !unified {
		return nil
	}
	t := &specs.LinuxResources{Pids: r.Pids}
	if unified {
		t.Unified = map[string]string{"pids.max": v}
	}
	return t
}

// waitHooks: init waits for us before the createContainer hooks, for
// the prestart and createRuntime hooks we run, and for the pids limit
// when the createContainer hooks would otherwise fork without it.
func waitHooks(spec *specs.Spec) bool {
	h := spec.Hooks
	return h != nil && (len(h.Prestart) > 0 || len(h.CreateRuntime) > 0 ||
		len(h.CreateContainer) > 0 && tasksLimit(spec.Linux.Resources) != nil)
}

// setTasksLimit writes the pids limit makeCgroup left out, once: when
// init asks for the hooks (before prestart, createRuntime and
// createContainer hooks, which may fork: init waits for it then when
// there are createContainer hooks and a limit), or else once init is
// ready (limitTasks). Either way nothing of the user's has run: init
// waits for start.
func (cr *creation) setTasksLimit() error {
	t := tasksLimit(cr.spec.Linux.Resources)
	if cr.cg == nil || t == nil || cr.tasksLimited {
		return nil
	}
	if err := cr.cg.Update(t, nil); err != nil {
		return fmt.Errorf("set the pids limit: %w", err)
	}
	cr.tasksLimited = true
	// The systemd driver connected again for the property: a
	// foreground run would hold the connection for the container's
	// life (Enter closed its first one for that reason).
	if c, ok := cr.cg.(interface{ Close() }); ok {
		c.Close()
	}
	return nil
}

// limitTasks sets the pids limit if the hooks did not come first.
func (cr *creation) limitTasks() (func(), error) {
	return nil, cr.setTasksLimit()
}

// withoutCgroup decides what a runtime without root does when it may
// not make the container's cgroup (err): as runc's rootless cgroup mode,
// the container goes on in the runtime's own cgroup if it asked for no
// limit and no cgroupsPath (cgroup v1 and hybrid hosts, where a user is
// given no cgroup, and v2 without a delegated subtree); it fails
// otherwise, naming what it asked for.
func (cr *creation) withoutCgroup(err error) error {
	const why = "the runtime runs without root and may not make the container's cgroup"
	if f := limitAsked(cr.spec.Linux.Resources); f != "" {
		return fmt.Errorf("%s: cannot be applied: %s (%v); give the user a delegated cgroup v2 subtree, or remove the limit", f, why, err)
	}
	if p := cr.spec.Linux.CgroupsPath; p != "" {
		return fmt.Errorf("linux.cgroupsPath %q: %s (%v); without cgroupsPath and limits the container runs without one", p, why, err)
	}
	logrus.Debugf("create %s: no cgroup: %s (%v)", cr.id, why, err)
	cr.cg = nil
	cr.c.state.Cgroup = nil
	if err := writeState(cr.dir, cr.c.state); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// limitAsked returns the first resource limit r sets, named as its field
// (linux.resources.memory.limit), or "": device rules do not count (see
// validate), nor empty objects (podman's "resources": {}).
func limitAsked(r *specs.LinuxResources) string {
	if r == nil {
		return ""
	}
	c := *r
	c.Devices = nil
	b, err := json.Marshal(c)
	if err != nil {
		return "linux.resources"
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return "linux.resources"
	}
	// In the spec's order.
	for _, k := range []string{"memory", "cpu", "pids", "blockIO", "hugepageLimits", "network", "rdma", "unified"} {
		v, ok := top[k]
		if !ok || emptyJSON(v) {
			continue
		}
		var sub map[string]json.RawMessage
		if json.Unmarshal(v, &sub) == nil {
			keys := make([]string, 0, len(sub))
			for sk, sv := range sub {
				if !emptyJSON(sv) {
					keys = append(keys, sk)
				}
			}
			if len(keys) == 0 {
				continue
			}
			sort.Strings(keys)
			if k != "rdma" && k != "unified" {
				return "linux.resources." + k + "." + keys[0]
			}
		}
		return "linux.resources." + k
	}
	return ""
}

func emptyJSON(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s == "null" || s == "{}" || s == "[]" || s == `""`
}

// makeFifo makes the exec fifo: init blocks opening it for writing until
// `start` opens it for reading. init opens it after taking
// process.user's ids, so others must be able to write it whatever our
// umask is (022 under conmon: the fifo came out 0600 and a container with
// `--user 1000` failed "open exec fifo: permission denied"); runc clears
// its umask around mkfifo for the same reason. It goes with the state
// directory.
func (cr *creation) makeFifo() (func(), error) {
	fifo := filepath.Join(cr.dir, fifoFile)
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		return nil, fmt.Errorf("make exec fifo: %w", err)
	}
	// mkfifo's mode is cut by our umask.
	if err := os.Chmod(fifo, 0o622); err != nil {
		return nil, fmt.Errorf("make exec fifo: %w", err)
	}
	if uid, gid, ok := rootIDs(cr.spec); ok {
		// A runtime without root may not give it to the container's
		// root when that is one of the user's subordinate ids (a map
		// through newuidmap); the mode lets it open the fifo anyway.
		if err := os.Chown(fifo, uid, gid); err != nil && !(Rootless() && privilegeError(err)) {
			return nil, fmt.Errorf("chown exec fifo: %w", err)
		}
	}
	f, err := os.OpenFile(fifo, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	cr.fifoFd = f
	cr.hold(f)
	return nil, nil
}

// sealing is the sealed copy of the runtime's binary that init runs
// from (CVE-2019-5736: exeseal), made in the background: startSeal
// starts it once the state directory is there, and awaitSeal takes it
// before init's channels. The first state and the cgroup, which take
// ~1.5 ms on a v1 host, hide the ~0.25 ms it takes. The goroutine
// touches nothing of the creation's (sealOpener reads what it needs
// before it starts) and hands its file over through done.
type sealing struct {
	done chan struct{}
	exe  *os.File
	err  error
}

func (cr *creation) startSeal() (func(), error) {
	s := &sealing{done: make(chan struct{})}
	cr.sealing = s
	open := cr.sealOpener()
	go func() {
		defer close(s.done)
		s.exe, s.err = open()
	}()
	// Should a step before awaitSeal fail: the file is closed once
	// made (closing it twice, after awaitSeal, is harmless).
	return func() {
		<-s.done
		if s.exe != nil {
			s.exe.Close()
		}
	}, nil
}

func (cr *creation) awaitSeal() (func(), error) {
	s := cr.sealing
	<-s.done
	if s.err != nil {
		return nil, s.err
	}
	cr.exe = s.exe
	cr.hold(s.exe)
	return nil, nil
}

// sealOpener returns how init's binary is sealed.
// What it needs is read here, not in the goroutine that runs it.
func (cr *creation) sealOpener() func() (*os.File, error) {
	dir, cacheDir := cr.dir, exeCacheDir(cr.root)
	open := func() (*os.File, error) { f, _, err := exeseal.Open(dir); return f, err }
	if cr.plan.ns.has(specs.UserNamespace) && !Rootless() {
		// init executes in that user namespace, and its processes (a
		// pod's containers share it; another container may join it
		// while this one is created) hold CAP_SYS_PTRACE over it if any
		// holds it: executed from a readable copy, init's memory
		// belongs to that namespace, and they could attach to it, or
		// take its fds (our sync socket, the caller's stdio) through
		// /proc/PID/fd, from its start to its execve of the
		// container's process (reviews did, as the host user who owned
		// the namespace and as a container that joined it). An
		// exec-only copy keeps init's memory in our user namespace and
		// init non-dumpable (sealfd.MemfdExecOnly), as long as
		// fs.suid_dumpable is not 1: the kernel makes such an exec
		// dumpable as that setting says (checkSuidDumpable). The copy
		// is made once per binary in the root and sealed for each container
		// (exeseal.OpenExecOnlyCached says what keeps it). A rootless
		// runtime's namespaces are its user's own.
		if hasCapSysPtrace() {
			open = func() (*os.File, error) {
				f, how, warn, err := exeseal.OpenExecOnlyCached(cacheDir, dir)
				if warn != nil {
					logrus.Warnf("the runtime's exec-only copy was changed since it was made, and was removed: %v", warn)
				}
				logrus.Debugf("init runs from an exec-only copy: %s", how)
				return f, err
			}
		} else {
			// Then init's /proc files would be closed to us too
			// (exec into it, its namespaces for an idmapped mount).
			logrus.Warn("no CAP_SYS_PTRACE: the init of a container with a user namespace runs from a readable copy of the runtime, which processes with CAP_SYS_PTRACE in that namespace can attach to until it starts")
		}
	}
	return open
}

// startForkThread starts the thread init will be forked from, which
// makes the container's new network namespace while the next steps run
// (newForkThread says why, and what the thread holds). Not with a user
// namespace, created or joined: the network namespace would have to be
// made in it, after it, and a process with more than one thread cannot
// make or join one; nor when rawfork forks init.
func (cr *creation) startForkThread() (func(), error) {
	ns := cr.plan.ns
	if ns.create&unix.CLONE_NEWNET == 0 || ns.has(specs.UserNamespace) || needsRawFork(ns) {
		return nil, nil
	}
	cr.forkThread = newForkThread(true)
	return cr.forkThread.release, nil
}

// openChannels makes what init is given: the sync socket, the log pipe,
// the exec fifo, the seccomp agent's connection and the v2 cgroup to be
// cloned into, each as an fd numbered for init's command line
// (internal/fds).
func (cr *creation) openChannels() (func(), error) {
	p, opts := cr.plan, cr.opts
	syncP, syncC, err := isync.Socketpair()
	if err != nil {
		return nil, err
	}
	// Our ends of init's: closed as soon as init has them (startInit),
	// or when Create returns if it never gets them. Closing a File twice
	// is harmless.
	cr.syncP, cr.syncC = syncP, syncC
	cr.hold(syncP)
	cr.hold(syncC)
	logR, logW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cr.logR, cr.logW = logR, logW
	cr.hold(logW)
	cr.closers = append(cr.closers, func() {
		// Unless forwardLogs took it (startInit).
		if cr.logsDone == nil {
			logR.Close()
		}
	})
	cr.extra = fds.New(3 + opts.PreserveFds)
	cr.extra.Add("sync-fd", syncC)
	cr.extra.Add("log-fd", logW)
	cr.extra.Add("fifo-fd", cr.fifoFd)
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		cr.extra.Args = append(cr.extra.Args, "--debug")
	}
	if p.seccomp != nil && p.seccomp.Notify {
		// init sends the listener fd itself, after loading the filter
		// at start time: it gets a connection opened here, on the host
		// side of the mount namespaces.
		conn, err := net.Dial("unix", p.seccomp.ListenerPath)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp.listenerPath: %w", err)
		}
		lf, err := conn.(*net.UnixConn).File()
		conn.Close()
		if err != nil {
			return nil, err
		}
		cr.hold(lf)
		cr.extra.Add("seccomp-fd", lf)
	}
	// In a new user namespace init may not reach a bind source
	// (rootfs.openSource): it asks us for it (serveInit). Not when the
	// mount namespace is joined by path: init resolves sources in it.
	// An idmapped mount is always ours to make (idmap.go).
	cr.askSources = p.ns.has(specs.UserNamespace) && !p.ns.joined(specs.MountNamespace) || p.idmapped
	if !cr.hasCgroup() {
		return nil, nil
	}
	if cr.cgfd, err = cr.cg.CloneFD(); err != nil {
		return nil, err
	}
	if cr.cgfd != nil {
		cr.hold(cr.cgfd)
	}
	// A cgroup namespace's root is the cgroup its creator is in at that
	// moment. Where clone cannot place init in every hierarchy, init
	// makes its cgroup namespace itself, once we have moved it.
	cr.lateCgroupNS = p.ns.create&unix.CLONE_NEWCGROUP != 0 && cr.cg.NeedsEnter()
	if cr.lateCgroupNS {
		p.ns.create &^= unix.CLONE_NEWCGROUP
	}
	return nil, nil
}

// startInit starts the runtime binary, sealed, as init in the
// container's namespaces (spawn); init waits for its config.
// If a later step fails, init is killed and the poststop hooks run: the
// runtime spec goes on to delete after a failed create, as runc's
// destroy does.
func (cr *creation) startInit() (func(), error) {
	p, opts, spec := cr.plan, cr.opts, cr.spec
	sc := &spawnConfig{
		check:      opts.Interrupt,
		exe:        cr.exe,
		cgroupFD:   cr.cgfd,
		stdio:      [3]*os.File{os.Stdin, os.Stdout, os.Stderr},
		extra:      cr.extra,
		args:       cr.extra.Args,
		ns:         p.ns,
		uidMaps:    spec.Linux.UIDMappings,
		gidMaps:    spec.Linux.GIDMappings,
		idMaps:     p.idMaps,
		timeOffset: spec.Linux.TimeOffsets,
		unfreeze:   cgroups.UnfreezeOurs,
		thread:     cr.forkThread,
	}
	if p.ns.joined(specs.PIDNamespace) {
		// Init in a pid namespace it joined is seen by the processes
		// there, which may move it into a frozen cgroup of theirs
		// (cgroups.HeldFrozen): the wait for it fails, and what is killed is
		// moved out of the freezer, so that it dies. Looked at every
		// turn of rawfork's wait: only for such an init.
		sc.held = func(pid int) error { return heldError(pid, cr.cgState()) }
	}
	for i := 0; i < opts.PreserveFds; i++ {
		sc.preserved = append(sc.preserved, os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i)))
	}
	if opts.Foreground {
		// init asks for SIGKILL when we die, itself: the standard
		// library's Pdeathsig kills a child that joined a pid
		// namespace (it sees getppid() == 0 and takes us for dead),
		// and a fork does not inherit it (rawfork's second fork).
		cr.extra.Args = append(cr.extra.Args, "--pdeathsig")
		sc.args = cr.extra.Args
	}
	if cr.hasCgroup() && cr.cg.Version() == "v1" && cr.cg.NeedsEnter() && !Rootless() {
		// Born in its v1 cgroups rather than moved there: a move waits
		// for an RCU grace period (cgroups.Host.EnterThread).
		st := cr.cg.State()
		sc.bornIn = func(oneWay bool) (func() error, error) { return cr.host.EnterThread(st, oneWay) }
		// A foreground run's init asks for its parent-death signal
		// (--pdeathsig, above) only once it has its config, which
		// sendConfig sends once the thread has exited: it then dies
		// with the threads that stay.
		sc.threadMayEnd = true
	}
	cr.hugePagesBack = hugePagesOffForInit()
	pid, err := spawn(sc)
	cr.bornIn, cr.threadStuck = sc.bornInDone, errors.Is(err, cgroups.ErrThreadStuck)
	cr.loopbackUp, cr.endingThread = sc.loopbackUp, sc.endingThread
	if cr.bornIn && !cr.cg.State().HoldsV1(pid) {
		// Moved meanwhile, with all our threads (a write of our pid
		// to some cgroup.procs): enterCgroup moves it.
		logrus.Debugf("create %s: init was not born in its cgroup: it is moved there", cr.id)
		cr.bornIn = false
	}
	cr.syncC.Close()
	cr.logW.Close()
	if err != nil {
		return nil, err
	}
	cr.init, _ = os.FindProcess(pid)
	cr.logsDone = make(chan struct{})
	go forwardLogs(cr.logR, cr.logsDone)
	undo := func() {
		// Not once reaped (initExited; Kill then says so): its pid may
		// name another process by now.
		if !errors.Is(cr.init.Kill(), os.ErrProcessDone) {
			// A frozen task ignores SIGKILL until thawed, and a
			// process of a pid namespace init joined may have frozen
			// it (cgroups.HeldFrozen): moved out of the freezer, it dies.
			// Whatever its state: a check first would leave a window
			// for a freeze (rawfork's thaw). A grace period more, on
			// a failed create only. init is our unreaped child: its
			// pid is its own.
			if err := cgroups.UnfreezeOurs(pid); err != nil {
				logrus.Debugf("create %s: %v", cr.id, err)
			}
			// Bounded: a process of a pid namespace init joined may
			// be tracing it, and gets its zombie first.
			rawfork.ReapKilled(pid)
		}
		if h := spec.Hooks; h != nil && len(h.Poststop) > 0 {
			if err := hooks.RunAll("poststop", h.Poststop, cr.c.hookState(Stopped)); err != nil {
				logrus.Warn(err)
			}
		}
	}
	if adj := spec.Process.OOMScoreAdj; adj != nil && !Rootless() {
		// Written from here, through the host's /proc (init is our
		// child: its pid is its own): init running from the exec-only
		// copy (sealOpener) is non-dumpable, and its /proc files are
		// then our user namespace's root's, which init in the
		// container's may not write (a review found every container
		// with a user namespace and an oomScoreAdj failing).
		if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/oom_score_adj", []byte(strconv.Itoa(*adj)), 0); err != nil {
			return undo, fmt.Errorf("process.oomScoreAdj: %w", err)
		}
		cr.oomScoreAdjSet = true
	}
	if cr.plan.ns.has(specs.UserNamespace) && !Rootless() && mapsExecOnlyOwner(pid) {
		// No file can be exec-only for a namespace that maps both: its
		// root reads any (privileged_wrt_inode_uidgid).
		logrus.Warnf("the user namespace of the container maps host uid 0 and gid %d: its processes with CAP_SYS_PTRACE in it can attach to init until it starts", sealfd.ExecOnlyGid)
	}
	st, err := readProcStat(pid)
	if err != nil {
		return undo, fmt.Errorf("read init's start time: %w", err)
	}
	cr.c.state.InitPid, cr.c.state.InitStart = pid, st.StartTime
	if exe, ok := exeOf(pid); ok {
		cr.c.state.InitExe = &exe
	}
	return undo, nil
}

// enterCgroup moves init into the hierarchies that clone could not place
// it in (v1's, or a systemd scope's first process), and gives it every
// CPU its cgroup allows. init acts on nothing before: it waits for its
// config (sendConfig).
func (cr *creation) enterCgroup() (func(), error) {
	pid := cr.c.state.InitPid
	// Born there: in every v1 hierarchy from our thread, in the v2 one
	// of a hybrid host from clone (its CloneFD).
	if cr.hasCgroup() && cr.cg.NeedsEnter() && !cr.bornIn {
		if err := cr.cg.Enter(pid, cr.cgfd != nil); err != nil {
			return nil, err
		}
	}
	resetAffinity(pid)
	return nil, nil
}

// sendConfig sends init the part of the spec it acts on (initcfg) and
// what we worked out for it.
func (cr *creation) sendConfig() (func(), error) {
	p, opts, spec := cr.plan, cr.opts, cr.spec
	pid := cr.c.state.InitPid
	hs := cr.c.hookState(Creating)
	cr.hooksOutside = containerHooksOutside(spec, p.ns)
	if t := cr.endingThread; t != 0 && opts.Foreground && !threadGone(t, time.Second) {
		// init asks for its parent-death signal once it has this
		// config (nsexec's dieWithParent): that thread's exit after
		// would kill it. Gone, it has given init to a thread that stays
		// (the kernel's find_new_reaper: a live thread of ours first).
		// Still there after a second, it is frozen in the container's
		// cgroups.
		return nil, fmt.Errorf("start init: thread %d of the runtime, which forked it, has not exited", t)
	}
	cfg := &initcfg.Config{
		ID:              cr.id,
		Bundle:          cr.bundle,
		Rootfs:          p.rootfs,
		Spec:            initcfg.NewSpec(spec),
		NoPivot:         opts.NoPivot,
		NoNewKeyring:    opts.NoNewKeyring,
		PreserveFds:     opts.PreserveFds,
		Mounts:          p.mounts,
		AskMountSources: cr.askSources,
		// A runtime in a user namespace (rootless podman's) makes a
		// container in it even without one of its own: devices and
		// sysfs are as in a user namespace of the container's.
		UserNS:                p.ns.has(specs.UserNamespace) || InUserNS(),
		Rootless:              Rootless(),
		UnshareCgroupNS:       cr.lateCgroupNS,
		LoopbackUp:            p.ns.create&unix.CLONE_NEWNET != 0 && !cr.loopbackUp,
		HugePagesBack:         cr.hugePagesBack,
		HookState:             hs,
		LastCap:               p.lastCap,
		WaitHooks:             waitHooks(spec),
		ContainerHooksOutside: cr.hooksOutside,
		OOMScoreAdjSet:        cr.oomScoreAdjSet,
		Seccomp:               p.seccomp,
	}
	if p.seccomp != nil && p.seccomp.Notify {
		st := *hs
		st.Status = specs.StateRunning
		var err error
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
		var err error
		st := ownCgroups(cr.host)
		if cr.hasCgroup() {
			st = cr.cg.State()
		}
		if cfg.CgroupMounts, err = cgroupMounts(cr.host, st); err != nil {
			return nil, err
		}
	}
	return nil, isync.SendConfig(cr.syncP, cfg)
}

// serveInit answers init (console, hooks) until it is ready, and waits
// for its last log lines.
func (cr *creation) serveInit() (func(), error) {
	cr.created = &NewContainer{Container: cr.c, Init: cr.init}
	var sources *mountSources
	if cr.askSources {
		st := cr.c.state
		sources = &mountSources{pid: st.InitPid, start: st.InitStart, mounts: cr.plan.mounts,
			idmap: &idmapper{pid: st.InitPid, start: st.InitStart}}
		defer sources.idmap.close()
	}
	var containerHooks func() error
	if cr.hooksOutside {
		containerHooks = cr.runContainerHooks
	}
	joinedPID := cr.plan.ns.joined(specs.PIDNamespace)
	check := func() error {
		if cr.opts.Interrupt != nil {
			if err := cr.opts.Interrupt(); err != nil {
				return err
			}
		}
		if !joinedPID {
			return nil // nothing of a container can see init
		}
		return heldError(cr.init.Pid, cr.cgState())
	}
	if err := cr.c.serveInit(cr.syncP, cr.init, cr.console, cr.created, cr.c.hookState(Creating), sources, check, cr.setTasksLimit, containerHooks); err != nil {
		return nil, err
	}
	<-cr.logsDone
	if cr.pidfdConn != nil {
		if err := sendPidfd(cr.pidfdConn, cr.c.state.InitPid, "standard"); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// writeFinalState saves the config (for exec, update...) and the state
// without a creator: from now on the container stands on its own.
func (cr *creation) writeFinalState() (func(), error) {
	st := cr.c.state
	st.CreatorPid, st.CreatorStart = 0, 0
	var err error
	if cr.opts.SpecJSON != nil {
		err = writeFileAtomic(filepath.Join(cr.dir, specFile), cr.opts.SpecJSON, 0o600)
	} else {
		err = writeSpec(cr.dir, cr.spec)
	}
	if err == nil && cr.plan.seccomp != nil {
		err = writeSeccomp(cr.dir, cr.plan.seccomp)
	}
	if err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}
	if err := writeState(cr.dir, st); err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}
	if cr.opts.PidFile != "" {
		if err := writePidFile(cr.opts.PidFile, st.InitPid); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// serveInit answers init's messages until it is ready. The wait is
// bounded: an init found stopped (a process of a pid namespace it joined
// may do that) fails create, and so does the caller's interrupt. sources
// answers mountSource (nil: init may not ask); beforeHooks runs when
// init asks for the hooks, before them; containerHooks runs the
// createContainer hooks when init asks (nil: init may not ask).
func (c *Container) serveInit(sock *os.File, init *os.Process, console *net.UnixConn, created *NewContainer, hs *specs.State, sources *mountSources, interrupt, beforeHooks, containerHooks func() error) error {
	var stops stopWatch
	for {
		ready, err := pollTick(int(sock.Fd()))
		if err != nil {
			return err
		}
		if !ready {
			if stops.kept(init.Pid) {
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
			// Typed, so that callers can tell init's report from our
			// own failures (errors.As *isync.InitError).
			return fmt.Errorf("unable to start container process: %w", &isync.InitError{Message: m.Error})
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
		case isync.MountSource:
			closeFds(fds)
			if sources == nil {
				return fmt.Errorf("%w: %q from init, which was not to ask", isync.ErrUnexpected, m.Type)
			}
			fd, err := sources.open(m.Mount)
			if err := isync.SendMountSource(sock, fd, err); err != nil {
				return err
			}
			if fd >= 0 {
				unix.Close(fd)
			}
		case isync.Hooks:
			if beforeHooks != nil {
				if err := beforeHooks(); err != nil {
					return err
				}
			}
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
		case isync.ContainerHooks:
			closeFds(fds)
			if containerHooks == nil {
				return fmt.Errorf("%w: %q from init, which was not to ask", isync.ErrUnexpected, m.Type)
			}
			if err := containerHooks(); err != nil {
				return err
			}
			if err := isync.Signal(sock, isync.ContainerHooksDone); err != nil {
				return err
			}
		case isync.Ready:
			return nil
		default:
			closeFds(fds)
			return fmt.Errorf("%w: %q from init", isync.ErrUnexpected, m.Type)
		}
	}
}
