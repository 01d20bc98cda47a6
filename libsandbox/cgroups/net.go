package cgroups

// The network controllers net_cls and net_prio: v1 only.

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (m *fs2) setNetwork(n *specs.LinuxNetwork) error {
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		return errors.New("linux.resources.network.classID: the net_cls controller does not exist on cgroup v2")
	}
	if len(n.Priorities) > 0 {
		return errors.New("linux.resources.network.priorities: the net_prio controller does not exist on cgroup v2")
	}
	return nil
}

func (m *fs1) setNetwork(n *specs.LinuxNetwork) error {
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		d, err := m.need("net_cls", "linux.resources.network.classID")
		if err != nil {
			return err
		}
		if err := m.fs.write(d, "net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10), "linux.resources.network.classID"); err != nil {
			return err
		}
	}
	for i, p := range n.Priorities {
		field := fmt.Sprintf("linux.resources.network.priorities[%d]", i)
		d, err := m.need("net_prio", field)
		if err != nil {
			return err
		}
		if err := m.fs.write(d, "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority), field); err != nil {
			return err
		}
	}
	return nil
}
