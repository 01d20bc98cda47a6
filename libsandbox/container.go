package libsandbox

import (
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

	isync "github.com/sandbox-runtime/sandbox-runtime/internal/sync"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/hooks"
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
// may do that) fails create, and so does the caller's interrupt. sources
// answers mountSource (nil: init may not ask).
func (c *Container) serveInit(sock *os.File, init *os.Process, console *net.UnixConn, created *NewContainer, hs *specs.State, sources *mountSources, interrupt func() error) error {
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
			closeFds(fds)
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
