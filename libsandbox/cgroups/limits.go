package cgroups

import (
	"fmt"
	"strconv"
	"strings"
)

// CPULimit returns the CPU bandwidth limit in force in m's cgroup: the
// quota (-1 for none) per period, in microseconds, from cpu.max (v2) or
// cpu.cfs_quota_us and cpu.cfs_period_us (v1). Stats leaves it out: it
// is runc's events shape, which has no limits but memory's and pids'.
func CPULimit(m Manager) (quota int64, period uint64, err error) {
	switch m := m.(type) {
	case *fs2:
		return parseCPULimit(m.at())
	case *systemd:
		// The scope's files say what systemd set.
		return parseCPULimit(m.at())
	case *fs1:
		d, ok := m.dir("cpu")
		if !ok {
			if m.v2 != nil {
				return parseCPULimit(m.v2.dir)
			}
			return 0, 0, fmt.Errorf("cpu: the cpu controller is not mounted on this host")
		}
		q, err := read(d, "cpu.cfs_quota_us")
		if err != nil {
			return 0, 0, fmt.Errorf("cpu: %w", err)
		}
		if quota, err = strconv.ParseInt(q, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("cpu: cpu.cfs_quota_us: %w", err)
		}
		if period, err = readUint(d, "cpu.cfs_period_us"); err != nil {
			return 0, 0, fmt.Errorf("cpu: cpu.cfs_period_us: %w", err)
		}
		if quota < 0 {
			quota = -1
		}
		return quota, period, nil
	}
	return 0, 0, fmt.Errorf("cpu: unknown cgroup manager %T", m)
}

// parseCPULimit reads a v2 cpu.max: "max 100000" or "50000 100000".
func parseCPULimit(dir string) (int64, uint64, error) {
	s, err := read(dir, "cpu.max")
	if err != nil {
		return 0, 0, fmt.Errorf("cpu: %w", err)
	}
	q, p, ok := strings.Cut(s, " ")
	period, perr := strconv.ParseUint(p, 10, 64)
	if !ok || perr != nil {
		return 0, 0, fmt.Errorf("cpu: malformed cpu.max %q", s)
	}
	if q == "max" {
		return -1, period, nil
	}
	quota, err := strconv.ParseInt(q, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("cpu: malformed cpu.max %q", s)
	}
	return quota, period, nil
}
