package libsandbox

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/report"
)

// Report reads, from the host, what isolation the container's init has
// (see package report). The container must have an init: created,
// running or paused.
func (c *Container) Report() (*report.Report, error) {
	st := c.Status()
	if st == Stopped || st == Creating {
		return nil, fmt.Errorf("cannot report on a %s container: %w", st, ErrNotRunning)
	}
	// The pidfd, checked against init's start time, is init: a
	// recycled pid would fail Alive below, and the /proc/PID directory
	// Gather opens first refers to init's entry from then on.
	pidfd, err := c.openInit()
	if err != nil {
		return nil, err
	}
	defer unix.Close(pidfd)
	spec, err := c.Spec()
	if err != nil {
		return nil, fmt.Errorf("read the container's config: %w", err)
	}
	src := report.Source{
		Proc:            "/proc",
		Pid:             c.state.InitPid,
		Alive:           func() bool { return unix.PidfdSendSignal(pidfd, 0, nil, 0) == nil },
		Spec:            spec,
		Created:         st == Created,
		NamespaceMounts: report.NamespaceMounts,
	}
	if c.state.Cgroup != nil {
		src.Cgroup = cgroups.Load(c.state.Cgroup)
	}
	r, err := report.Gather(src)
	if errors.Is(err, report.ErrGone) {
		return nil, ErrNotRunning
	}
	if err != nil {
		return nil, err
	}
	r.ID = c.id
	r.Status = string(c.Status())
	return r, nil
}
