package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
func (m *fs2) Exists() bool     { return m.st.present(m.dir) }

// at is the path the cgroup is reached by once made: see State.at.
func (m *fs2) at() string { return m.st.at(m.dir) }

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
		return attachDeviceFilter(m.at(), m.devices)
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
		return attachDeviceFilter(m.at(), rules)
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
	if err := m.setPids(r.Pids); err != nil {
		return err
	}
	if err := m.setIO(r.BlockIO); err != nil {
		return err
	}
	if err := m.setHugetlb(r.HugepageLimits); err != nil {
		return err
	}
	if err := m.setNetwork(r.Network); err != nil {
		return err
	}
	if err := m.setRdma(r.Rdma); err != nil {
		return err
	}
	return m.setUnified(r.Unified)
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
		if !exists(m.at(), k) {
			ctrl, _, _ := strings.Cut(k, ".")
			avail, _ := read(m.at(), "cgroup.controllers")
			if ctrl != "cgroup" && !contains(strings.Fields(avail), ctrl) {
				return fmt.Errorf("%s: the %s controller is not available (have: %s)", field, ctrl, avail)
			}
			return fmt.Errorf("%s: no such cgroup file", field)
		}
		if err := m.fs.write(m.at(), k, v, field); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs2) CloneFD() (*os.File, error) {
	fd, err := openRaw(m.at(), unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", m.dir, err)
	}
	return os.NewFile(uintptr(fd), m.dir), nil
}

func (m *fs2) Enter(pid int, cloned bool) error {
	if cloned {
		return nil
	}
	return m.fs.enter(m.at(), pid)
}

func (m *fs2) Pids() ([]int, error) { return pidsRecursive(m.at()) }

// pidsRecursive lists the processes of dir and its sub-cgroups (a
// container with a cgroup namespace may make its own).
func pidsRecursive(dir string) ([]int, error) {
	var out []int
	err := eachCgroup(dir, func(p string) error {
		if pids, err := readPids(p); err == nil {
			out = append(out, pids...)
		}
		return nil
	})
	return out, err
}

func (m *fs2) Signal(sig unix.Signal) error {
	if sig == unix.SIGKILL && exists(m.at(), "cgroup.kill") {
		return m.fs.write(m.at(), "cgroup.kill", "1", "kill")
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
	s := NewStats()
	d := m.at()
	cpu := readKV(d, "cpu.stat")
	s.CPU.Usage.Total = cpu["usage_usec"] * 1000
	s.CPU.Usage.User = cpu["user_usec"] * 1000
	s.CPU.Usage.Kernel = cpu["system_usec"] * 1000
	s.CPU.Throttling = Throttling{Periods: cpu["nr_periods"], ThrottledPeriods: cpu["nr_throttled"], ThrottledTime: cpu["throttled_usec"] * 1000}
	s.CPU.PSI = readPSI(d, "cpu.pressure")
	s.Memory.Raw = readKV(d, "memory.stat")
	s.Memory.Cache = s.Memory.Raw["file"]
	s.Memory.Usage.Usage, _ = readUint(d, "memory.current")
	s.Memory.Usage.Limit, _ = readUint(d, "memory.max")
	s.Memory.Usage.Max, _ = readUint(d, "memory.peak")
	s.Memory.Usage.Failcnt = readKV(d, "memory.events")["max"]
	// Swap as v1 reports it, memory and swap together (runc's events
	// does the same for v1's readers): v2's memory.swap.* count swap
	// alone. No largest usage: the two peaks cannot be added.
	if swap, err := readUint(d, "memory.swap.current"); err == nil {
		s.Memory.Swap.Usage = swap + s.Memory.Usage.Usage
		s.Memory.Swap.Limit, _ = readUint(d, "memory.swap.max")
		switch max := ^uint64(0); {
		case s.Memory.Swap.Limit == max:
		case s.Memory.Usage.Limit > max-s.Memory.Swap.Limit:
			// Memory without a limit: memory and swap together
			// have none either (runc's sum wraps around here).
			s.Memory.Swap.Limit = max
		default:
			s.Memory.Swap.Limit += s.Memory.Usage.Limit
		}
	}
	s.Memory.PSI = readPSI(d, "memory.pressure")
	s.Pids.Current, _ = readUint(d, "pids.current")
	s.Pids.Limit, _ = readUint(d, "pids.max")
	if s.Pids.Limit == ^uint64(0) {
		s.Pids.Limit = 0 // "max": runc reports no limit as 0
	}
	if b, err := os.ReadFile(filepath.Join(d, "io.stat")); err == nil {
		s.Blkio = parseIOStat(string(b))
	}
	s.Blkio.PSI = readPSI(d, "io.pressure")
	s.Hugetlb = hugetlbV2(d)
	return s, nil
}

func (m *fs2) OOMKills() (uint64, error) {
	kv := readKV(m.at(), "memory.events")
	if kv == nil {
		return 0, errors.New("no memory.events")
	}
	return kv["oom_kill"], nil
}

// Destroy kills what is left in the cgroup only if the runtime made it:
// never the processes of a cgroup that was there before (a state saved
// by an older version, which used an existing empty cgroup).
func (m *fs2) Destroy() error {
	m.killMade()
	return removeOwn(m.st)
}

// Undo is Destroy for a failed create: the parents it made go too.
func (m *fs2) Undo() error {
	m.killMade()
	return removeCreated(m.st)
}

// killMade kills what is left in the cgroup, if the runtime made it.
func (m *fs2) killMade() {
	if m.Exists() && m.st.made(m.dir) {
		if pids, _ := m.Pids(); len(pids) > 0 {
			m.Signal(unix.SIGKILL)
		}
	}
}
