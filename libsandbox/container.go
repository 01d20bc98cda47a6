package libsandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
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
	// PidfdSocket, if set, is a unix socket that receives a pidfd of
	// init once it is ready (runc's --pidfd-socket).
	PidfdSocket  string
	NoPivot      bool
	NoNewKeyring bool
	PreserveFds  int
	// SystemdCgroup: the cgroup is a systemd scope (--systemd-cgroup).
	SystemdCgroup bool
	// Foreground is `run` without --detach: init dies with us
	// (Pdeathsig), and with a terminal and no console socket the pty
	// master comes back in NewContainer.Console for us to relay.
	Foreground bool
	// Interrupt, if set, is polled while create waits for init: an
	// error (a signal of the caller's) fails create, which cleans up.
	Interrupt func() error
	// SpecJSON, if set, is the config.json the spec was decoded from,
	// saved as the container's config as it is: encoding the spec again
	// would cost ~0.7 ms of encoding/json building its type tables,
	// which the caller's decoder (internal/specjson) did without.
	SpecJSON []byte
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
