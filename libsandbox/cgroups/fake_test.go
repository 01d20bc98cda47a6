package cgroups

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// A fake cgroupfs: plain directories and files in t.TempDir(), with
// hooks (fsys) standing in for the kernel (filling new cgroups with their
// control files, recording every write and refusing the ones a test
// wants refused). Nothing here touches the real /sys/fs/cgroup.

// Control files of a v2 hierarchy's root.
var v2RootFiles = map[string]string{
	"cgroup.controllers":     "cpuset cpu io memory hugetlb pids rdma",
	"cgroup.subtree_control": "",
	"cgroup.procs":           "",
}

// Control files of a v2 cgroup below the root, as the kernel creates
// them with every controller above enabled.
var v2Files = map[string]string{
	"cgroup.controllers":     "cpuset cpu io memory hugetlb pids rdma",
	"cgroup.subtree_control": "",
	"cgroup.events":          "populated 0\nfrozen 0\n",
	"cgroup.freeze":          "0",
	"cgroup.kill":            "",
	"cgroup.procs":           "",
	"cgroup.threads":         "",
	"cgroup.type":            "domain",
	"memory.max":             "max",
	"memory.swap.max":        "max",
	"memory.low":             "0",
	"memory.current":         "0",
	"memory.events":          "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
	"cpu.weight":             "100",
	"cpu.max":                "max 100000",
	"cpu.max.burst":          "0",
	"cpu.idle":               "0",
	"cpuset.cpus":            "",
	"cpuset.mems":            "",
	"pids.max":               "max",
	"io.max":                 "",
	"io.weight":              "default 100",
	"hugetlb.2MB.max":        "max",
	"hugetlb.2MB.rsvd.max":   "max",
	"rdma.max":               "",
}

// Control files of each v1 hierarchy, by its mount point's name.
var v1Files = map[string]map[string]string{
	"memory": {
		"cgroup.procs":                    "",
		"memory.limit_in_bytes":           "9223372036854771712",
		"memory.memsw.limit_in_bytes":     "9223372036854771712",
		"memory.soft_limit_in_bytes":      "9223372036854771712",
		"memory.swappiness":               "60",
		"memory.oom_control":              "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
		"memory.usage_in_bytes":           "0",
		"memory.max_usage_in_bytes":       "0",
		"memory.failcnt":                  "0",
		"memory.memsw.usage_in_bytes":     "0",
		"memory.kmem.usage_in_bytes":      "0",
		"memory.kmem.limit_in_bytes":      "9223372036854771712",
		"memory.stat":                     "cache 0\nrss 0\n",
		"memory.memsw.failcnt":            "0",
		"memory.memsw.max_usage_in_bytes": "0",
	},
	"cpu,cpuacct": {
		"cgroup.procs":         "",
		"cpu.shares":           "1024",
		"cpu.cfs_quota_us":     "-1",
		"cpu.cfs_period_us":    "100000",
		"cpu.cfs_burst_us":     "0",
		"cpu.rt_runtime_us":    "0",
		"cpu.rt_period_us":     "1000000",
		"cpu.idle":             "0",
		"cpu.stat":             "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
		"cpuacct.usage":        "0",
		"cpuacct.usage_percpu": "0 0",
		"cpuacct.stat":         "user 0\nsystem 0\n",
	},
	"cpuset": {
		"cgroup.procs": "",
		// A new cpuset cgroup starts empty; the root has everything.
		"cpuset.cpus": "",
		"cpuset.mems": "",
	},
	"pids": {
		"cgroup.procs": "",
		"pids.max":     "max",
		"pids.current": "0",
	},
	"blkio": {
		"cgroup.procs":                     "",
		"blkio.weight":                     "500",
		"blkio.weight_device":              "",
		"blkio.leaf_weight":                "500",
		"blkio.leaf_weight_device":         "",
		"blkio.throttle.read_bps_device":   "",
		"blkio.throttle.write_bps_device":  "",
		"blkio.throttle.read_iops_device":  "",
		"blkio.throttle.write_iops_device": "",
	},
	"devices": {
		"cgroup.procs":  "",
		"devices.allow": "",
		"devices.deny":  "",
		"devices.list":  "a *:* rwm",
	},
	"freezer": {
		"cgroup.procs":  "",
		"freezer.state": "THAWED",
	},
}

// fakeHost is a host over a fake cgroupfs in a temp dir.
type fakeHost struct {
	t    *testing.T
	root string // the temp dir, standing for /sys/fs/cgroup
	host *Host
	fs   *fsys // the hooks the managers of host write through
	// files are the control files of a new directory under each
	// hierarchy (by mount point).
	files map[string]map[string]string

	mu     sync.Mutex
	writes []string // "path=value", paths relative to root
	// refuse, if set, may refuse a write (path relative to root).
	refuse func(rel, value string) error
}

// newFake makes a fake host of the given mode. Its hierarchies: v2 at
// root (unified) or root/unified (hybrid), the v1Files hierarchies for
// hybrid and legacy hosts. The calling process lives in own on each.
func newFake(t *testing.T, mode Mode, own string) *fakeHost {
	t.Helper()
	f := &fakeHost{t: t, root: t.TempDir(), files: map[string]map[string]string{}}
	h := &Host{Mode: mode, Own: map[string]string{}}
	if mode != Legacy {
		h.V2 = f.root
		if mode == Hybrid {
			h.V2 = filepath.Join(f.root, "unified")
		}
		h.Own[""] = own
		f.files[h.V2] = v2Files
		writeFiles(t, h.V2, v2RootFiles)
	}
	if mode != Unified {
		names := make([]string, 0, len(v1Files))
		for n := range v1Files {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			m := Mount{Point: filepath.Join(f.root, n), Root: "/", Type: "cgroup", Controllers: strings.Split(n, ",")}
			h.V1 = append(h.V1, m)
			h.Own[m.Key()] = own
			f.files[m.Point] = v1Files[n]
			root := map[string]string{}
			for k, v := range v1Files[n] {
				root[k] = v
			}
			if n == "cpuset" {
				root["cpuset.cpus"], root["cpuset.mems"] = "0-3", "0"
			}
			writeFiles(t, m.Point, root)
		}
	}
	f.fs = &fsys{mkdirHook: f.mkdir, writeHook: f.write, v2Root: h.V2}
	h.fs = f.fs
	f.host = h
	return f
}

// hierarchy returns the mount point dir is under.
func (f *fakeHost) hierarchy(dir string) string {
	best := ""
	for p := range f.files {
		if (dir == p || strings.HasPrefix(dir, p+"/")) && len(p) > len(best) {
			best = p
		}
	}
	return best
}

func (f *fakeHost) mkdir(dir string) {
	if files := f.files[f.hierarchy(dir)]; files != nil {
		writeFiles(f.t, dir, files)
	}
}

func (f *fakeHost) write(path, value string) error {
	if _, err := os.Stat(path); err != nil {
		return nil // the driver's open fails: not a write
	}
	rel := f.rel(path)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		if err := f.refuse(rel, value); err != nil {
			f.writes = append(f.writes, rel+"="+value+" (refused)")
			return err
		}
	}
	f.writes = append(f.writes, rel+"="+value)
	return nil
}

func (f *fakeHost) rel(path string) string {
	rel, err := filepath.Rel(f.root, path)
	if err != nil {
		f.t.Fatal(err)
	}
	return rel
}

// takeWrites returns the writes recorded so far and forgets them.
func (f *fakeHost) takeWrites() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.writes
	f.writes = nil
	return w
}

// cgroup makes a cgroup directory with its hierarchy's control files
// (and its missing parents, each filled too), as the kernel would have
// it; extra overrides or adds files.
func (f *fakeHost) cgroup(dir string, extra map[string]string) {
	f.t.Helper()
	h := f.hierarchy(dir)
	if h == "" {
		f.t.Fatalf("%s is on no fake hierarchy", dir)
	}
	var missing []string
	for d := dir; d != h; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		writeFiles(f.t, missing[i], f.files[h])
	}
	writeFiles(f.t, dir, extra)
}

// writeFiles makes dir and writes files into it.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readFile returns a file's content, or "<missing>".
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return "<missing>"
	} else if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }
func u32(v uint32) *uint32 { return &v }
func boolp(v bool) *bool   { return &v }

// mustNew is New for configurations that must be accepted.
func mustNew(t *testing.T, h *Host, cfg Config) Manager {
	t.Helper()
	m, err := New(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
