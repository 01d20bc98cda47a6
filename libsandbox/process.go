package libsandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/fds"
	"github.com/sandbox-runtime/sandbox-runtime/internal/loopback"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
)

// initEnv is the environment of the init stage. Asynchronous preemption
// signals the thread that will load the user's seccomp filter and exec;
// turning it off means that thread makes no system call we did not ask
// for. The user process gets the spec's env, never this.
var initEnv = []string{"GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1"}

// child is a spawned init (or exec) process and the parent's ends of its
// pipes.
type child struct {
	pid  int
	proc *os.Process
	sync *os.File // parent end of the sync socket
	logs chan struct{}
}

// spawnConfig is what spawn needs besides the plan.
type spawnConfig struct {
	exe       *os.File // sealed runtime binary (O_PATH)
	stdio     [3]*os.File
	preserved []*os.File // fds 3.. of the caller, for --preserve-fds
	extra     *fds.List  // sync, log, fifo...
	args      []string   // after "init"
	ns        *nsPlan
	uidMaps   []specs.LinuxIDMapping
	gidMaps   []specs.LinuxIDMapping
	// idMaps is how the maps are written (usermaps.go).
	idMaps     *mapPlan
	timeOffset map[string]specs.LinuxTimeOffset
	// cgroupFD, if set, is a v2 cgroup to clone init into
	// (clone3 CLONE_INTO_CGROUP): init is in its cgroup from its first
	// instruction, and its memory is charged there.
	cgroupFD *os.File
	// check is polled while a raw-forked init is on its way to execve
	// (rawfork.Attr.Check).
	check func() error
	// held is polled with each process of a raw fork on its way to
	// execve (rawfork.Attr.Held), unfreeze called for each it kills
	// (rawfork.Attr.Unfreeze).
	held     func(pid int) error
	unfreeze func(pid int) error
	// bornIn, if set, moves the thread that forks into the container's
	// v1 cgroups (cgroups.Host.EnterThread) and returns how to move it
	// back, or (oneWay) how to let go of the cgroups' fds; bornInDone
	// says it did, and init was born there. If it cannot, init is forked
	// from where we are, and moved (Enter).
	bornIn     func(oneWay bool) (leave func() error, err error)
	bornInDone bool
	// threadMayEnd: nothing is tied to the forking thread once init
	// exists: init asks for no parent-death signal, or only once told
	// the thread is gone (create's sendConfig waits for it: threadGone).
	// A thread born-in moves went one way for is then ended rather than
	// moved back (forkOnThread); endingThread is its id, which may still
	// be in the container's cgroups for a moment after spawn returns.
	threadMayEnd bool
	endingThread int
	// forked, if set, runs on the forking thread right after rawfork's
	// fork (rawfork.Attr.Forked).
	forked func() error
	// thread, if set, is the thread to fork from (newForkThread);
	// loopbackUp says it made init's network namespace and brought its
	// loopback device up.
	thread     *forkThread
	loopbackUp bool
}

// needsRawFork: joining a user or time namespace, or creating a time
// namespace (its offsets must be written before any process is in it,
// and clone(2) cannot create one), needs a single-threaded process.
// Joining a pid namespace needs rawfork's two forks for another reason:
// the standard library's child would be born in it, visible to the
// processes already there, dumpable and holding every fd of ours until
// its execve (security issue 11.1); rawfork's first child is not in it,
// and the fork that is holds only init's fds and is not dumpable.
// Joining a mount namespace needs rawfork's execveat of the binary's
// fd: the standard library executes a path, "/proc/self/fd/N", and
// after setns(CLONE_NEWNS) the child resolves it in the joined
// namespace, whose /proc is whatever its owner put there (no proc
// mount and a proc/self/fd/N symlink in its rootfs): that owner's
// program would run as init, as root with every capability and our
// fds.
func needsRawFork(ns *nsPlan) bool {
	return ns.create&unix.CLONE_NEWTIME != 0 || ns.joined(specs.UserNamespace) ||
		ns.joined(specs.TimeNamespace) || ns.joined(specs.PIDNamespace) ||
		ns.joined(specs.MountNamespace)
}

// spawn starts the runtime binary as `init` in the container's
// namespaces. Namespaces to create are clone flags of the standard
// library's fork; namespaces to join are entered on a locked thread just
// before it forks (gVisor's StartInNS). needsRawFork says when that is
// not enough and rawfork does it all.
func spawn(c *spawnConfig) (int, error) {
	raw := needsRawFork(c.ns) || c.idMaps.needsHelper()
	// The standard library's fork joins nothing itself: the thread that
	// forks joins first (rawfork's child joins by itself).
	joins := !raw && len(c.ns.joins) > 0
	t := c.thread
	if t == nil {
		if c.bornIn == nil && !joins {
			return fork(c, raw)
		}
		t = newForkThread(false)
	}
	return t.spawn(c)
}

// forkThread is the thread init is forked from when it must be one
// thread: one that moves into the container's v1 cgroups (bornIn), joins
// namespaces, or has made the network namespace ahead (newForkThread).
// It is locked to its goroutine and never the main thread. A thread
// whose namespaces changed, or that could not leave the container's
// cgroups, is never unlocked, and once it has forked it stays blocked
// rather than exiting, because a parent-death signal fires when the
// forking thread exits; but where nothing asked for one yet
// (threadMayEnd) a thread that went into the container's cgroups for good
// ends.
type forkThread struct {
	// netAhead: the thread makes the network namespace as it starts.
	netAhead bool
	cfg      chan *spawnConfig
	res      chan forkResult
	// done is closed once the thread has handed over its result (or
	// was released without one) and is back in our namespaces, if it
	// could go back.
	done chan struct{}

	mu       sync.Mutex
	taken    bool // spawn has sent the config
	released bool // release closed cfg
}

type forkResult struct {
	pid    int
	err    error
	loopUp bool
	// ending: the thread's id when it ends rather than going back
	// (forkOnThread's end).
	ending int
}

// newForkThread starts a fork thread. With netAhead, the thread makes
// the container's network namespace as it starts, and init is forked
// into it rather than cloned with its own: a network namespace costs the
// kernel ~0.7 ms (copy_net_ns: the loopback device, every
// pernet subsystem's init), which a clone pays on create's path, and the
// thread pays while create makes the state and the cgroup. The thread is
// the runtime's, in the host's user namespace: the namespace it makes is
// owned by the same user namespace as one clone would make, and nothing
// of the container's exists in it until init is forked there. Until then
// its only other content is the thread itself, which opens no socket
// there but loopback.Up's (what forkOnThread opens are cgroup files and
// the standard library's pipe). Once init is forked the thread goes back
// to our network namespace, and is unlocked if nothing else of it
// changed; if it cannot go back it blocks for good, locked; if it ends
// (forkOnThread's end) it ends there.
//
// release ends a thread that never got its config (a step before
// startInit failed): back in our namespace it is unlocked, otherwise it
// exits locked, which ends the OS thread; either way its namespace is
// never used by another goroutine.
func newForkThread(netAhead bool) *forkThread {
	t := &forkThread{
		netAhead: netAhead,
		cfg:      make(chan *spawnConfig, 1),
		res:      make(chan forkResult, 1),
		done:     make(chan struct{}),
	}
	go t.run()
	return t
}

// release ends the thread unless spawn has given it a config.
func (t *forkThread) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.taken && !t.released {
		t.released = true
		close(t.cfg)
	}
}

// spawn forks init from the thread.
func (t *forkThread) spawn(c *spawnConfig) (int, error) {
	t.mu.Lock()
	if t.released {
		t.mu.Unlock()
		return 0, errors.New("start init: the fork thread was released")
	}
	t.taken = true
	t.mu.Unlock()
	t.cfg <- c
	r := <-t.res
	c.loopbackUp, c.endingThread = r.loopUp, r.ending
	return r.pid, r.err
}

func (t *forkThread) run() {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// Not the main thread: on v1 the memory cgroup charges every
		// thread's memory to the main thread's cgroup (mm->owner),
		// which would be the container's while it is there (a review
		// showed it). Held here, it cannot be the one the next
		// goroutine locks.
		go t.run()
		<-t.done
		runtime.UnlockOSThread()
		return
	}
	// Before anything of the container's: checkPidfd clones a child
	// from this thread, which would otherwise be the first to use a
	// pidfd (cmd.Start), once in the container's cgroups.
	checkPidfd()
	made, back := t.makeAhead()
	// Its loopback device up here too, off create's path (~0.1 ms,
	// addrconf's work); init does it if this fails.
	loopUp := made && loopback.Up() == nil
	c, ok := <-t.cfg
	if ok && made {
		// Made here: clone is not to make it again. Should the
		// unshare have failed, clone makes it, and fails as before.
		// c is this spawn's own; its plan is the creation's, so
		// the flags go from a copy.
		ns := *c.ns
		ns.create &^= unix.CLONE_NEWNET
		c.ns = &ns
	}
	var joins, stuck, end bool
	if ok {
		raw := needsRawFork(c.ns) || c.idMaps.needsHelper()
		joins = !raw && len(c.ns.joins) > 0
		var pid int
		var err error
		pid, end, err = forkOnThread(c, raw, joins)
		stuck = errors.Is(err, cgroups.ErrThreadStuck)
		r := forkResult{pid: pid, err: err, loopUp: loopUp}
		if end {
			r.ending = unix.Gettid()
		}
		t.res <- r
	}
	if end {
		// In the container's v1 cgroups for good (forkOnThread), and
		// perhaps in its network namespace: returning locked, the
		// goroutine ends the thread (runtime.LockOSThread), which
		// leaves them as it exits. The exit comes right after the
		// result is sent, when the scheduler lets it: a failed
		// create's cleanup waits for it before it freezes the
		// cgroups (threadGone).
		if made {
			back(false)
		}
		close(t.done)
		return
	}
	// Back in our own network namespace, the thread no longer keeps
	// the container's alive: it dies with init, as a namespace clone
	// made does (a foreground run's poststop hooks find a device moved
	// into it back on the host; a review showed one still there).
	restored := !made || back(true) == nil
	close(t.done)
	if !restored || joins || stuck {
		if ok {
			// It forked: a parent-death signal fires when the
			// forking thread exits.
			select {}
		}
		return // locked: the runtime ends the thread
	}
	runtime.UnlockOSThread()
}

// makeAhead makes a network namespace on the calling thread (netAhead),
// and returns whether it did and how to go back to the one it was in
// (back(false) only lets go of the way back, for a thread that ends).
func (t *forkThread) makeAhead() (made bool, back func(restore bool) error) {
	if !t.netAhead {
		return false, nil
	}
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return false, nil
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		own.Close()
		return false, nil
	}
	return true, func(restore bool) error {
		defer own.Close()
		if !restore {
			return nil
		}
		return unix.Setns(int(own.Fd()), unix.CLONE_NEWNET)
	}
}

// threadGone waits, up to limit, for our thread tid to have exited, and
// reports whether it has. For a fork thread that ends in the container's
// cgroups (forkThread.run): it ends right after it hands over its result,
// but the scheduler decides when. A failed create's cleanup freezes those
// cgroups to kill what is in them: a thread of ours frozen there (a
// v1-frozen task ignores SIGKILL until thawed), perhaps holding a lock of
// the Go runtime's, would stop the cleanup that would thaw it (a review
// traced the freeze landing before the thread's exit). And a foreground
// run's init asks for its parent-death signal once it has its config,
// which must come after the exit (create's sendConfig).
//
// tgkill's ESRCH says the thread is unhashed (release_task's
// __unhash_process, for a thread that is not the leader), which comes
// after exit_notify has given its children to another of our threads:
// strictly after the exit, without a path in whatever /proc is mounted.
func threadGone(tid int, limit time.Duration) bool {
	pid := unix.Getpid()
	deadline := time.Now().Add(limit)
	for wait := 20 * time.Microsecond; ; wait = min(2*wait, time.Millisecond) {
		if unix.Tgkill(pid, tid, 0) == unix.ESRCH {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		// Its exit is microseconds away, unless it is frozen:
		// time.Sleep would wait for the Go runtime's poller, whose
		// timeout is in milliseconds (a foreground run waited 1.1 ms
		// in 6 of 15 under load, ~0.1 ms with this).
		ts := unix.NsecToTimespec(wait.Nanoseconds())
		unix.Nanosleep(&ts, nil)
	}
}

// forkOnThread forks init from the calling thread, locked, once it has
// moved into the container's v1 cgroups (bornIn) and joined the
// namespaces to join (joins), and moves it back out of the cgroups; or,
// where the thread may end (threadMayEnd, and a fork of the standard
// library's: rawfork's first child asks for a parent-death signal),
// says so with end, and the caller ends it instead. Once end is true
// the thread may be in some of the cgroups whatever the error: it must
// end.
//
// Ending it is about the same exposure as moving it back: until its
// exit, the thread is in cgroups only root (or the owner of a delegated
// parent) can write, and init, our child, runs nothing of the
// container's yet; a freeze meanwhile stops it either way, and a failed
// create's own cleanup waits for its exit before it freezes them.
func forkOnThread(c *spawnConfig, raw, joins bool) (pid int, end bool, err error) {
	var leave func() error
	if c.bornIn != nil {
		end = c.threadMayEnd && !raw
		if leave, err = c.bornIn(end); errors.Is(err, cgroups.ErrThreadStuck) {
			return 0, end, err
		} else if err != nil {
			logrus.Debugf("init is moved into its cgroup, not born there: %v", err)
		}
		err = nil
	}
	// The thread leaves as soon as the child exists: while it is in
	// the container's cgroups, whoever may freeze them (root, or the
	// owner of a parent cgroup delegated to them) can stop it, and a
	// task the v1 freezer stopped ignores even SIGKILL until thawed.
	// rawfork calls leave right after its fork (Forked); the standard
	// library's Start returns once its child has exec'd (a vfork).
	var left bool
	var lerr error
	if leave != nil {
		c.forked = func() error {
			left, lerr = true, leave()
			return lerr
		}
	}
	if joins {
		err = setnsAll(c.ns)
	}
	if err == nil {
		pid, err = fork(c, raw)
	}
	if leave == nil {
		return pid, end, err
	}
	if !left {
		if lerr = leave(); lerr != nil && err == nil {
			// Never ours to wait for: it would outlive us in a
			// cgroup we cannot remove.
			unix.Kill(pid, unix.SIGKILL)
			rawfork.ReapKilled(pid)
		}
	}
	if lerr != nil {
		return 0, end, lerr
	}
	c.bornInDone = err == nil
	return pid, end, err
}

// fork starts init from the calling thread: rawfork, or the standard
// library's fork.
func fork(c *spawnConfig, raw bool) (int, error) {
	if raw {
		return spawnRaw(c)
	}
	files := append(append([]*os.File{}, c.preserved...), c.extra.Files...)
	exe, closeExe, err := execFdOutOfReach(c.exe, append(c.stdio[:], files...))
	if err != nil {
		return 0, fmt.Errorf("start init: %w", err)
	}
	defer closeExe()
	cmd := &exec.Cmd{
		Path:       "/proc/self/fd/" + strconv.Itoa(exe),
		Args:       append([]string{"sandbox-runtime", "init"}, c.args...),
		Env:        initEnv,
		Stdin:      c.stdio[0],
		Stdout:     c.stdio[1],
		Stderr:     c.stdio[2],
		ExtraFiles: files,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: uintptr(c.ns.create),
		},
	}
	if c.cgroupFD != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(c.cgroupFD.Fd())
	}
	if c.ns.create&unix.CLONE_NEWUSER != 0 {
		// The standard library writes the maps while the child waits,
		// then makes it root in the namespace, so it keeps its
		// capabilities across execve.
		cmd.SysProcAttr.UidMappings = idMaps(c.uidMaps)
		cmd.SysProcAttr.GidMappings = idMaps(c.gidMaps)
		// Unless the gid map is written without privilege, which
		// the kernel allows only with setgroups denied.
		cmd.SysProcAttr.GidMappingsEnableSetgroups = c.idMaps == nil || !c.idMaps.denySetgroups
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	// With joins, the calling thread has joined them (spawn).
	// Preconditions: they are not user, time, pid or mount namespaces
	// (needsRawFork): the path above resolves as ours.
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start init: %w", err)
	}
	return cmd.Process.Pid, nil
}

// execFdOutOfReach returns the number of an fd of exe that the standard
// library's child leaves alone while it lays out the fds it hands on
// (inherited, stdio first), and how to close it if it is a new one.
//
// init is executed by the path /proc/self/fd/N, which the child
// resolves at its execve, after it has laid them out: it dup2s them onto
// 0..len-1 and, first, moves its error pipe and each fd that would be
// overwritten to the numbers right above the larger of the highest of
// them and their count (syscall.forkAndExecInChild1, "Pass 1"). An fd of
// exe among either range was overwritten, and init's execve ran a socket
// or a fifo ("fork/exec /proc/self/fd/3: permission denied"). Nothing
// sets the fd's number: the binary sealed in the background (startSeal)
// while another goroutine opened and closed a pidfd put it there in 14
// creates of 600; the steps' order in line had kept it clear by chance.
// Between the two ranges an fd is safe; anywhere else it is moved above
// both, close-on-exec as the original.
func execFdOutOfReach(exe *os.File, inherited []*os.File) (int, func(), error) {
	fd, highest := int(exe.Fd()), 0
	for _, f := range inherited {
		if f != nil && int(f.Fd()) > highest {
			highest = int(f.Fd())
		}
	}
	if fd >= len(inherited) && fd < highest {
		return fd, func() {}, nil
	}
	// The child moves fds from above the highest or the count,
	// whichever is larger (a file may fill two places: stdio closed
	// when we started, one fd for two): the pipe, then at most one for
	// each place.
	moved, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, max(highest, len(inherited))+len(inherited)+2)
	if err != nil {
		return 0, nil, fmt.Errorf("move the sealed binary's fd out of the child's reach: %w", err)
	}
	return moved, func() { unix.Close(moved) }, nil
}

// setnsAll joins the calling thread, locked, to the namespaces to join.
func setnsAll(ns *nsPlan) error {
	for _, j := range ns.joins {
		if err := unix.Setns(int(j.f.Fd()), j.flag); err != nil {
			return fmt.Errorf("join %s namespace %s: %w", j.typ, j.path, err)
		}
	}
	return nil
}

func spawnRaw(c *spawnConfig) (int, error) {
	files := []int{int(c.stdio[0].Fd()), int(c.stdio[1].Fd()), int(c.stdio[2].Fd())}
	for _, f := range c.preserved {
		files = append(files, int(f.Fd()))
	}
	for _, f := range c.extra.Files {
		files = append(files, int(f.Fd()))
	}
	attr := &rawfork.Attr{
		Unshare:    uintptr(c.ns.create),
		BecomeRoot: c.ns.has(specs.UserNamespace),
		ForkAgain:  c.ns.has(specs.PIDNamespace) || c.ns.create&unix.CLONE_NEWTIME != 0,
		Files:      files,
		Exe:        int(c.exe.Fd()),
		Argv:       append([]string{"sandbox-runtime", "init"}, c.args...),
		Env:        initEnv,
		Check:      c.check,
		Held:       c.held,
		Unfreeze:   c.unfreeze,
	}
	if c.cgroupFD != nil {
		// The first child is cloned into the cgroup from here, with our
		// credentials; init, its fork, is born there.
		attr.UseCgroupFD, attr.CgroupFD = true, int(c.cgroupFD.Fd())
	}
	attr.Forked = c.forked
	for _, j := range c.ns.joins {
		attr.Namespaces = append(attr.Namespaces, rawfork.Namespace{Fd: int(j.f.Fd()), Type: j.flag})
	}
	mnt, joinsMount := c.ns.joinOf(specs.MountNamespace)
	if joinsMount {
		if err := checkJoinedMount(mnt, c.ns); err != nil {
			return 0, err
		}
		root, err := ourRoot()
		if err != nil {
			return 0, err
		}
		attr.SameRoot = root
	}
	newUser := c.ns.create&unix.CLONE_NEWUSER != 0
	if newUser || c.ns.create&unix.CLONE_NEWTIME != 0 {
		attr.Pause = func(pid int) error {
			if newUser {
				if err := writeIDMaps(pid, c.uidMaps, c.gidMaps, c.idMaps); err != nil {
					return err
				}
			}
			if len(c.timeOffset) > 0 {
				if err := writeTimeOffsets(pid, c.timeOffset); err != nil {
					return err
				}
			}
			return nil
		}
	}
	res, err := rawfork.Start(attr)
	var re *rawfork.Error
	if errors.As(err, &re) && re.Stage == "root" && re.Errno == unix.EXDEV {
		return 0, fmt.Errorf("linux.namespaces: mount namespace %s: its root directory is not the runtime's: "+
			"a container's mount namespace cannot be joined, since its processes would control the new container's setup", mnt.path)
	}
	if err != nil {
		return 0, fmt.Errorf("start init: %w", err)
	}
	return res.Pid, nil
}

func idMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, x := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(x.ContainerID), HostID: int(x.HostID), Size: int(x.Size)}
	}
	return out
}

func formatIDMap(m []specs.LinuxIDMapping) []byte {
	var b strings.Builder
	for _, x := range m {
		fmt.Fprintf(&b, "%d %d %d\n", x.ContainerID, x.HostID, x.Size)
	}
	return []byte(b.String())
}

// writeTimeOffsets sets the offsets of the time namespace the process pid
// made with unshare (and which its children will enter): only possible
// before any process is in it.
func writeTimeOffsets(pid int, offs map[string]specs.LinuxTimeOffset) error {
	var b strings.Builder
	for clock, o := range offs {
		fmt.Fprintf(&b, "%s %d %d\n", clock, o.Secs, o.Nanosecs)
	}
	if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/timens_offsets", []byte(b.String()), 0); err != nil {
		return fmt.Errorf("linux.timeOffsets: %w", err)
	}
	return nil
}

// forwardLogs copies init's JSON log lines into our logger until init
// closes its end; done is closed then.
func forwardLogs(r *os.File, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var e struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			logrus.Warnf("init: %s", sc.Text())
			continue
		}
		lvl, err := logrus.ParseLevel(e.Level)
		if err != nil {
			lvl = logrus.InfoLevel
		}
		logrus.StandardLogger().Log(lvl, "init: "+e.Msg)
	}
}

// errInitExited wraps the error of an init that went away without
// reporting: its exit status says more than EOF.
func initExited(p *os.Process) error {
	st, err := p.Wait()
	if err != nil {
		return errors.New("init exited before reporting ready")
	}
	return fmt.Errorf("init exited before reporting ready: %s", st)
}

// checkPidfd makes the check the os package makes once per process
// before its first pidfd (os.StartProcess and os.FindProcess:
// pidfdWorks): pidfd_open, waitid and pidfd_send_signal on ourselves,
// then a child cloned with CLONE_VFORK|CLONE_PIDFD from the calling
// thread, which exits at once and is reaped (syscall's
// checkClonePidfd); ~0.1-0.3 ms here. A caller that comes while
// another makes it waits for it (sync.OnceValue).
//
// Made where it is first needed, it ran on create's fork thread between
// entering the container's v1 cgroups and forking init (cmd.Start), its
// child born in those cgroups and in the container's network namespace,
// where whoever may freeze them could stop the thread. The fork thread
// now makes it first, while it is clean, in the background of create's
// steps (forkThread.run). exec still makes it after its fork (Exec's
// FindProcess): made ahead in a goroutine, it ran no sooner (the main
// goroutine gives up its P only once it waits) and exec had to wait for
// it before rawfork, which counts its thread's new children (bench-pair:
// exec +0.14 ms, the control +0.04).
func checkPidfd() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
}
