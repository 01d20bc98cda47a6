package libsandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/hooks"
)

// Start releases a created container: it opens the exec fifo, which lets
// init go on to execve the user process, and runs the poststart hooks.
func (c *Container) Start() error {
	switch st := c.Status(); st {
	case Created:
	case Stopped:
		return errors.New("cannot start a container that has stopped")
	case Running:
		return errors.New("cannot start an already running container")
	default:
		return fmt.Errorf("cannot start a container in the %s state", st)
	}
	// The pidfd first: once the fifo is open, init may exec and exit
	// before we look at it, and its pid would then be gone.
	pidfd, err := c.openInit()
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	fifo := filepath.Join(c.dir, fifoFile)
	// O_NONBLOCK: opening the read end never waits for a writer; init
	// is (or will be) blocked opening the write end.
	f, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer f.Close()
	// From now on the container is running as far as status goes, even
	// if we die before init reads our byte.
	if err := os.Remove(fifo); err != nil {
		return fmt.Errorf("remove exec fifo: %w", err)
	}
	if err := awaitFifo(f, pidfd); err != nil {
		return err
	}
	if h := c.state.Spec.Hooks; h != nil && len(h.Poststart) > 0 {
		if err := hooks.Run("poststart", h.Poststart, c.hookState(Running)); err != nil {
			logrus.Warn(err)
		}
	}
	return nil
}

// awaitFifo waits until init has written its byte into the fifo, or has
// died (its pidfd becomes readable); no timeout, no polling loop.
func awaitFifo(f *os.File, pidfd int) error {
	pfds := []unix.PollFd{
		{Fd: int32(f.Fd()), Events: unix.POLLIN},
		{Fd: int32(pidfd), Events: unix.POLLIN},
	}
	for {
		_, err := unix.Poll(pfds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for init: %w", err)
		}
		if pfds[0].Revents&unix.POLLIN != 0 {
			var b [1]byte
			n, err := unix.Read(int(f.Fd()), b[:])
			if err == unix.EAGAIN {
				continue
			}
			if n == 1 {
				return nil
			}
			return errors.New("container process is already dead")
		}
		if pfds[1].Revents != 0 || pfds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			return errors.New("container process is already dead")
		}
	}
}

// openInit returns a pidfd of init after checking that the pid still
// names it: signals sent through the pidfd can then never reach a process
// that inherited a recycled pid.
func (c *Container) openInit() (int, error) {
	fd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if err != nil {
		if err == unix.ESRCH {
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
	st := c.Status()
	if st == Stopped || st == Creating {
		if all {
			return nil
		}
		return ErrNotRunning
	}
	if all {
		return c.signalAll(sig)
	}
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

// signalAll signals every process in the container's cgroup, and init
// through its pidfd (it may have left the cgroup... it cannot, but a
// container without a cgroup state, from a create that died early,
// still has it).
func (c *Container) signalAll(sig unix.Signal) error {
	var cgErr error
	if c.state.Cgroup != nil {
		cgErr = cgroups.Load(c.state.Cgroup).Signal(sig)
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

// Destroy deletes the container: a stopped one at once, a created one
// after killing init (runc does the same without --force); a running or
// paused one only with force. Poststop hooks run last; their failures are
// warnings.
func (c *Container) Destroy(force bool) error {
	st := c.Status()
	switch st {
	case Stopped:
	case Created, Creating:
		if err := c.kill(); err != nil {
			return err
		}
	case Running, Paused:
		if !force {
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.id, st)
		}
		if err := c.kill(); err != nil {
			return err
		}
	}
	if c.state.Cgroup != nil {
		if err := cgroups.Load(c.state.Cgroup).Destroy(); err != nil {
			return fmt.Errorf("remove cgroup: %w", err)
		}
	}
	var hookErr error
	if c.state.InitPid != 0 && c.state.Spec != nil && c.state.Spec.Hooks != nil {
		hookErr = hooks.Run("poststop", c.state.Spec.Hooks.Poststop, c.hookState(Stopped))
	}
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
	for {
		_, err := unix.Poll(pfd, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for init to die: %w", err)
		}
		return nil
	}
}

// List returns the containers under root, sorted by ID. A directory
// without a readable state (a create that never got far) is skipped.
func List(root string) ([]*State, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []*State
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		s, err := readState(dir)
		if err != nil {
			continue
		}
		c := &Container{root: root, id: e.Name(), dir: dir, state: s}
		out = append(out, c.State())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// LoadUnlocked reads a container's state without taking its lock, for
// read-only verbs (state): state.json is replaced atomically, so a read
// never sees half of it.
func LoadUnlocked(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	s, err := readState(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	return &Container{root: root, id: id, dir: dir, state: s}, nil
}

// RemoveLeftover removes the directory of a container whose state cannot
// be read (runc's delete does the same for an aborted create).
func RemoveLeftover(root, id string) error {
	if ValidateID(id) != nil {
		return nil
	}
	return os.RemoveAll(filepath.Join(root, id))
}
