package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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

// dir returns the path the container's directory in the hierarchy of
// controller c is reached by (State.at).
func (m *fs1) dir(c string) (string, bool) {
	key, ok := m.st.V1Controllers[c]
	if !ok {
		return "", false
	}
	return m.st.at(m.st.V1[key]), true
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
		if m.st.present(d) {
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
			if err := m.fillCpusetParents(d); err != nil {
				return err
			}
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
		// runc's words ("invalid configuration: cannot use unified
		// on cgroup v1"), which scripts match.
		return errors.New("linux.resources.unified: needs cgroup v2 (invalid configuration: cannot use unified on cgroup v1)")
	}
	if err := m.setMemory(r.Memory, update); err != nil {
		return err
	}
	if err := m.setCPU(r.CPU); err != nil {
		return err
	}
	if err := m.setPids(r.Pids); err != nil {
		return err
	}
	if err := m.setBlkio(r.BlockIO); err != nil {
		return err
	}
	if err := m.setHugetlb(r.HugepageLimits); err != nil {
		return err
	}
	if err := m.setNetwork(r.Network); err != nil {
		return err
	}
	return m.setRdma(r.Rdma)
}

func (m *fs1) CloneFD() (*os.File, error) {
	if m.v2 == nil {
		return nil, nil
	}
	return m.v2.CloneFD()
}

func (m *fs1) Enter(pid int, cloned bool) error {
	for _, d := range m.st.V1 {
		if err := m.fs.enter(m.st.at(d), pid); err != nil {
			return err
		}
	}
	if m.v2 != nil && !cloned {
		return m.fs.enter(m.v2.at(), pid)
	}
	return nil
}

// anyDir is a hierarchy every process of the container is in (they all
// are in all of them), the pids or freezer one preferably: its path in
// the state.
// One that is missing, or not the container's any more (State.at), is
// passed over: kill --all and delete still find the container's
// processes in another should the owner of a parent have replaced one.
func (m *fs1) anyDir() string {
	first := ""
	for _, c := range []string{"pids", "freezer", "memory", "cpu", "devices"} {
		if key, ok := m.st.V1Controllers[c]; ok {
			if m.st.present(m.st.V1[key]) {
				return m.st.V1[key]
			}
			if first == "" {
				first = m.st.V1[key]
			}
		}
	}
	for _, d := range sortedDirs(m.st.V1) {
		if m.st.present(d) {
			return d
		}
		if first == "" {
			first = d
		}
	}
	return first
}

func (m *fs1) Pids() ([]int, error) { return pidsRecursive(m.st.at(m.anyDir())) }

func (m *fs1) Signal(sig unix.Signal) error {
	// Freeze so that no process forks a child we would miss; a frozen
	// task gets SIGKILL once thawed.
	frozen := m.Freeze() == nil
	pids, err := m.Pids()
	for _, p := range pids {
		// Never us: a thread of ours is in a container's cgroup
		// while it forks init (EnterThread), for good if it could
		// not leave (ErrThreadStuck).
		if p != os.Getpid() {
			unix.Kill(p, sig)
		}
	}
	if frozen {
		m.Thaw()
	}
	if sig == unix.SIGKILL {
		// A sub-cgroup the container froze itself stays frozen when
		// its parent thaws (v1 keeps a cgroup's own FROZEN apart from
		// its parent's), and its tasks ignore SIGKILL until thawed: a
		// pid namespace's init waits for them (zap_pid_ns_processes),
		// and delete waited forever for that init (a review showed
		// it). Dying, nothing of the container can freeze them again.
		m.thawBelow()
	}
	return err
}

// thawBelow thaws every cgroup below the container's in the freezer
// hierarchy.
func (m *fs1) thawBelow() {
	top, ok := m.dir("freezer")
	if !ok {
		return
	}
	filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == top {
			return nil
		}
		if s, _ := read(p, "freezer.state"); V1Frozen(s) {
			if err := m.fs.write(p, "freezer.state", "THAWED", "kill"); err != nil {
				logrus.Warnf("thaw %s: %v", shown(p), err)
			}
		}
		return nil
	})
}

func (m *fs1) Stats() (*Stats, error) {
	s := NewStats()
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
		s.CPU.Usage.PercpuKernel, s.CPU.Usage.PercpuUser = percpuModes(d)
	}
	if d, ok := m.dir("cpuset"); ok {
		s.CPUSet = cpusetStats(d)
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
		s.Blkio = blkioV1(d)
	}
	if d, ok := m.dir("hugetlb"); ok {
		s.Hugetlb = hugetlbV1(d)
	} else if m.v2 != nil {
		// A hybrid host's hugetlb may be on the v2 hierarchy only.
		s.Hugetlb = hugetlbV2(m.v2.at())
	}
	return s, nil
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
	m.killMade()
	return removeOwn(m.st)
}

// Undo is Destroy for a failed create: the parents it made go too.
func (m *fs1) Undo() error {
	m.killMade()
	return removeCreated(m.st)
}

// killMade kills what is left in the cgroup, if the runtime made it.
func (m *fs1) killMade() {
	if m.Exists() && m.st.made(m.anyDir()) {
		if pids, _ := m.Pids(); len(pids) > 0 {
			m.Signal(unix.SIGKILL)
		}
	}
}
