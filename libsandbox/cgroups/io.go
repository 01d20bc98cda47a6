package cgroups

// Block I/O: the v2 io controller and the v1 blkio controller, side by
// side, from one table of the spec's throttle lists.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// throttle is one of blockIO's throttle lists with the v1 file and the
// v2 io.max key that carry it: one table for both drivers.
type throttle struct {
	name, v1File, v2Key string
	list                []specs.LinuxThrottleDevice
}

func throttles(b *specs.LinuxBlockIO) []throttle {
	return []throttle{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops", b.ThrottleWriteIOPSDevice},
	}
}

// field names entry i of the list in errors.
func (t throttle) field(i int) string {
	return fmt.Sprintf("linux.resources.blockIO.%s[%d]", t.name, i)
}

func (m *fs2) setIO(b *specs.LinuxBlockIO) error {
	if b == nil {
		return nil
	}
	bfq := exists(m.at(), "io.bfq.weight")
	if b.LeafWeight != nil {
		logrus.Warn("linux.resources.blockIO.leafWeight is ignored: cgroup v2 has no leaf weight")
	}
	if b.Weight != nil && *b.Weight != 0 {
		if *b.Weight < 10 || *b.Weight > 1000 {
			return fmt.Errorf("linux.resources.blockIO.weight: %d is outside 10..1000", *b.Weight)
		}
		file, v := "io.weight", "default "+strconv.FormatUint(BlkioWeightToIOWeight(uint64(*b.Weight)), 10)
		if bfq {
			file, v = "io.bfq.weight", "default "+strconv.Itoa(int(*b.Weight))
		}
		if err := m.fs.write(m.at(), file, v, "linux.resources.blockIO.weight"); err != nil {
			return err
		}
	}
	for i, d := range b.WeightDevice {
		if d.Weight == nil {
			continue
		}
		field := fmt.Sprintf("linux.resources.blockIO.weightDevice[%d]", i)
		// Below 10 BlkioWeightToIOWeight would wrap around.
		if *d.Weight < 10 || *d.Weight > 1000 {
			return fmt.Errorf("%s: %d is outside 10..1000", field, *d.Weight)
		}
		file, w := "io.weight", BlkioWeightToIOWeight(uint64(*d.Weight))
		if bfq {
			file, w = "io.bfq.weight", uint64(*d.Weight)
		}
		v := fmt.Sprintf("%d:%d %d", d.Major, d.Minor, w)
		if err := m.fs.write(m.at(), file, v, field); err != nil {
			return err
		}
	}
	for _, t := range throttles(b) {
		for i, d := range t.list {
			rate := "max"
			if d.Rate != 0 {
				rate = strconv.FormatUint(d.Rate, 10)
			}
			v := fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, t.v2Key, rate)
			if err := m.fs.write(m.at(), "io.max", v, t.field(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *fs1) setBlkio(b *specs.LinuxBlockIO) error {
	if b == nil {
		return nil
	}
	d, err := m.need("blkio", "linux.resources.blockIO")
	if err != nil {
		return err
	}
	// Kernels with BFQ name the weight files blkio.bfq.*.
	weightFile := "blkio.weight"
	if !exists(d, weightFile) && exists(d, "blkio.bfq.weight") {
		weightFile = "blkio.bfq.weight"
	}
	if b.Weight != nil && *b.Weight != 0 {
		if err := m.fs.write(d, weightFile, strconv.Itoa(int(*b.Weight)), "linux.resources.blockIO.weight"); err != nil {
			return err
		}
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		if err := m.fs.write(d, "blkio.leaf_weight", strconv.Itoa(int(*b.LeafWeight)), "linux.resources.blockIO.leafWeight"); err != nil {
			return err
		}
	}
	for i, wd := range b.WeightDevice {
		field := fmt.Sprintf("linux.resources.blockIO.weightDevice[%d]", i)
		if wd.Weight != nil {
			if err := m.fs.write(d, weightFile+"_device", fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.Weight), field); err != nil {
				return err
			}
		}
		if wd.LeafWeight != nil {
			if err := m.fs.write(d, "blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.LeafWeight), field); err != nil {
				return err
			}
		}
	}
	for _, t := range throttles(b) {
		for i, td := range t.list {
			v := fmt.Sprintf("%d:%d %d", td.Major, td.Minor, td.Rate)
			if err := m.fs.write(d, t.v1File, v, t.field(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseIOStat turns io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...")
// into runc's blkio entries.
func parseIOStat(s string) Blkio {
	var b Blkio
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		var maj, min uint64
		if _, err := fmt.Sscanf(f[0], "%d:%d", &maj, &min); err != nil {
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			e := BlkioEntry{Major: maj, Minor: min, Value: n}
			switch k {
			case "rbytes":
				e.Op = "Read"
				b.IoServiceBytesRecursive = append(b.IoServiceBytesRecursive, e)
			case "wbytes":
				e.Op = "Write"
				b.IoServiceBytesRecursive = append(b.IoServiceBytesRecursive, e)
			case "rios":
				e.Op = "Read"
				b.IoServicedRecursive = append(b.IoServicedRecursive, e)
			case "wios":
				e.Op = "Write"
				b.IoServicedRecursive = append(b.IoServicedRecursive, e)
			}
		}
	}
	return b
}

// blkioV1 reads a v1 blkio directory as runc's events does: the first
// set of files the I/O scheduler or the throttling layer keeps (BFQ's
// debug files, BFQ's, CFQ's, then the throttling layer's recursive and
// plain ones) whose first file has entries.
func blkioV1(d string) Blkio {
	var b Blkio
	type stat struct {
		file string
		to   *[]BlkioEntry
	}
	cfq := func(prefix string) []stat {
		return []stat{
			{prefix + "sectors_recursive", &b.SectorsRecursive},
			{prefix + "io_service_time_recursive", &b.IoServiceTimeRecursive},
			{prefix + "io_wait_time_recursive", &b.IoWaitTimeRecursive},
			{prefix + "io_merged_recursive", &b.IoMergedRecursive},
			{prefix + "io_queued_recursive", &b.IoQueuedRecursive},
			{prefix + "time_recursive", &b.IoTimeRecursive},
			{prefix + "io_serviced_recursive", &b.IoServicedRecursive},
			{prefix + "io_service_bytes_recursive", &b.IoServiceBytesRecursive},
		}
	}
	served := func(serviced, bytes string) []stat {
		return []stat{{serviced, &b.IoServicedRecursive}, {bytes, &b.IoServiceBytesRecursive}}
	}
	for _, set := range [][]stat{
		cfq("blkio.bfq."),
		served("blkio.bfq.io_serviced_recursive", "blkio.bfq.io_service_bytes_recursive"),
		cfq("blkio."),
		served("blkio.throttle.io_serviced_recursive", "blkio.throttle.io_service_bytes_recursive"),
		served("blkio.throttle.io_serviced", "blkio.throttle.io_service_bytes"),
	} {
		for i, st := range set {
			e := parseBlkio(d, st.file)
			if e == nil {
				if i == 0 {
					break
				}
				return b
			}
			*st.to = e
			if i == len(set)-1 {
				return b
			}
		}
	}
	return b
}

// parseBlkio reads a v1 blkio statistics file: "MAJ:MIN OP VALUE" lines,
// or "MAJ:MIN VALUE" for those without operations (sectors, time), and
// a "Total VALUE" line, left out. nil for a missing file or one without
// entries.
func parseBlkio(dir, file string) []BlkioEntry {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil
	}
	var out []BlkioEntry
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 && len(f) != 3 {
			continue
		}
		var e BlkioEntry
		if _, err := fmt.Sscanf(f[0], "%d:%d", &e.Major, &e.Minor); err != nil {
			continue
		}
		if len(f) == 3 {
			e.Op = f[1]
		}
		e.Value, _ = strconv.ParseUint(f[len(f)-1], 10, 64)
		out = append(out, e)
	}
	return out
}
