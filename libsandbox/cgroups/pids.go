package cgroups

// The pids controller: pids.max on v1 and v2 alike.

import specs "github.com/opencontainers/runtime-spec/specs-go"

const pidsField = "linux.resources.pids.limit"

func (m *fs2) setPids(p *specs.LinuxPids) error {
	if p == nil || p.Limit == nil || *p.Limit == 0 {
		return nil
	}
	return m.fs.write(m.dir, "pids.max", limitString(*p.Limit), pidsField)
}

func (m *fs1) setPids(p *specs.LinuxPids) error {
	if p == nil || p.Limit == nil || *p.Limit == 0 {
		return nil
	}
	d, err := m.need("pids", pidsField)
	if err != nil {
		return err
	}
	return m.fs.write(d, "pids.max", limitString(*p.Limit), pidsField)
}
