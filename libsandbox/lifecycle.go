package libsandbox

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/hooks"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/intelrdt"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/statefile"
)

// Start releases a created container: it opens the exec fifo, which lets
// init go on to execve the user process, and runs the poststart hooks; if
// one fails, it stops the container and returns the error.
func (c *Container) Start() error {
	if _, err := c.require(opStart); err != nil {
		return err
	}
	// The pidfd first, while init still waits on the fifo: once the
	// fifo is open, init runs the user's process, which may exit (and
	// be reaped) before we get to open it. And init's executable, the
	// runtime's, to tell when it has exec'd.
	pidfd, err := c.openInit()
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	var exe exeID
	if c.state.InitExe != nil {
		exe = *c.state.InitExe
	}
	fifo := filepath.Join(c.dir, fifoFile)
	// O_NONBLOCK: opening the read end never waits for a writer; init
	// is (or will be) blocked opening the write end.
	f, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer f.Close()
	logrus.Debugf("start %s: releasing init %d (exec fifo)", c.id, c.state.InitPid)
	// From now on the container is running as far as status goes, even
	// if we die before init reads our byte.
	if err := os.Remove(fifo); err != nil {
		return fmt.Errorf("remove exec fifo: %w", err)
	}
	if err := awaitFifo(f, pidfd, c.state.InitPid, exe, c.frozenElsewhere); err != nil {
		if errors.Is(err, errStopped) || errors.Is(err, errForged) {
			// Held by a process of the container: we do not wait,
			// and a container that cannot start is stopped. One a
			// frozen cgroup holds dies once moved out of it.
			unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
			c.thawInit("start", pidfd)
		}
		return err
	}
	logrus.Debugf("start %s: init %d has exec'd the process", c.id, c.state.InitPid)
	if h := c.state.Hooks; h != nil && len(h.Poststart) > 0 {
		logrus.Debugf("start %s: running poststart hooks", c.id)
		if err := hooks.Run("poststart", h.Poststart, c.hookState(Running)); err != nil {
			// runtime.md "Lifecycle" step 9 since runtime-spec
			// v1.3.0 (#1262, which wrote down what runc does): a
			// failing poststart hook MUST generate an error and
			// stop the container; `delete` then goes on (steps 12
			// and 13). A startContainer hook failing leaves the
			// container stopped the same way.
			if kerr := c.kill(); kerr != nil {
				logrus.Warn(kerr)
			}
			return err
		}
	}
	return nil
}

// awaitFifo waits until init has written its byte into the fifo ("0")
// and then until init has exec'd the user process (or died): the
// poststart hooks that follow thus run "after the user-specified process
// is executed" (config.md "Poststart"), not while init is still on its
// way to execve. Before the byte, init dying (its pidfd turns readable)
// is an error, and "1" is init's report of a failed startContainer hook.
//
// The fifo is not ours alone: a process of the container that attached
// to the created container's init (root of a user namespace may, see
// nsexec.Main) can take its O_PATH fd and open the fifo too (security
// issue 11). So nothing read from it is taken on trust: init's exec is
// seen in its executable changing (exe, read before), not only in the
// fifo's EOF, which a stolen copy would hold off for ever; a hook error
// counts only if init then dies, as it does after writing one; and the
// wait is bounded. An init found stopped is an error too, and so is one
// that frozen (the name of a frozen cgroup that holds it, or a thread of
// it, not a pause of the container: cgroups.HeldFrozen) says cannot run: before
// our byte it would never write it, after it its execve would wait in
// de_thread for the frozen threads.
func awaitFifo(f *os.File, pidfd, pid int, exe exeID, frozen func() string) error {
	pfds := []unix.PollFd{
		{Fd: int32(f.Fd()), Events: unix.POLLIN},
		{Fd: int32(pidfd), Events: unix.POLLIN},
	}
	released := false
	var deadline time.Time
	var stops stopWatch
	for {
		if stops.kept(pid) {
			return fmt.Errorf("container init %d %w; it was killed", pid, errStopped)
		}
		if released {
			if now, ok := exeOf(pid); exe.Known() && ok && now != exe {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("container init %d did not exec the process within %v; it was killed: %w", pid, startTimeout, errForged)
			}
		}
		n, err := unix.Poll(pfds, int(waitTick/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for init: %w", err)
		}
		if n == 0 {
			if d := frozen(); d != "" {
				if released {
					// Exec'd meanwhile: the user's process, frozen
					// by its own doing; a frozen init cannot exec.
					if now, ok := exeOf(pid); exe.Known() && ok && now != exe {
						return nil
					}
				}
				return fmt.Errorf("container init %d is held by frozen cgroup %s; it was killed: %w", pid, d, errStopped)
			}
			continue
		}
		if pfds[0].Revents&(unix.POLLIN|unix.POLLHUP) != 0 {
			var b [1]byte
			n, err := unix.Read(int(f.Fd()), b[:])
			switch {
			case err == unix.EAGAIN || err == unix.EINTR:
				continue
			case err != nil:
				return fmt.Errorf("read exec fifo: %w", err)
			case n == 1 && !released && b[0] == '1':
				return hookFailure(f, pidfd)
			case n == 1 && !released:
				// Init goes on to execve. Its death from now on
				// closes the fifo as well: watch the fifo alone.
				released = true
				deadline = time.Now().Add(startTimeout)
				pfds = pfds[:1]
				continue
			case n == 0 && released:
				return nil
			case n == 1 && released:
				// More bytes: not init's (it writes one). Ignored;
				// its exec decides.
				continue
			}
			return errors.New("container process is already dead")
		}
		if pfds[0].Revents&unix.POLLERR != 0 || len(pfds) > 1 && pfds[1].Revents != 0 {
			return errors.New("container process is already dead")
		}
	}
}

// startTimeout bounds start's wait for init's execve once released: it
// takes microseconds, but the container decides how long a path lookup
// takes (a FUSE mount on the program's path).
const startTimeout = 60 * time.Second

// errForged: the exec fifo said something init did not (a process of the
// container holds a copy), or init never got to its execve.
var errForged = errors.New("the container's init did not start its process")

// hookFailure reads the error init wrote after its "1" (a startContainer
// hook failed) and checks that init then exits, as it does: otherwise
// the "1" came from another process holding the fifo, and what it wrote
// is not reported. At most 4 KiB, printable characters only.
func hookFailure(f *os.File, pidfd int) error {
	pfd := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	if n, _ := unix.Poll(pfd, 2000); n != 1 {
		return fmt.Errorf("exec fifo: a startContainer hook failure reported while init runs on: not init's report: %w", errForged)
	}
	var msg []byte
	buf := make([]byte, 4096)
	for len(msg) < 4096 {
		n, err := unix.Read(int(f.Fd()), buf[:4096-len(msg)])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			break
		}
		msg = append(msg, buf[:n]...)
	}
	clean := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || unicode.IsPrint(r) {
			return r
		}
		return -1
	}, string(msg))
	if clean == "" {
		return errors.New("container process is already dead")
	}
	return errors.New(clean)
}

// exeID identifies a process's executable.
type exeID = statefile.ExeID

// exeOf returns the identity of pid's executable (/proc/PID/exe).
func exeOf(pid int) (exeID, bool) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/exe", &st); err != nil {
		return exeID{}, false
	}
	return exeID{Dev: st.Dev, Ino: st.Ino}, true
}

// openInit returns a pidfd of init after checking that the pid still
// names it: signals sent through the pidfd can then never reach a process
// that inherited a recycled pid.
func (c *Container) openInit() (int, error) {
	fd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if err != nil {
		// EINVAL too: once init is reaped, its pid lives on as the
		// session and process group ID of the processes it leaves
		// behind, and older kernels (6.1, for one) fail pidfd_open of
		// such a pid (it names no thread-group leader) with EINVAL;
		// newer ones say ESRCH.
		if err == unix.ESRCH || err == unix.EINVAL {
			return -1, ErrNotRunning
		}
		return -1, fmt.Errorf("pidfd_open %d: %w", c.state.InitPid, err)
	}
	if !alive(c.state.InitPid, c.state.InitStart) {
		unix.Close(fd)
		return -1, ErrNotRunning
	}
	return fd, nil
}

// Signal sends sig to init (all: to every process of the container).
func (c *Container) Signal(sig unix.Signal, all bool) error {
	upgraded := false
	if sig == unix.SIGKILL && !all && !c.privatePidNS() {
		// Without a pid namespace of its own, the container's other
		// processes do not die with init (pid_namespaces(7): only an
		// init of a namespace takes the rest with it): kill them all,
		// through the cgroup, as runc does.
		all, upgraded = true, true
	}
	st, err := c.require(opSignal)
	if err != nil {
		if all && c.leftovers() {
			// Init is gone and processes of the container are not
			// (no pid namespace of its own): they go too.
			return c.signalAll(sig)
		}
		if all && !upgraded {
			// kill --all of a stopped container: nothing to do, as
			// in runc.
			return nil
		}
		return err
	}
	if all {
		logrus.Debugf("kill %s: signal %d to every process of the container", c.id, sig)
		return c.signalAll(sig)
	}
	logrus.Debugf("kill %s: signal %d to init %d", c.id, sig, c.state.InitPid)
	fd, err := c.openInit()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		return fmt.Errorf("unable to signal init: %w", err)
	}
	if st == Paused && sig == unix.SIGKILL {
		// A task frozen by the v1 freezer does not act on any signal,
		// SIGKILL included, until it is thawed: the container would
		// stay paused with a dying init. Thaw it, for SIGKILL only,
		// as runc does (v2 kills frozen tasks; thawing is harmless).
		if c.state.Cgroup != nil {
			if err := cgroups.Load(c.state.Cgroup).Thaw(); err != nil {
				logrus.Warnf("thaw after SIGKILL: %v", err)
			}
		}
	}
	return nil
}

// signalAll signals every process in the container's cgroup once, init
// included. Init gets it through its pidfd instead when the cgroup does
// not list it: a container without a cgroup state (a create that died
// early), or a cgroup that cannot be read. Never both: a process that has
// handled the first signal takes a second one as another (a shell's trap
// ran twice; kill.bats).
func (c *Container) signalAll(sig unix.Signal) error {
	var cgErr error
	var m cgroups.Manager
	if c.state.Cgroup != nil {
		m = cgroups.Load(c.state.Cgroup)
	}
	switch {
	case m != nil && !m.Exists():
		// The cgroup was removed since create, or is not the one
		// create made any more (cgroups.State.at warned): init,
		// through its pidfd below, is all there is to signal.
	case m != nil:
		if pids, err := m.Pids(); err == nil && c.state.InitPid != 0 && slices.Contains(pids, c.state.InitPid) {
			return m.Signal(sig)
		}
		cgErr = m.Signal(sig)
	case c.state.InitPid != 0:
		// No cgroup (a runtime without root: withoutCgroup): the
		// container's processes are found by their pid namespace.
		// init last, through its pidfd, below.
		pids, err := processesWithoutCgroup(c.state.InitPid, c.state.InitStart)
		if err != nil {
			cgErr = err
		}
		for _, p := range pids {
			if p != c.state.InitPid {
				unix.Kill(p, sig)
			}
		}
	}
	fd, err := c.openInit()
	if err != nil {
		if errors.Is(err, ErrNotRunning) {
			return cgErr
		}
		return err
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && err != unix.ESRCH {
		return fmt.Errorf("unable to signal init: %w", err)
	}
	return cgErr
}

// Destroy deletes the container: a stopped one at once, any other only
// with force, after killing it. runtime.md "Delete": "Attempting to
// delete a container that is not stopped MUST have no effect on the
// container and MUST generate an error." That includes a created one,
// which runc deletes without --force. Clients do not rely on that:
// podman always passes --force, and containerd's client refuses to
// delete a created task before it is killed (its shim's cleanup passes
// --force). Poststop hooks run last, every one of them; their failures
// are warnings.
func (c *Container) Destroy(force bool) error {
	st := c.Status()
	switch st {
	case Stopped:
	default:
		if !force {
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.id, st)
		}
		logrus.Debugf("delete %s: killing the %s container", c.id, st)
		if err := c.kill(); err != nil {
			return err
		}
	}
	if c.state.Cgroup != nil {
		logrus.Debugf("delete %s: removing the cgroup", c.id)
		if err := cgroups.Load(c.state.Cgroup).Destroy(); err != nil {
			return fmt.Errorf("remove cgroup: %w", err)
		}
	}
	if err := intelrdt.Destroy(c.state.IntelRdt); err != nil {
		return err
	}
	var hookErr error
	if c.state.InitPid != 0 && c.state.Hooks != nil {
		logrus.Debugf("delete %s: running poststop hooks", c.id)
		hookErr = hooks.RunAll("poststop", c.state.Hooks.Poststop, c.hookState(Stopped))
	}
	logrus.Debugf("delete %s: removing the state directory", c.id)
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove state directory: %w", err)
	}
	if hookErr != nil {
		logrus.Warn(hookErr)
	}
	return nil
}

// kill sends SIGKILL to every process of the container and waits until
// init is dead. A create still in progress dies on its own when init
// goes (it reads EOF).
func (c *Container) kill() error {
	if c.state.InitPid == 0 {
		if alive(c.state.CreatorPid, c.state.CreatorStart) {
			unix.Kill(c.state.CreatorPid, unix.SIGKILL)
		}
		return nil
	}
	fd, err := c.openInit()
	if errors.Is(err, ErrNotRunning) {
		// init is gone; what else was in the cgroup is killed by
		// Destroy.
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := c.signalAll(unix.SIGKILL); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	// The pidfd turns readable when init exits.
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	timeout := int(initThawAfter / time.Millisecond)
	waited := 0
	for {
		n, err := unix.Poll(pfd, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for init to die: %w", err)
		}
		if n == 0 {
			// Still there: a v1 freezer may hold it outside the
			// container's own freezer cgroup (signalAll thawed that
			// one and everything below it). Another container that
			// shares init's pid namespace, with a writable cgroupfs,
			// can move it into a frozen cgroup of its own, and a
			// frozen task ignores SIGKILL until thawed (a review
			// showed delete --force waiting forever). Moved into our
			// own freezer cgroup, it is thawed, and dies. The pid is
			// init's: the pidfd says it has not exited, and a process
			// that has not exited keeps its pid (had it exited since,
			// its pid would name another process only after its
			// parent reaped it and the pids wrapped around).
			// Looked at again every second: the other container
			// may move it back before it runs to its death. Bounded:
			// an init that does not die is an error, not a wait.
			if waited++; waited > initKillWait {
				return fmt.Errorf("init %d did not die within %v of SIGKILL", c.state.InitPid, initKillWait*initThawAfter)
			}
			c.thawInit("kill", fd)
			continue
		}
		return nil
	}
}

// initKillWait bounds kill's wait for a killed init, in initThawAfter.
const initKillWait = 30

// initThawAfter is how long kill waits for a killed init before it looks
// for a freezer that holds it.
const initThawAfter = time.Second

// frozenElsewhere: cgroups.HeldFrozen of init (start waited for it for
// ever).
func (c *Container) frozenElsewhere() string {
	return cgroups.HeldFrozen(c.state.InitPid, c.state.Cgroup)
}

// heldError is cgroups.HeldFrozen as create's error (what it holds is
// init, or the raw fork's child that becomes init).
func heldError(pid int, own *cgroups.State) error {
	if d := cgroups.HeldFrozen(pid, own); d != "" {
		return fmt.Errorf("container init %d is held by frozen cgroup %s; it was killed", pid, d)
	}
	return nil
}

// thawInit moves init, killed and not dead, into our own v1 freezer
// cgroup (kill, start), whatever cgroup it is in: one that a frozen
// cgroup of the freezer holds, or a thread of it, is thawed there and
// dies, and a hold we would not see (a container renaming its frozen
// cgroup faster than we look: a review's) is undone as well. A write of
// its pid to cgroup.procs moves every thread. The warning is for a hold
// we see; an init slow to die for another reason (a large memory to
// free) is moved without one, harmlessly: it is dying. pidfd is init's:
// looked at right before the write, it says init has not exited, so the
// pid is still init's (init is not our child, and a pid is reused only
// once its process is reaped). verb names the caller in the warnings.
func (c *Container) thawInit(verb string, pidfd int) {
	d := cgroups.FrozenFreezer(c.state.InitPid)
	if d != "" {
		logrus.Warnf("%s %s: init %d is held by frozen cgroup %s: moving it out so that it can die", verb, c.id, c.state.InitPid, d)
	}
	alive := func() bool {
		n, _ := unix.Poll([]unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}, 0)
		return n == 0
	}
	if err := cgroups.UnfreezeOursIf(c.state.InitPid, alive); err != nil {
		if d != "" {
			logrus.Warnf("%s %s: %v", verb, c.id, err)
		} else {
			logrus.Debugf("%s %s: %v", verb, c.id, err) // rootless: not ours to write
		}
	}
}

// owner names the user who owns a container's state directory, as
// runc's list shows it (state leaves it empty, as runc's does). Names are
// cached per uid: each lookup reads /etc/passwd (osusergo).
func owner(dir string, cache map[uint32]string) string {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return ""
	}
	if name, ok := cache[st.Uid]; ok {
		return name
	}
	id := strconv.FormatUint(uint64(st.Uid), 10)
	name := "#" + id
	if u, err := user.LookupId(id); err == nil {
		name = u.Username
	}
	cache[st.Uid] = name
	return name
}

// RemoveLeftover removes the directory of a container whose state cannot
// be read (runc's delete does the same for an aborted create). It takes
// the lock and looks again first: since the caller found no state, a
// create of the same ID may have made the directory and be at work in it
// (it holds the lock until it is done). Removing that by path left the
// new container's init and cgroup with no state to find them by.
func RemoveLeftover(root, id string) error {
	if ValidateID(id) != nil {
		return nil
	}
	dir := filepath.Join(root, id)
	l, err := lock(dir)
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer l.Close()
	if _, err := os.Lstat(filepath.Join(dir, stateFile)); err == nil {
		return nil
	}
	return os.RemoveAll(dir)
}

// privatePidNS reports whether the container has a pid namespace of its
// own (a "pid" namespace without a path: one joined by path is shared).
// In doubt (no config), it says yes: the caller then does as before.
func (c *Container) privatePidNS() bool {
	spec, err := c.Spec()
	if err != nil || spec.Linux == nil {
		return true
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace {
			return ns.Path == ""
		}
	}
	return false
}

// leftovers reports whether processes are left in the container's cgroup.
func (c *Container) leftovers() bool {
	if c.state.Cgroup == nil {
		return false
	}
	pids, err := cgroups.Load(c.state.Cgroup).Pids()
	return err == nil && len(pids) > 0
}
