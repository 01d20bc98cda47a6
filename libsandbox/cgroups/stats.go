package cgroups

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stats is the cgroup part of the "data" of an `events` stats event, in
// runc's JSON shape (runc 1.5's types.Stats, which containerd and
// scripts decode): the same keys, the same omissions (omitzero where
// runc has it), and "cpuset" and "hugetlb" present even when empty.
// libsandbox adds the intel_rdt and network_interfaces keys after these.
type Stats struct {
	CPU     CPU                `json:"cpu"`
	CPUSet  CPUSet             `json:"cpuset"`
	Memory  Memory             `json:"memory"`
	Pids    Pids               `json:"pids"`
	Blkio   Blkio              `json:"blkio"`
	Hugetlb map[string]Hugetlb `json:"hugetlb"`
}

type CPU struct {
	Usage      CPUUsage   `json:"usage,omitzero"`
	Throttling Throttling `json:"throttling,omitzero"`
	PSI        *PSIStats  `json:"psi,omitempty"`
}

// CPUUsage is in nanoseconds.
type CPUUsage struct {
	Total        uint64   `json:"total,omitempty"`
	Percpu       []uint64 `json:"percpu,omitempty"`
	PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
	PercpuUser   []uint64 `json:"percpu_user,omitempty"`
	Kernel       uint64   `json:"kernel"`
	User         uint64   `json:"user"`
}

type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

// CPUSet is v1's cpuset controller's files; v2 has none of them to
// report (runc reports it empty there too).
type CPUSet struct {
	CPUs                  []uint16 `json:"cpus,omitempty"`
	CPUExclusive          uint64   `json:"cpu_exclusive"`
	Mems                  []uint16 `json:"mems,omitempty"`
	MemHardwall           uint64   `json:"mem_hardwall"`
	MemExclusive          uint64   `json:"mem_exclusive"`
	MemoryMigrate         uint64   `json:"memory_migrate"`
	MemorySpreadPage      uint64   `json:"memory_spread_page"`
	MemorySpreadSlab      uint64   `json:"memory_spread_slab"`
	MemoryPressure        uint64   `json:"memory_pressure"`
	SchedLoadBalance      uint64   `json:"sched_load_balance"`
	SchedRelaxDomainLevel int64    `json:"sched_relax_domain_level"`
}

// PSIStats is a v2 <resource>.pressure file (Documentation/accounting/psi.rst).
type PSIStats struct {
	Some PSIData `json:"some"`
	Full PSIData `json:"full"`
}

type PSIData struct {
	Avg10  float64 `json:"avg10"`
	Avg60  float64 `json:"avg60"`
	Avg300 float64 `json:"avg300"`
	Total  uint64  `json:"total"`
}

type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type Memory struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitzero"`
	Swap      MemoryEntry       `json:"swap,omitzero"`
	Kernel    MemoryEntry       `json:"kernel,omitzero"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitzero"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
	PSI       *PSIStats         `json:"psi,omitempty"`
}

type Pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

type Blkio struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
	IoQueuedRecursive       []BlkioEntry `json:"ioQueueRecursive,omitempty"`
	IoServiceTimeRecursive  []BlkioEntry `json:"ioServiceTimeRecursive,omitempty"`
	IoWaitTimeRecursive     []BlkioEntry `json:"ioWaitTimeRecursive,omitempty"`
	IoMergedRecursive       []BlkioEntry `json:"ioMergedRecursive,omitempty"`
	IoTimeRecursive         []BlkioEntry `json:"ioTimeRecursive,omitempty"`
	SectorsRecursive        []BlkioEntry `json:"sectorsRecursive,omitempty"`
	PSI                     *PSIStats    `json:"psi,omitempty"`
}

// Hugetlb is one page size's usage: Max is the largest usage seen (v1's
// max_usage_in_bytes; v2 keeps none), not the limit.
type Hugetlb struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// NewStats returns empty stats as runc prints them: "hugetlb" is {}.
func NewStats() *Stats {
	return &Stats{Hugetlb: map[string]Hugetlb{}}
}

// readKV reads a "key value" file (memory.stat, cpu.stat, memory.events).
func readKV(dir, file string) map[string]uint64 {
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// hugepageSizes lists the host's hugepage sizes as cgroup files name them
// ("2MB", "1GB").
func hugepageSizes() []string {
	ents, err := os.ReadDir("/sys/kernel/mm/hugepages")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(e.Name(), "hugepages-"), "kB"), 10, 64)
		if err != nil {
			continue
		}
		switch {
		case kb >= 1<<20 && kb%(1<<20) == 0:
			out = append(out, strconv.FormatUint(kb>>20, 10)+"GB")
		case kb >= 1<<10 && kb%(1<<10) == 0:
			out = append(out, strconv.FormatUint(kb>>10, 10)+"MB")
		default:
			out = append(out, strconv.FormatUint(kb, 10)+"KB")
		}
	}
	return out
}

// cpuList parses a cpuset list ("0-3,8,10-11") into its numbers, as runc
// reports cpuset.cpus and cpuset.mems; nil for an empty or bad list.
func cpuList(s string) []uint16 {
	var out []uint16
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		from, to, isRange := strings.Cut(part, "-")
		lo, err := strconv.ParseUint(from, 10, 16)
		if err != nil {
			return nil
		}
		hi := lo
		if isRange {
			if hi, err = strconv.ParseUint(to, 10, 16); err != nil || hi < lo {
				return nil
			}
		}
		for n := lo; n <= hi; n++ {
			out = append(out, uint16(n))
		}
	}
	return out
}

// cpusetStats reads a v1 cpuset directory, as runc's events does.
func cpusetStats(d string) CPUSet {
	u := func(f string) uint64 { n, _ := readUint(d, "cpuset."+f); return n }
	var c CPUSet
	if s, err := read(d, "cpuset.cpus"); err == nil {
		c.CPUs = cpuList(s)
	}
	if s, err := read(d, "cpuset.mems"); err == nil {
		c.Mems = cpuList(s)
	}
	c.CPUExclusive = u("cpu_exclusive")
	c.MemHardwall = u("mem_hardwall")
	c.MemExclusive = u("mem_exclusive")
	c.MemoryMigrate = u("memory_migrate")
	c.MemorySpreadPage = u("memory_spread_page")
	c.MemorySpreadSlab = u("memory_spread_slab")
	c.MemoryPressure = u("memory_pressure")
	c.SchedLoadBalance = u("sched_load_balance")
	if s, err := read(d, "cpuset.sched_relax_domain_level"); err == nil {
		c.SchedRelaxDomainLevel, _ = strconv.ParseInt(s, 10, 64)
	}
	return c
}

// percpuModes reads v1's cpuacct.usage_all ("cpu user system" and a line
// per CPU, in nanoseconds): the kernel and user time of each CPU.
func percpuModes(d string) (kernel, user []uint64) {
	b, err := os.ReadFile(filepath.Join(d, "cpuacct.usage_all"))
	if err != nil {
		return nil, nil
	}
	lines := strings.Split(string(b), "\n")
	if !strings.HasPrefix(lines[0], "cpu user system") {
		return nil, nil
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		u, err1 := strconv.ParseUint(f[1], 10, 64)
		k, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, nil
		}
		user = append(user, u)
		kernel = append(kernel, k)
	}
	return kernel, user
}

// readPSI reads a v2 pressure file ("some avg10=0.00 avg60=0.00
// avg300=0.00 total=0", and a "full" line); nil where the kernel has
// none (no CONFIG_PSI, psi=0, or cgroup.pressure turned off: ENOENT,
// or ENOTSUP on read).
func readPSI(dir, file string) *PSIStats {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil
	}
	var p PSIStats
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		var d *PSIData
		switch f[0] {
		case "some":
			d = &p.Some
		case "full":
			d = &p.Full
		default:
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "avg10":
				d.Avg10, _ = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, _ = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, _ = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, _ = strconv.ParseUint(v, 10, 64)
			}
		}
	}
	return &p
}

// hugetlbPrefix is the file prefix of a page size's usage: the
// reservation counters where the kernel has them (hugetlb.<size>.rsvd.*,
// Linux 5.7: what a mapping reserved, which is what the limit in
// hugetlb.<size>.rsvd.max, set with it, counts against), as runc reads.
func hugetlbPrefix(dir, size, usage string) string {
	if p := "hugetlb." + size + ".rsvd"; exists(dir, p+usage) {
		return p
	}
	return "hugetlb." + size
}

// hugetlbV1 reads a v1 hugetlb directory.
func hugetlbV1(d string) map[string]Hugetlb {
	out := map[string]Hugetlb{}
	for _, size := range hugepageSizes() {
		p := hugetlbPrefix(d, size, ".usage_in_bytes")
		if !exists(d, p+".usage_in_bytes") {
			continue
		}
		var h Hugetlb
		h.Usage, _ = readUint(d, p+".usage_in_bytes")
		h.Max, _ = readUint(d, p+".max_usage_in_bytes")
		h.Failcnt, _ = readUint(d, p+".failcnt")
		out[size] = h
	}
	return out
}

// hugetlbV2 reads a v2 directory's hugetlb files: no largest usage (v2
// keeps none), failures from hugetlb.<size>.events.
func hugetlbV2(d string) map[string]Hugetlb {
	out := map[string]Hugetlb{}
	for _, size := range hugepageSizes() {
		p := hugetlbPrefix(d, size, ".current")
		if !exists(d, p+".current") {
			continue
		}
		var h Hugetlb
		h.Usage, _ = readUint(d, p+".current")
		h.Failcnt = readKV(d, "hugetlb."+size+".events")["max"]
		out[size] = h
	}
	return out
}
