package cgroups

// The cpu and cpuset controllers: v2 cpu.weight/cpu.max and v1 cpu.shares/
// cpu.cfs_*, side by side.

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (m *fs2) setCPU(c *specs.LinuxCPU) error {
	if c == nil {
		return nil
	}
	if c.RealtimeRuntime != nil && *c.RealtimeRuntime != 0 {
		return errors.New("linux.resources.cpu.realtimeRuntime: realtime scheduling limits do not exist on cgroup v2")
	}
	if c.RealtimePeriod != nil && *c.RealtimePeriod != 0 {
		return errors.New("linux.resources.cpu.realtimePeriod: realtime scheduling limits do not exist on cgroup v2")
	}
	if c.Shares != nil && *c.Shares != 0 {
		if err := m.fs.write(m.at(), "cpu.weight", strconv.FormatUint(SharesToWeight(*c.Shares), 10), "linux.resources.cpu.shares"); err != nil {
			return err
		}
	}
	if c.Quota != nil || c.Period != nil {
		quota, period := c.Quota, c.Period
		if quota == nil {
			// Keep the current quota when only the period changes.
			if cur, err := read(m.at(), "cpu.max"); err == nil {
				if q, _, _ := strings.Cut(cur, " "); q != "max" {
					if n, err := strconv.ParseInt(q, 10, 64); err == nil {
						quota = &n
					}
				}
			}
		}
		if err := m.fs.write(m.at(), "cpu.max", cpuMax(quota, period), "linux.resources.cpu.quota"); err != nil {
			return err
		}
	}
	if c.Burst != nil {
		if err := m.fs.write(m.at(), "cpu.max.burst", strconv.FormatUint(*c.Burst, 10), "linux.resources.cpu.burst"); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		if err := m.fs.write(m.at(), "cpu.idle", strconv.FormatInt(*c.Idle, 10), "linux.resources.cpu.idle"); err != nil {
			return err
		}
	}
	if c.Cpus != "" {
		if err := m.fs.write(m.at(), "cpuset.cpus", c.Cpus, "linux.resources.cpu.cpus"); err != nil {
			return err
		}
	}
	if c.Mems != "" {
		if err := m.fs.write(m.at(), "cpuset.mems", c.Mems, "linux.resources.cpu.mems"); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs1) setCPU(c *specs.LinuxCPU) error {
	if c == nil {
		return nil
	}
	set := func(ctrl, file, field, v string) error {
		d, err := m.need(ctrl, field)
		if err != nil {
			return err
		}
		return m.fs.write(d, file, v, field)
	}
	if c.Shares != nil && *c.Shares != 0 {
		if err := set("cpu", "cpu.shares", "linux.resources.cpu.shares", strconv.FormatUint(*c.Shares, 10)); err != nil {
			return err
		}
	}
	// The period first: the kernel checks the quota against it.
	if c.Period != nil && *c.Period != 0 {
		if err := set("cpu", "cpu.cfs_period_us", "linux.resources.cpu.period", strconv.FormatUint(*c.Period, 10)); err != nil {
			return err
		}
	}
	if c.Quota != nil && *c.Quota != 0 {
		if err := set("cpu", "cpu.cfs_quota_us", "linux.resources.cpu.quota", strconv.FormatInt(*c.Quota, 10)); err != nil {
			return err
		}
	}
	if c.Burst != nil {
		if err := set("cpu", "cpu.cfs_burst_us", "linux.resources.cpu.burst", strconv.FormatUint(*c.Burst, 10)); err != nil {
			return err
		}
	}
	if c.RealtimePeriod != nil && *c.RealtimePeriod != 0 {
		if err := set("cpu", "cpu.rt_period_us", "linux.resources.cpu.realtimePeriod", strconv.FormatUint(*c.RealtimePeriod, 10)); err != nil {
			return err
		}
	}
	if c.RealtimeRuntime != nil && *c.RealtimeRuntime != 0 {
		if err := set("cpu", "cpu.rt_runtime_us", "linux.resources.cpu.realtimeRuntime", strconv.FormatInt(*c.RealtimeRuntime, 10)); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		if err := set("cpu", "cpu.idle", "linux.resources.cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return err
		}
	}
	if c.Cpus != "" {
		if err := set("cpuset", "cpuset.cpus", "linux.resources.cpu.cpus", c.Cpus); err != nil {
			return err
		}
	}
	if c.Mems != "" {
		if err := set("cpuset", "cpuset.mems", "linux.resources.cpu.mems", c.Mems); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs1) copyCpuset(d string) error {
	parent := filepath.Dir(d)
	at := m.st.at(d) // the container's own through its fd (State.at)
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, err := read(at, f)
		if err != nil || cur != "" {
			continue
		}
		v, err := read(parent, f)
		if err != nil {
			return err
		}
		if err := m.fs.write(at, f, v, "cgroup "+d); err != nil {
			return err
		}
	}
	return nil
}

// fillCpusetParents fills the existing ancestors of d whose cpuset.cpus
// or cpuset.mems are empty, top-down, each from its parent, as runc does:
// a cgroup made by hand or by an older tool can have them empty, and
// then neither it nor anything below it can hold a task (the kernel's
// "no space left on device" when the container's init joins). Such an
// ancestor holds no task, so filling it changes nothing that runs; it
// is the one write the runtime makes to a cgroup it did not create
// (like the parents' cgroup.subtree_control on v2).
func (m *fs1) fillCpusetParents(d string) error {
	var empty []string
	for p := filepath.Dir(d); p != "/" && p != "."; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err != nil {
			continue // made later, by mkdirAll, from its filled parent
		}
		cpus, err := read(p, "cpuset.cpus")
		if err != nil {
			break // above the hierarchy's root
		}
		mems, err := read(p, "cpuset.mems")
		if err != nil {
			break
		}
		if cpus != "" && mems != "" {
			break
		}
		empty = append(empty, p)
	}
	for i := len(empty) - 1; i >= 0; i-- {
		if err := m.copyCpuset(empty[i]); err != nil {
			return err
		}
	}
	return nil
}
