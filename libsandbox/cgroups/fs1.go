package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// fs1 is a cgroup on v1 hierarchies (one directory per hierarchy), and on
// a hybrid host also on the v2 hierarchy, which carries the controllers
// v1 lacks (on the project's machines: hugetlb).
type fs1 struct {
	st      *State
	v2      *fs2
	devices []Rule
	fs      *fsys
}

func (m *fs1) Version() string  { return "v1" }
func (m *fs1) State() *State    { return m.st }
func (m *fs1) NeedsEnter() bool { return true }

// dir returns the container's directory in the hierarchy of controller c.
func (m *fs1) dir(c string) (string, bool) {
	key, ok := m.st.V1Controllers[c]
	if !ok {
		return "", false
	}
	return m.st.V1[key], true
}

func (m *fs1) need(c, field string) (string, error) {
	d, ok := m.dir(c)
	if !ok {
		return "", fmt.Errorf("%s: the %s controller is not mounted on this host", field, c)
	}
	return d, nil
}

func (m *fs1) Exists() bool {
	for _, d := range m.st.V1 {
		if _, err := os.Stat(d); err == nil {
			return true
		}
	}
	return false
}

func (m *fs1) Create(r *specs.LinuxResources) (retErr error) {
	// A container's cgroup is one the runtime makes (check.go): delete
	// kills everything in it and removes it.
	if err := checkTaken(m.st); err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			removeCreated(m.st)
		}
	}()
	for key, d := range m.st.V1 {
		var made func(string) error
		if strings.Contains(","+key+",", ",cpuset,") {
			// A new cpuset cgroup has empty cpus and mems, and no task
			// can join it until they are set: inherit the parent's.
			made = m.copyCpuset
		}
		if err := m.fs.mkdirAll(m.st, d, made); err != nil {
			return err
		}
	}
	if m.v2 != nil {
		if err := m.fs.mkdirAll(m.st, m.v2.dir, nil); err != nil {
			return err
		}
	}
	if err := m.set(r, false); err != nil {
		return err
	}
	if d, ok := m.dir("devices"); ok {
		return m.fs.applyV1Devices(d, m.devices, true)
	}
	return nil
}

func (m *fs1) copyCpuset(d string) error {
	parent := filepath.Dir(d)
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, err := read(d, f)
		if err != nil || cur != "" {
			continue
		}
		v, err := read(parent, f)
		if err != nil {
			return err
		}
		if err := m.fs.write(d, f, v, "cgroup "+d); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs1) Update(r *specs.LinuxResources, devs []specs.LinuxDevice) error {
	if err := m.set(r, true); err != nil {
		return err
	}
	if r != nil && len(r.Devices) > 0 {
		d, err := m.need("devices", "linux.resources.devices")
		if err != nil {
			return err
		}
		rules, err := Rules(r.Devices, devs)
		if err != nil {
			return err
		}
		return m.fs.applyV1Devices(d, rules, true)
	}
	return nil
}

func (m *fs1) set(r *specs.LinuxResources, update bool) error {
	if r == nil {
		return nil
	}
	if len(r.Unified) > 0 {
		return errors.New("linux.resources.unified: needs cgroup v2; this host's controllers are on cgroup v1")
	}
	if err := m.setMemory(r.Memory, update); err != nil {
		return err
	}
	if err := m.setCPU(r.CPU); err != nil {
		return err
	}
	if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit != 0 {
		d, err := m.need("pids", "linux.resources.pids.limit")
		if err != nil {
			return err
		}
		if err := m.fs.write(d, "pids.max", limitString(*r.Pids.Limit), "linux.resources.pids.limit"); err != nil {
			return err
		}
	}
	if err := m.setBlkio(r.BlockIO); err != nil {
		return err
	}
	if len(r.HugepageLimits) > 0 {
		if d, ok := m.dir("hugetlb"); ok {
			for i, l := range r.HugepageLimits {
				field := fmt.Sprintf("linux.resources.hugepageLimits[%d]", i)
				size, err := pageSizeName(l.Pagesize)
				if err != nil {
					return fmt.Errorf("%s: %w", field, err)
				}
				if err := m.fs.write(d, "hugetlb."+size+".limit_in_bytes", strconv.FormatUint(l.Limit, 10), field); err != nil {
					return err
				}
			}
		} else if m.v2 != nil {
			if err := m.v2.setHugetlb(r.HugepageLimits); err != nil {
				return err
			}
		} else {
			return errors.New("linux.resources.hugepageLimits: no hugetlb controller on this host")
		}
	}
	if n := r.Network; n != nil {
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
	}
	for dev, l := range r.Rdma {
		field := "linux.resources.rdma." + dev
		d, err := m.need("rdma", field)
		if err != nil {
			return err
		}
		if err := m.fs.write(d, "rdma.max", dev+" hca_handle="+optUint32(l.HcaHandles)+" hca_object="+optUint32(l.HcaObjects), field); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs1) setMemory(mem *specs.LinuxMemory, update bool) error {
	if mem == nil {
		return nil
	}
	if mem.Kernel != nil || mem.KernelTCP != nil {
		logrus.Warn("linux.resources.memory.kernel and kernelTCP are ignored (deprecated by the kernel)")
	}
	if err := checkNonNegative("linux.resources.memory.limit", mem.Limit); err != nil {
		return err
	}
	if err := checkNonNegative("linux.resources.memory.swap", mem.Swap); err != nil {
		return err
	}
	// Checked before any write: a refused update changes nothing.
	if mem.Swappiness != nil && *mem.Swappiness > 100 {
		return fmt.Errorf("linux.resources.memory.swappiness: %d is above 100", *mem.Swappiness)
	}
	d, err := m.need("memory", "linux.resources.memory")
	if err != nil {
		return err
	}
	limit, swap := int64(0), int64(0)
	if mem.Limit != nil {
		limit = *mem.Limit
	}
	if mem.Swap != nil {
		swap = *mem.Swap
	}
	if swap != 0 {
		if limit == 0 && !update {
			return errors.New("linux.resources.memory.swap: cannot set a swap limit without a memory limit")
		}
		if limit > 0 && swap > 0 && swap < limit {
			return fmt.Errorf("linux.resources.memory.swap: %d (memory+swap) must not be below memory.limit %d", swap, limit)
		}
		if !exists(d, "memory.memsw.limit_in_bytes") {
			return errors.New("linux.resources.memory.swap: swap accounting is not enabled on this host (no memory.memsw.limit_in_bytes)")
		}
	}
	if update && limit > 0 {
		if cur, err := readUint(d, "memory.usage_in_bytes"); err == nil && uint64(limit) < cur {
			return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d", limit, cur)
		}
	}
	setLimit := func() error {
		if limit == 0 {
			return nil
		}
		return m.fs.write(d, "memory.limit_in_bytes", strconv.FormatInt(limit, 10), "linux.resources.memory.limit")
	}
	setSwap := func() error {
		if swap == 0 {
			return nil
		}
		return m.fs.write(d, "memory.memsw.limit_in_bytes", strconv.FormatInt(swap, 10), "linux.resources.memory.swap")
	}
	// memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes at
	// every step: raising both needs memsw first, lowering both limit
	// first. Try one order and fall back to the other.
	if err := setLimit(); err != nil {
		if err2 := setSwap(); err2 != nil {
			return err
		}
		if err := setLimit(); err != nil {
			return err
		}
	} else if err := setSwap(); err != nil {
		return err
	}
	if mem.Reservation != nil && *mem.Reservation != 0 {
		if err := m.fs.write(d, "memory.soft_limit_in_bytes", strconv.FormatInt(*mem.Reservation, 10), "linux.resources.memory.reservation"); err != nil {
			return err
		}
	}
	if mem.Swappiness != nil {
		if err := m.fs.write(d, "memory.swappiness", strconv.FormatUint(*mem.Swappiness, 10), "linux.resources.memory.swappiness"); err != nil {
			return err
		}
	}
	if mem.DisableOOMKiller != nil {
		v := "0"
		if *mem.DisableOOMKiller {
			v = "1"
		}
		if err := m.fs.write(d, "memory.oom_control", v, "linux.resources.memory.disableOOMKiller"); err != nil {
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
	for _, t := range []struct {
		field, file string
		list        []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	} {
		for i, td := range t.list {
			v := fmt.Sprintf("%d:%d %d", td.Major, td.Minor, td.Rate)
			if err := m.fs.write(d, t.file, v, fmt.Sprintf("linux.resources.blockIO.%s[%d]", t.field, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *fs1) CloneFD() (*os.File, error) {
	if m.v2 == nil {
		return nil, nil
	}
	return m.v2.CloneFD()
}

func (m *fs1) Enter(pid int, cloned bool) error {
	for _, d := range m.st.V1 {
		if err := m.fs.enter(d, pid); err != nil {
			return err
		}
	}
	if m.v2 != nil && !cloned {
		return m.fs.enter(m.v2.dir, pid)
	}
	return nil
}

func (m *fs1) Freeze() error {
	d, err := m.need("freezer", "pause")
	if err != nil {
		return err
	}
	if err := m.fs.write(d, "freezer.state", "FROZEN", "pause"); err != nil {
		return err
	}
	// FREEZING turns FROZEN once every task stopped; v1 has no event to
	// wait on, so check a few times, as runc does.
	for i := 0; i < 1000; i++ {
		if s, _ := read(d, "freezer.state"); s == "FROZEN" {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	m.fs.write(d, "freezer.state", "THAWED", "pause")
	return errors.New("pause: the freezer did not reach FROZEN")
}

func (m *fs1) Thaw() error {
	d, err := m.need("freezer", "resume")
	if err != nil {
		return err
	}
	return m.fs.write(d, "freezer.state", "THAWED", "resume")
}

func (m *fs1) Frozen() bool {
	d, ok := m.dir("freezer")
	if !ok {
		return false
	}
	s, _ := read(d, "freezer.state")
	return s == "FROZEN" || s == "FREEZING"
}

// anyDir is a hierarchy every process of the container is in (they all
// are in all of them); the pids or freezer one preferably.
func (m *fs1) anyDir() string {
	for _, c := range []string{"pids", "freezer", "memory", "cpu", "devices"} {
		if d, ok := m.dir(c); ok {
			return d
		}
	}
	for _, d := range m.st.V1 {
		return d
	}
	return ""
}

func (m *fs1) Pids() ([]int, error) { return pidsRecursive(m.anyDir()) }

func (m *fs1) Signal(sig unix.Signal) error {
	// Freeze so that no process forks a child we would miss; a frozen
	// task gets SIGKILL once thawed.
	frozen := m.Freeze() == nil
	pids, err := m.Pids()
	for _, p := range pids {
		unix.Kill(p, sig)
	}
	if frozen {
		m.Thaw()
	}
	return err
}

func (m *fs1) Stats() (*Stats, error) {
	s := &Stats{}
	if d, ok := m.dir("cpuacct"); ok {
		s.CPU.Usage.Total, _ = readUint(d, "cpuacct.usage")
		if v, err := read(d, "cpuacct.usage_percpu"); err == nil {
			for _, f := range strings.Fields(v) {
				n, _ := strconv.ParseUint(f, 10, 64)
				s.CPU.Usage.Percpu = append(s.CPU.Usage.Percpu, n)
			}
		}
		// cpuacct.stat is in USER_HZ ticks (100 per second).
		st := readKV(d, "cpuacct.stat")
		s.CPU.Usage.User = st["user"] * 1e7
		s.CPU.Usage.Kernel = st["system"] * 1e7
	}
	if d, ok := m.dir("cpu"); ok {
		st := readKV(d, "cpu.stat")
		s.CPU.Throttling = Throttling{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_time"]}
	}
	if d, ok := m.dir("memory"); ok {
		entry := func(prefix string) MemoryEntry {
			var e MemoryEntry
			e.Usage, _ = readUint(d, prefix+".usage_in_bytes")
			e.Max, _ = readUint(d, prefix+".max_usage_in_bytes")
			e.Limit, _ = readUint(d, prefix+".limit_in_bytes")
			e.Failcnt, _ = readUint(d, prefix+".failcnt")
			return e
		}
		s.Memory.Usage = entry("memory")
		s.Memory.Swap = entry("memory.memsw")
		s.Memory.Kernel = entry("memory.kmem")
		s.Memory.KernelTCP = entry("memory.kmem.tcp")
		s.Memory.Raw = readKV(d, "memory.stat")
		s.Memory.Cache = s.Memory.Raw["cache"]
	}
	if d, ok := m.dir("pids"); ok {
		s.Pids.Current, _ = readUint(d, "pids.current")
		s.Pids.Limit, _ = readUint(d, "pids.max")
		if s.Pids.Limit == ^uint64(0) {
			s.Pids.Limit = 0 // "max": runc reports no limit as 0
		}
	}
	if d, ok := m.dir("blkio"); ok {
		s.Blkio.IoServiceBytesRecursive = parseBlkio(d, "blkio.throttle.io_service_bytes_recursive")
		s.Blkio.IoServicedRecursive = parseBlkio(d, "blkio.throttle.io_serviced_recursive")
	}
	if m.v2 != nil {
		if v2, err := m.v2.Stats(); err == nil {
			s.Hugetlb = v2.Hugetlb
		}
	}
	return s, nil
}

func parseBlkio(dir, file string) []BlkioEntry {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil
	}
	var out []BlkioEntry
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var e BlkioEntry
		if _, err := fmt.Sscanf(f[0], "%d:%d", &e.Major, &e.Minor); err != nil {
			continue
		}
		e.Op = f[1]
		e.Value, _ = strconv.ParseUint(f[2], 10, 64)
		out = append(out, e)
	}
	return out
}

func (m *fs1) OOMKills() (uint64, error) {
	d, err := m.need("memory", "oom")
	if err != nil {
		return 0, err
	}
	return readKV(d, "memory.oom_control")["oom_kill"], nil
}

// Destroy kills what is left in the cgroup only if the runtime made it
// (see fs2.Destroy).
func (m *fs1) Destroy() error {
	if m.Exists() && m.st.made(m.anyDir()) {
		if pids, _ := m.Pids(); len(pids) > 0 {
			m.Signal(unix.SIGKILL)
		}
	}
	return removeCreated(m.st)
}
