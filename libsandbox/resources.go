package libsandbox

import (
	"errors"
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/intelrdt"
)

func (c *Container) cgroup() (cgroups.Manager, error) {
	if c.state.Cgroup == nil {
		return nil, errNoCgroup
	}
	return cgroups.Load(c.state.Cgroup), nil
}

// Pause freezes every process of a created or running container.
func (c *Container) Pause() error {
	if _, err := c.require(opPause); err != nil {
		return err
	}
	cg, err := c.cgroup()
	if err != nil {
		return err
	}
	logrus.Debugf("pause %s: freezing the cgroup", c.id)
	return cg.Freeze()
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if _, err := c.require(opResume); err != nil {
		return err
	}
	cg, err := c.cgroup()
	if err != nil {
		return err
	}
	logrus.Debugf("resume %s: thawing the cgroup", c.id)
	return cg.Thaw()
}

// Update applies new resources, and the Intel RDT schemata rdt gives, to
// a live container and records them. On error the container keeps
// running with what it had: every value is checked (its field named)
// before or as it is written, and a write the kernel refuses changes
// nothing.
func (c *Container) Update(r *specs.LinuxResources, rdt Schemata) error {
	if _, err := c.require(opUpdate); err != nil {
		return err
	}
	cg, err := c.cgroup()
	if err != nil {
		return err
	}
	spec, err := c.Spec()
	if err != nil {
		return err
	}
	// Before anything is written, as runc's update checks them.
	if err := c.checkSchemata(rdt); err != nil {
		return err
	}
	var devs []specs.LinuxDevice
	if spec.Linux != nil {
		devs = spec.Linux.Devices
	}
	logrus.Debugf("update %s: writing the resources to the %s cgroup", c.id, cg.Version())
	if err := cg.Update(r, devs); err != nil {
		return err
	}
	if lines := rdt.lines(); len(lines) > 0 {
		logrus.Debugf("update %s: writing %q to the Intel RDT group %s", c.id, lines, c.state.IntelRdt.Path)
		if err := intelrdt.SetSchemata(resctrlRoot, c.state.IntelRdt, lines); err != nil {
			return err
		}
	}
	if spec.Linux != nil {
		spec.Linux.Resources = mergeResources(spec.Linux.Resources, r)
		rdt.record(spec.Linux.IntelRdt)
		if err := writeSpec(c.dir, spec); err != nil {
			return fmt.Errorf("write state: %w", err)
		}
	}
	return nil
}

// Schemata are update's --l3-cache-schema and --mem-bw-schema: new
// lines for the container's Intel RDT group (linux.intelRdt's
// l3CacheSchema and memBwSchema).
type Schemata struct {
	L3CacheSchema string
	MemBwSchema   string
}

func (s Schemata) lines() []string {
	var out []string
	for _, l := range []string{s.L3CacheSchema, s.MemBwSchema} {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// record lays the new lines over rdt, the spec's, for the state.
func (s Schemata) record(rdt *specs.LinuxIntelRdt) {
	if rdt == nil {
		return
	}
	if s.L3CacheSchema != "" {
		rdt.L3CacheSchema = s.L3CacheSchema
	}
	if s.MemBwSchema != "" {
		rdt.MemBwSchema = s.MemBwSchema
	}
}

// checkSchemata refuses rdt's lines, with runc's words, where the host
// has no resctrl with the resource, or the container no group: runc
// 1.5's update makes none ("not supported"), nor does this one.
func (c *Container) checkSchemata(rdt Schemata) error {
	if rdt == (Schemata{}) {
		return nil
	}
	cat, mba := false, false
	if root, err := intelrdt.Root(resctrlRoot); err == nil {
		cat, mba = intelrdt.Features(root)
	}
	if rdt.L3CacheSchema != "" && !cat {
		return errors.New("Intel RDT/CAT: l3 cache schema is not enabled")
	}
	if rdt.MemBwSchema != "" && !mba {
		return errors.New("Intel RDT/MBA: memory bandwidth schema is not enabled")
	}
	if c.state.IntelRdt == nil {
		return errors.New("updating a non-existent Intel RDT configuration is not supported")
	}
	return intelrdt.Check(&specs.LinuxIntelRdt{L3CacheSchema: rdt.L3CacheSchema, MemBwSchema: rdt.MemBwSchema})
}

// mergeResources overlays the set fields of u on r.
func mergeResources(r, u *specs.LinuxResources) *specs.LinuxResources {
	if r == nil {
		return u
	}
	out := *r
	if u.Memory != nil {
		out.Memory = u.Memory
	}
	if u.CPU != nil {
		out.CPU = u.CPU
	}
	if u.Pids != nil {
		out.Pids = u.Pids
	}
	if u.BlockIO != nil {
		out.BlockIO = u.BlockIO
	}
	if u.HugepageLimits != nil {
		out.HugepageLimits = u.HugepageLimits
	}
	if u.Network != nil {
		out.Network = u.Network
	}
	if u.Rdma != nil {
		out.Rdma = u.Rdma
	}
	if u.Unified != nil {
		out.Unified = u.Unified
	}
	if u.Devices != nil {
		out.Devices = u.Devices
	}
	return &out
}

// Processes lists the pids of the container's processes (host pids). A
// stopped container has its cgroup until it is deleted, and lists what is
// left in it: none, usually. Not an error, as in runc: containerd's shim
// runs `ps` for `ctr task ps` (and the CRI's ListPids) on a task that has
// exited and not yet been deleted.
func (c *Container) Processes() ([]int, error) {
	if c.state.Cgroup == nil {
		return processesWithoutCgroup(c.state.InitPid, c.state.InitStart)
	}
	cg, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	return cg.Pids()
}

// Event is one line of `events`, runc's JSON shape.
type Event struct {
	Type string      `json:"type"`
	ID   string      `json:"id"`
	Data *EventStats `json:"data,omitempty"`
}

// EventStats is a stats event's "data": runc's types.Stats, the cgroup's
// keys (cpu, cpuset, memory, pids, blkio, hugetlb), then intel_rdt and
// network_interfaces, in runc's order.
type EventStats struct {
	cgroups.Stats
	IntelRdt intelrdt.Stats `json:"intel_rdt"`
	// NetworkInterfaces is always null, as in runc's events: runc
	// counts only veth devices its library made (configs.Network),
	// which a runtime-spec bundle never asks for.
	NetworkInterfaces []*NetworkInterface `json:"network_interfaces"`
}

// NetworkInterface is runc's types.NetworkInterface (keys as in Go).
type NetworkInterface struct {
	Name                                    string
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// Stats returns the container's resource usage.
func (c *Container) Stats() (*Event, error) {
	if _, err := c.require(opStats); err != nil {
		return nil, err
	}
	s, err := c.readStats(nil)
	if err != nil {
		return nil, err
	}
	return &Event{Type: "stats", ID: c.id, Data: s}, nil
}

// readStats reads the stats of cg (nil: a container without a cgroup,
// whose cgroup stats are empty, as runc's rootless containers without
// one report them) and of the container's resctrl group.
func (c *Container) readStats(cg cgroups.Manager) (*EventStats, error) {
	s := &EventStats{Stats: *cgroups.NewStats()}
	if cg == nil && c.state.Cgroup != nil {
		var err error
		if cg, err = c.cgroup(); err != nil {
			return nil, err
		}
	}
	if cg != nil {
		st, err := cg.Stats()
		if err != nil {
			return nil, err
		}
		s.Stats = *st
	}
	rdt, err := intelrdt.ReadStats(resctrlRoot, c.state.IntelRdt)
	if err != nil {
		return nil, fmt.Errorf("intel_rdt stats: %w", err)
	}
	s.IntelRdt = *rdt
	return s, nil
}

// Events sends a stats event every interval and an "oom" event whenever
// the OOM killer kills in the container, until the container stops or
// emit fails.
func (c *Container) Events(interval time.Duration, emit func(*Event) error) error {
	if c.state.Cgroup == nil {
		return c.eventsWithoutCgroup(interval, emit)
	}
	cg, err := c.cgroup()
	if err != nil {
		return err
	}
	ooms, _ := cg.OOMKills()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	// OOM kills are checked more often than stats are sent, so an OOM
	// is reported promptly even with a long interval.
	oomTick := time.NewTicker(100 * time.Millisecond)
	defer oomTick.Stop()
	checkOOM := func() error {
		if n, err := cg.OOMKills(); err == nil && n > ooms {
			ooms = n
			return emit(&Event{Type: "oom", ID: c.id})
		}
		return nil
	}
	for {
		if c.Status() == Stopped {
			// An OOM kill of init stops the container, usually
			// before the next tick: report it before returning.
			return checkOOM()
		}
		select {
		case <-oomTick.C:
			if err := checkOOM(); err != nil {
				return err
			}
		case <-tick.C:
			s, err := c.readStats(cg)
			if err != nil {
				return err
			}
			if err := emit(&Event{Type: "stats", ID: c.id, Data: s}); err != nil {
				return err
			}
		}
	}
}

// eventsWithoutCgroup is Events for a container without a cgroup (see
// withoutCgroup): empty stats, as Stats, and no OOM events, which only a
// memory cgroup of its own would report.
func (c *Container) eventsWithoutCgroup(interval time.Duration, emit func(*Event) error) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for c.Status() != Stopped {
		select {
		case <-poll.C:
		case <-tick.C:
			s, err := c.readStats(nil)
			if err != nil {
				return err
			}
			if err := emit(&Event{Type: "stats", ID: c.id, Data: s}); err != nil {
				return err
			}
		}
	}
	return nil
}
