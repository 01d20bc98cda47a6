package cgroups

// The pids controller: pids.max on v1 and v2 alike.

import specs "github.com/opencontainers/runtime-spec/specs-go"

const pidsField = "linux.resources.pids.limit"

// pidsMax is what pids.max gets for a limit: a negative one is "max"; 0
// is a real limit (the runtime-spec's newer text), written as 1, as runc
// 1.4+ does, which is what systemd's TasksMax can express too (the cgroup
// itself would take 0, but then the container's init could not even
// fork the process the runtime sends in with exec).
func pidsMax(limit int64) string {
	if limit == 0 {
		return "1"
	}
	return limitString(limit)
}

func (m *fs2) setPids(p *specs.LinuxPids) error {
	if p == nil || p.Limit == nil {
		return nil
	}
	return m.fs.write(m.at(), "pids.max", pidsMax(*p.Limit), pidsField)
}

func (m *fs1) setPids(p *specs.LinuxPids) error {
	if p == nil || p.Limit == nil {
		return nil
	}
	d, err := m.need("pids", pidsField)
	if err != nil {
		return err
	}
	return m.fs.write(d, "pids.max", pidsMax(*p.Limit), pidsField)
}
