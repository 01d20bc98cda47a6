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

// fs2 is a cgroup on the unified (v2) hierarchy.
type fs2 struct {
	dir string
	st  *State
	// hybrid: the v2 part of a hybrid host's cgroup; it only carries
	// the controllers the v1 hierarchies lack, enabled on demand.
	hybrid bool
	// devices are the device rules to attach at Create.
	devices []Rule
	fs      *fsys
}

func (m *fs2) Version() string  { return "v2" }
func (m *fs2) State() *State    { return m.st }
func (m *fs2) NeedsEnter() bool { return false }
func (m *fs2) Exists() bool     { _, err := os.Stat(m.dir); return err == nil }

func (m *fs2) mountRoot() string {
	if m.fs != nil && m.fs.v2Root != "" {
		return m.fs.v2Root
	}
	// Walk up while the parent is still a cgroup2 directory.
	d := m.dir
	for {
		p := filepath.Dir(d)
		var st unix.Statfs_t
		if p == d || unix.Statfs(p, &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
			return d
		}
		d = p
	}
}

func (m *fs2) Create(r *specs.LinuxResources) (retErr error) {
	if err := checkTaken(m.st); err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			removeCreated(m.st)
		}
	}()
	if err := m.fs.mkdirAll(m.st, m.dir, nil); err != nil {
		return err
	}
	if !m.hybrid {
		if err := m.enableControllers(nil); err != nil {
			return err
		}
	}
	if err := m.set(r, false); err != nil {
		return err
	}
	if !m.hybrid && m.devices != nil {
		return attachDeviceFilter(m.dir, m.devices)
	}
	return nil
}

// enableControllers enables controllers for the container's cgroup in
// every ancestor's cgroup.subtree_control, from the hierarchy root down
// to its parent: all available ones, or only want (hybrid hosts, where
// the v2 hierarchy's root belongs to the host). Only missing ones are
// written.
func (m *fs2) enableControllers(want []string) error {
	root := m.mountRoot()
	rel, err := filepath.Rel(root, filepath.Dir(m.dir))
	if err != nil {
		return err
	}
	dirs := []string{root}
	if rel != "." {
		d := root
		for _, part := range strings.Split(rel, "/") {
			d = filepath.Join(d, part)
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		avail, err := read(d, "cgroup.controllers")
		if err != nil {
			return fmt.Errorf("read %s/cgroup.controllers: %w", d, err)
		}
		enabled, _ := read(d, "cgroup.subtree_control")
		on := map[string]bool{}
		for _, c := range strings.Fields(enabled) {
			on[c] = true
		}
		var add []string
		for _, c := range strings.Fields(avail) {
			if on[c] || (want != nil && !contains(want, c)) {
				continue
			}
			add = append(add, "+"+c)
		}
		if len(add) == 0 {
			continue
		}
		if err := m.fs.write(d, "cgroup.subtree_control", strings.Join(add, " "), "cgroup "+d); err != nil {
			// A cgroup with processes cannot delegate controllers
			// (the "no internal processes" rule): enable one by one
			// and go on with what works.
			for _, a := range add {
				m.fs.write(d, "cgroup.subtree_control", a, "cgroup "+d)
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (m *fs2) Update(r *specs.LinuxResources, devs []specs.LinuxDevice) error {
	if err := m.set(r, true); err != nil {
		return err
	}
	if r != nil && len(r.Devices) > 0 && !m.hybrid {
		rules, err := Rules(r.Devices, devs)
		if err != nil {
			return err
		}
		return attachDeviceFilter(m.dir, rules)
	}
	return nil
}

func (m *fs2) set(r *specs.LinuxResources, update bool) error {
	if r == nil {
		return nil
	}
	if err := m.setMemory(r.Memory, update); err != nil {
		return err
	}
	if err := m.setCPU(r.CPU); err != nil {
		return err
	}
	if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit != 0 {
		if err := m.fs.write(m.dir, "pids.max", limitString(*r.Pids.Limit), "linux.resources.pids.limit"); err != nil {
			return err
		}
	}
	if err := m.setIO(r.BlockIO); err != nil {
		return err
	}
	if err := m.setHugetlb(r.HugepageLimits); err != nil {
		return err
	}
	if n := r.Network; n != nil {
		if n.ClassID != nil {
			return errors.New("linux.resources.network.classID: the net_cls controller does not exist on cgroup v2")
		}
		if len(n.Priorities) > 0 {
			return errors.New("linux.resources.network.priorities: the net_prio controller does not exist on cgroup v2")
		}
	}
	for dev, l := range r.Rdma {
		v := dev
		v += " hca_handle=" + optUint32(l.HcaHandles)
		v += " hca_object=" + optUint32(l.HcaObjects)
		if err := m.fs.write(m.dir, "rdma.max", v, "linux.resources.rdma."+dev); err != nil {
			return err
		}
	}
	return m.setUnified(r.Unified)
}

func optUint32(p *uint32) string {
	if p == nil {
		return "max"
	}
	return strconv.FormatUint(uint64(*p), 10)
}

func (m *fs2) setMemory(mem *specs.LinuxMemory, update bool) error {
	if mem == nil {
		return nil
	}
	if mem.Kernel != nil || mem.KernelTCP != nil {
		logrus.Warn("linux.resources.memory.kernel and kernelTCP are ignored (deprecated; not in cgroup v2)")
	}
	if mem.Swappiness != nil {
		logrus.Warn("linux.resources.memory.swappiness is ignored: cgroup v2 has no per-cgroup swappiness")
	}
	if mem.DisableOOMKiller != nil && *mem.DisableOOMKiller {
		return errors.New("linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer")
	}
	if err := checkNonNegative("linux.resources.memory.limit", mem.Limit); err != nil {
		return err
	}
	if err := checkNonNegative("linux.resources.memory.swap", mem.Swap); err != nil {
		return err
	}
	// Before any write: a refused update changes nothing.
	if update && mem.Limit != nil && *mem.Limit > 0 {
		if cur, err := readUint(m.dir, "memory.current"); err == nil && uint64(*mem.Limit) < cur {
			return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d", *mem.Limit, cur)
		}
	}
	if mem.Swap != nil {
		var limit int64
		if mem.Limit != nil {
			limit = *mem.Limit
		} else if cur, err := readUint(m.dir, "memory.max"); err == nil && cur != ^uint64(0) {
			limit = int64(cur)
		} else {
			limit = -1
		}
		v, err := SwapToV2(*mem.Swap, limit)
		if err != nil {
			return err
		}
		if *mem.Swap != 0 {
			if !exists(m.dir, "memory.swap.max") {
				// Without swap accounting nothing limits swap: "max"
				// is what there is (runc ignores max and 0 too).
				if v > 0 {
					return errors.New("linux.resources.memory.swap: swap accounting is not available on this host (no memory.swap.max)")
				}
			} else if err := m.fs.write(m.dir, "memory.swap.max", limitString(v), "linux.resources.memory.swap"); err != nil {
				return err
			}
		}
	}
	if mem.Limit != nil && *mem.Limit != 0 {
		if err := m.fs.write(m.dir, "memory.max", limitString(*mem.Limit), "linux.resources.memory.limit"); err != nil {
			return err
		}
	}
	if mem.Reservation != nil && *mem.Reservation != 0 {
		if err := m.fs.write(m.dir, "memory.low", limitString(*mem.Reservation), "linux.resources.memory.reservation"); err != nil {
			return err
		}
	}
	return nil
}

func checkNonNegative(field string, v *int64) error {
	if v != nil && *v < -1 {
		return fmt.Errorf("%s: %d is negative (use -1 for no limit)", field, *v)
	}
	return nil
}

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
		if err := m.fs.write(m.dir, "cpu.weight", strconv.FormatUint(SharesToWeight(*c.Shares), 10), "linux.resources.cpu.shares"); err != nil {
			return err
		}
	}
	if c.Quota != nil || c.Period != nil {
		quota, period := c.Quota, c.Period
		if quota == nil {
			// Keep the current quota when only the period changes.
			if cur, err := read(m.dir, "cpu.max"); err == nil {
				if q, _, _ := strings.Cut(cur, " "); q != "max" {
					if n, err := strconv.ParseInt(q, 10, 64); err == nil {
						quota = &n
					}
				}
			}
		}
		if err := m.fs.write(m.dir, "cpu.max", cpuMax(quota, period), "linux.resources.cpu.quota"); err != nil {
			return err
		}
	}
	if c.Burst != nil {
		if err := m.fs.write(m.dir, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10), "linux.resources.cpu.burst"); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		if err := m.fs.write(m.dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10), "linux.resources.cpu.idle"); err != nil {
			return err
		}
	}
	if c.Cpus != "" {
		if err := m.fs.write(m.dir, "cpuset.cpus", c.Cpus, "linux.resources.cpu.cpus"); err != nil {
			return err
		}
	}
	if c.Mems != "" {
		if err := m.fs.write(m.dir, "cpuset.mems", c.Mems, "linux.resources.cpu.mems"); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs2) setIO(b *specs.LinuxBlockIO) error {
	if b == nil {
		return nil
	}
	bfq := exists(m.dir, "io.bfq.weight")
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
		if err := m.fs.write(m.dir, file, v, "linux.resources.blockIO.weight"); err != nil {
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
		if err := m.fs.write(m.dir, file, v, field); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		field, key string
		list       []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "rbps", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "wbps", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "riops", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "wiops", b.ThrottleWriteIOPSDevice},
	} {
		for i, d := range t.list {
			rate := "max"
			if d.Rate != 0 {
				rate = strconv.FormatUint(d.Rate, 10)
			}
			v := fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, t.key, rate)
			if err := m.fs.write(m.dir, "io.max", v, fmt.Sprintf("linux.resources.blockIO.%s[%d]", t.field, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *fs2) setHugetlb(limits []specs.LinuxHugepageLimit) error {
	if len(limits) == 0 {
		return nil
	}
	if m.hybrid {
		if err := m.enableControllers([]string{"hugetlb"}); err != nil {
			return err
		}
	}
	for i, l := range limits {
		field := fmt.Sprintf("linux.resources.hugepageLimits[%d]", i)
		size, err := pageSizeName(l.Pagesize)
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		file := "hugetlb." + size + ".max"
		if !exists(m.dir, file) {
			return fmt.Errorf("%s.pageSize %q: this host has no such hugepage size or no hugetlb controller (sizes: %v)", field, l.Pagesize, hugepageSizes())
		}
		v := strconv.FormatUint(l.Limit, 10)
		if err := m.fs.write(m.dir, file, v, field); err != nil {
			return err
		}
		// runtime-spec 1.3: also the reservation limit where there is one.
		if rsvd := "hugetlb." + size + ".rsvd.max"; exists(m.dir, rsvd) {
			if err := m.fs.write(m.dir, rsvd, v, field); err != nil {
				return err
			}
		}
	}
	return nil
}

// Files the unified map must not write: they would take the cgroup out
// of the runtime's hands.
var unifiedRefused = map[string]bool{
	"cgroup.procs": true, "cgroup.threads": true, "cgroup.subtree_control": true,
	"cgroup.kill": true, "cgroup.freeze": true, "cgroup.type": true,
}

func (m *fs2) setUnified(u map[string]string) error {
	for k, v := range u {
		field := "linux.resources.unified." + k
		if k == "" || strings.ContainsAny(k, "/\x00") || k == "." || k == ".." {
			return fmt.Errorf("%s: not a cgroup file name", field)
		}
		if unifiedRefused[k] {
			return fmt.Errorf("%s: managed by the runtime, not settable", field)
		}
		if !exists(m.dir, k) {
			ctrl, _, _ := strings.Cut(k, ".")
			avail, _ := read(m.dir, "cgroup.controllers")
			if ctrl != "cgroup" && !contains(strings.Fields(avail), ctrl) {
				return fmt.Errorf("%s: the %s controller is not available (have: %s)", field, ctrl, avail)
			}
			return fmt.Errorf("%s: no such cgroup file", field)
		}
		if err := m.fs.write(m.dir, k, v, field); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs2) CloneFD() (*os.File, error) {
	f, err := os.OpenFile(m.dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", m.dir, err)
	}
	return f, nil
}

func (m *fs2) Enter(pid int, cloned bool) error {
	if cloned {
		return nil
	}
	return m.fs.enter(m.dir, pid)
}

func (m *fs2) Freeze() error {
	if err := m.fs.write(m.dir, "cgroup.freeze", "1", "freeze"); err != nil {
		return err
	}
	return waitEvent(m.dir, "frozen", "1")
}

func (m *fs2) Thaw() error {
	if err := m.fs.write(m.dir, "cgroup.freeze", "0", "thaw"); err != nil {
		return err
	}
	return waitEvent(m.dir, "frozen", "0")
}

func (m *fs2) Frozen() bool {
	return events(m.dir)["frozen"] == "1"
}

func events(dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			out[k] = v
		}
	}
	return out
}

// waitEvent waits until cgroup.events says key is want. The kernel
// notifies changes of cgroup.events with inotify IN_MODIFY, so this
// sleeps on inotify instead of polling the file.
func waitEvent(dir, key, want string) error {
	if events(dir)[key] == want {
		return nil
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, filepath.Join(dir, "cgroup.events"), unix.IN_MODIFY); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 4096)
	for {
		if events(dir)[key] == want {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("cgroup %s: timed out waiting for %s %s", dir, key, want)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
			return err
		}
		unix.Read(fd, buf)
	}
}

func (m *fs2) Pids() ([]int, error) { return pidsRecursive(m.dir) }

// pidsRecursive lists the processes of dir and its sub-cgroups (a
// container with a cgroup namespace may make its own).
func pidsRecursive(dir string) ([]int, error) {
	var out []int
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		pids, err := readPids(p)
		if err == nil {
			out = append(out, pids...)
		}
		return nil
	})
	return out, err
}

func (m *fs2) Signal(sig unix.Signal) error {
	if sig == unix.SIGKILL && exists(m.dir, "cgroup.kill") {
		return m.fs.write(m.dir, "cgroup.kill", "1", "kill")
	}
	// Freeze so that no process forks a child we would miss.
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

func (m *fs2) Stats() (*Stats, error) {
	s := &Stats{}
	cpu := readKV(m.dir, "cpu.stat")
	s.CPU.Usage.Total = cpu["usage_usec"] * 1000
	s.CPU.Usage.User = cpu["user_usec"] * 1000
	s.CPU.Usage.Kernel = cpu["system_usec"] * 1000
	s.CPU.Throttling = Throttling{Periods: cpu["nr_periods"], ThrottledPeriods: cpu["nr_throttled"], ThrottledTime: cpu["throttled_usec"] * 1000}
	s.Memory.Raw = readKV(m.dir, "memory.stat")
	s.Memory.Cache = s.Memory.Raw["file"]
	s.Memory.Usage.Usage, _ = readUint(m.dir, "memory.current")
	s.Memory.Usage.Limit, _ = readUint(m.dir, "memory.max")
	s.Memory.Usage.Max, _ = readUint(m.dir, "memory.peak")
	s.Memory.Usage.Failcnt = readKV(m.dir, "memory.events")["max"]
	s.Memory.Swap.Usage, _ = readUint(m.dir, "memory.swap.current")
	s.Memory.Swap.Limit, _ = readUint(m.dir, "memory.swap.max")
	s.Pids.Current, _ = readUint(m.dir, "pids.current")
	s.Pids.Limit, _ = readUint(m.dir, "pids.max")
	if s.Pids.Limit == ^uint64(0) {
		s.Pids.Limit = 0 // "max": runc reports no limit as 0
	}
	if b, err := os.ReadFile(filepath.Join(m.dir, "io.stat")); err == nil {
		s.Blkio = parseIOStat(string(b))
	}
	for _, size := range hugepageSizes() {
		if !exists(m.dir, "hugetlb."+size+".current") {
			continue
		}
		if s.Hugetlb == nil {
			s.Hugetlb = map[string]Hugetlb{}
		}
		var h Hugetlb
		h.Usage, _ = readUint(m.dir, "hugetlb."+size+".current")
		h.Max, _ = readUint(m.dir, "hugetlb."+size+".max")
		h.Failcnt = readKV(m.dir, "hugetlb."+size+".events")["max"]
		s.Hugetlb[size] = h
	}
	return s, nil
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

func (m *fs2) OOMKills() (uint64, error) {
	kv := readKV(m.dir, "memory.events")
	if kv == nil {
		return 0, errors.New("no memory.events")
	}
	return kv["oom_kill"], nil
}

// Destroy kills what is left in the cgroup only if the runtime made it:
// never the processes of a cgroup that was there before (a state saved
// by an older version, which used an existing empty cgroup).
func (m *fs2) Destroy() error {
	if m.Exists() && m.st.made(m.dir) {
		if pids, _ := m.Pids(); len(pids) > 0 {
			m.Signal(unix.SIGKILL)
		}
	}
	return removeCreated(m.st)
}
