package cgroups

// The rdma controller: one rdma.max file on v1 and v2 alike.

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func optUint32(p *uint32) string {
	if p == nil {
		return "max"
	}
	return strconv.FormatUint(uint64(*p), 10)
}

// rdmaMax is one line of rdma.max: the device and its two limits.
func rdmaMax(dev string, l specs.LinuxRdma) string {
	return dev + " hca_handle=" + optUint32(l.HcaHandles) + " hca_object=" + optUint32(l.HcaObjects)
}

func (m *fs2) setRdma(r map[string]specs.LinuxRdma) error {
	for dev, l := range r {
		if err := m.fs.write(m.at(), "rdma.max", rdmaMax(dev, l), "linux.resources.rdma."+dev); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs1) setRdma(r map[string]specs.LinuxRdma) error {
	for dev, l := range r {
		field := "linux.resources.rdma." + dev
		d, err := m.need("rdma", field)
		if err != nil {
			return err
		}
		if err := m.fs.write(d, "rdma.max", rdmaMax(dev, l), field); err != nil {
			return err
		}
	}
	return nil
}
