package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func exists2(p string) bool { _, err := os.Stat(p); return err == nil }

func TestMkdirAll(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, filepath.Join(base, "host", "keep"), nil)
	host := filepath.Join(base, "host")
	st := &State{}
	var made []string
	record := func(d string) error { made = append(made, d); return nil }

	if err := (*fsys)(nil).mkdirAll(st, filepath.Join(host, "a", "b", "c"), record); err != nil {
		t.Fatal(err)
	}
	if err := (*fsys)(nil).mkdirAll(st, filepath.Join(host, "a", "x"), record); err != nil {
		t.Fatal(err)
	}
	// The container's cgroup itself must be new.
	if err := (*fsys)(nil).mkdirAll(st, host, record); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("mkdirAll of an existing directory: error = %v, want one saying it already exists", err)
	}
	want := []string{
		filepath.Join(host, "a"),
		filepath.Join(host, "a", "b"),
		filepath.Join(host, "a", "b", "c"),
		filepath.Join(host, "a", "x"),
	}
	if !reflect.DeepEqual(st.Created, want) {
		t.Errorf("created = %v, want %v", st.Created, want)
	}
	if !reflect.DeepEqual(made, want) {
		t.Errorf("made called for %v, want %v", made, want)
	}

	// Removed deepest first; what was there before stays.
	if err := removeCreated(st); err != nil {
		t.Fatalf("removeCreated: %v", err)
	}
	for _, d := range want {
		if exists2(d) {
			t.Errorf("%s is still there", d)
		}
	}
	for _, d := range []string{host, filepath.Join(host, "keep")} {
		if !exists2(d) {
			t.Errorf("%s was removed, but was not made by mkdirAll", d)
		}
	}
	// Again: already gone is fine.
	if err := removeCreated(st); err != nil {
		t.Errorf("removeCreated again: %v", err)
	}
}

// A create killed half-way through making its cgroup is cleaned up from
// the state saved before: Claim lists there what mkdirAll will make.
func TestClaim(t *testing.T) {
	base := t.TempDir()
	v1 := filepath.Join(base, "v1")
	v2 := filepath.Join(base, "v2")
	writeFiles(t, filepath.Join(v1, "p", "keep"), nil)
	writeFiles(t, filepath.Join(v2, "keep"), nil)
	st := &State{
		V1: map[string]string{"memory": filepath.Join(v1, "p", "c")},
		V2: filepath.Join(v2, "p", "c"),
	}
	if err := st.Claim(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(v1, "p", "c"),
		filepath.Join(v2, "p"),
		filepath.Join(v2, "p", "c"),
	}
	if !reflect.DeepEqual(st.Created, want) {
		t.Errorf("claimed %v, want %v", st.Created, want)
	}
	// Killed after making only the v1 directory: removing what was
	// claimed removes it and skips the rest.
	if err := (*fsys)(nil).mkdirAll(st, st.V1["memory"], nil); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Created, want) {
		t.Errorf("after mkdirAll, created = %v, want %v (no duplicates)", st.Created, want)
	}
	if err := removeCreated(st); err != nil {
		t.Fatalf("removeCreated: %v", err)
	}
	if exists2(st.V1["memory"]) {
		t.Errorf("%s is still there", st.V1["memory"])
	}
	if !exists2(filepath.Join(v1, "p", "keep")) {
		t.Errorf("%s was removed, but was not claimed", filepath.Join(v1, "p"))
	}
}

func TestMkdirAllMadeError(t *testing.T) {
	base := t.TempDir()
	st := &State{}
	fail := func(d string) error { return unix.EINVAL }
	dir := filepath.Join(base, "a", "b")
	if err := (*fsys)(nil).mkdirAll(st, dir, fail); err != unix.EINVAL {
		t.Errorf("error = %v, want %v", err, unix.EINVAL)
	}
	// What it made is on record for the cleanup.
	if want := []string{filepath.Join(base, "a")}; !reflect.DeepEqual(st.Created, want) {
		t.Errorf("created = %v, want %v", st.Created, want)
	}
}

func TestRemoveCreatedSharedParent(t *testing.T) {
	// Two containers under one new parent: the first made it, the
	// second found it. Deleting the first must not fail on the parent
	// the second still uses.
	base := t.TempDir()
	p := filepath.Join(base, "pod")
	st1, st2 := &State{}, &State{}
	if err := (*fsys)(nil).mkdirAll(st1, filepath.Join(p, "c1"), nil); err != nil {
		t.Fatal(err)
	}
	if err := (*fsys)(nil).mkdirAll(st2, filepath.Join(p, "c2"), nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{p, filepath.Join(p, "c1")}; !reflect.DeepEqual(st1.Created, want) {
		t.Fatalf("created = %v, want %v", st1.Created, want)
	}
	if err := removeCreated(st1); err != nil {
		t.Errorf("removeCreated: %v, want nil (the parent is in use)", err)
	}
	if exists2(filepath.Join(p, "c1")) || !exists2(filepath.Join(p, "c2")) {
		t.Errorf("c1 exists %v, c2 exists %v, want false, true", exists2(filepath.Join(p, "c1")), exists2(filepath.Join(p, "c2")))
	}
	if err := removeCreated(st2); err != nil {
		t.Errorf("removeCreated: %v", err)
	}
	if exists2(filepath.Join(p, "c2")) {
		t.Errorf("c2 still there")
	}
}

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name    string
		st      State
		version string
		v2      string // fs1's v2 part
	}{
		{"v2 only", State{V2: "/sys/fs/cgroup/c1"}, "v2", ""},
		{"legacy", State{V1: map[string]string{"memory": "/sys/fs/cgroup/memory/c1"}, V1Controllers: map[string]string{"memory": "memory"}}, "v1", ""},
		{"hybrid", State{V2: "/sys/fs/cgroup/unified/c1", V1: map[string]string{"memory": "/sys/fs/cgroup/memory/c1"}, V1Controllers: map[string]string{"memory": "memory"}}, "v1", "/sys/fs/cgroup/unified/c1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Load(&tc.st)
			if got := m.Version(); got != tc.version {
				t.Errorf("version = %v, want %v", got, tc.version)
			}
			if got := m.State(); got != &tc.st {
				t.Errorf("state = %p, want the one loaded %p", got, &tc.st)
			}
			switch m := m.(type) {
			case *fs2:
				if m.dir != tc.st.V2 || m.hybrid {
					t.Errorf("fs2 dir %v hybrid %v, want %v false", m.dir, m.hybrid, tc.st.V2)
				}
			case *fs1:
				got := ""
				if m.v2 != nil {
					got = m.v2.dir
					if !m.v2.hybrid {
						t.Errorf("v2 part not marked hybrid")
					}
				}
				if got != tc.v2 {
					t.Errorf("v2 part = %q, want %q", got, tc.v2)
				}
			}
		})
	}
}

func TestFs2Freeze(t *testing.T) {
	const delay = 100 * time.Millisecond
	_, m := newFs2(t, map[string]string{"cgroup.events": "populated 1\nfrozen 0\n"})
	events := filepath.Join(m.dir, "cgroup.events")
	// The kernel says frozen once every task stopped, some time after
	// the write to cgroup.freeze.
	later := func(content string) <-chan error {
		done := make(chan error, 1)
		go func() {
			time.Sleep(delay)
			done <- os.WriteFile(events, []byte(content), 0o644)
		}()
		return done
	}

	done := later("populated 1\nfrozen 1\n")
	start := time.Now()
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < delay {
		t.Errorf("Freeze returned after %v, before cgroup.events said frozen (%v)", d, delay)
	}
	if got := readFile(t, filepath.Join(m.dir, "cgroup.freeze")); got != "1" {
		t.Errorf("cgroup.freeze = %q, want %q", got, "1")
	}
	if !m.Frozen() {
		t.Errorf("Frozen() = false, want true")
	}
	// Frozen already: no wait.
	start = time.Now()
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= delay {
		t.Errorf("Freeze of a frozen cgroup took %v", d)
	}

	done = later("populated 1\nfrozen 0\n")
	start = time.Now()
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < delay {
		t.Errorf("Thaw returned after %v, before cgroup.events said thawed (%v)", d, delay)
	}
	if got := readFile(t, filepath.Join(m.dir, "cgroup.freeze")); got != "0" {
		t.Errorf("cgroup.freeze = %q, want %q", got, "0")
	}
	if m.Frozen() {
		t.Errorf("Frozen() = true, want false")
	}
}

func TestFrozenEvents(t *testing.T) {
	for _, tc := range []struct {
		events string
		want   bool
	}{
		{"populated 1\nfrozen 1\n", true},
		{"populated 1\nfrozen 0\n", false},
		{"frozen 1", true},
		{"populated 0\n", false},
		{"<remove>", false},
	} {
		_, m := newFs2(t, map[string]string{"cgroup.events": tc.events})
		if got := m.Frozen(); got != tc.want {
			t.Errorf("Frozen() with cgroup.events %q = %v, want %v", tc.events, got, tc.want)
		}
	}
}

func TestFs2SignalKill(t *testing.T) {
	// With cgroup.kill, SIGKILL is one write (no pid is signalled: the
	// ones here are made up).
	f, m := newFs2(t, map[string]string{"cgroup.procs": "999999\n"})
	if err := m.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if got, want := writesIn(f.takeWrites(), "user.slice/c1"), []string{"cgroup.kill=1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("writes = %q, want %q", got, want)
	}
}

func TestPids(t *testing.T) {
	f, m := newFs2(t, map[string]string{"cgroup.procs": "1\n2\n"})
	// A container with a cgroup namespace makes its own sub-cgroups.
	f.cgroup(filepath.Join(m.dir, "sub"), map[string]string{"cgroup.procs": "3\n"})
	f.cgroup(filepath.Join(m.dir, "sub", "deeper"), map[string]string{"cgroup.procs": "4\n5\n"})
	f.cgroup(filepath.Join(m.dir, "empty"), nil)
	got, err := m.Pids()
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 3, 4, 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("pids = %v, want %v", got, want)
	}

	m.dir = filepath.Join(m.dir, "gone")
	if _, err := m.Pids(); err == nil {
		t.Errorf("pids of a missing cgroup: no error")
	}
}

func TestFs1Pids(t *testing.T) {
	_, m := newFs1(t, Legacy, map[string]map[string]string{
		"pids":   {"cgroup.procs": "7\n8\n"},
		"memory": {"cgroup.procs": "7\n8\n"},
	})
	got, err := m.Pids()
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{7, 8}; !reflect.DeepEqual(got, want) {
		t.Errorf("pids = %v, want %v", got, want)
	}
}

func hasSize(size string) bool {
	for _, s := range hugepageSizes() {
		if s == size {
			return true
		}
	}
	return false
}

func TestFs2Stats(t *testing.T) {
	_, m := newFs2(t, map[string]string{
		"cpu.stat":                 "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n",
		"memory.stat":              "anon 4096\nfile 8192\nkernel_stack 16\n",
		"memory.current":           "12288\n",
		"memory.max":               "50000\n",
		"memory.peak":              "20000\n",
		"memory.events":            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
		"memory.swap.current":      "100\n",
		"memory.swap.max":          "1000\n",
		"pids.current":             "3\n",
		"pids.max":                 "64\n",
		"io.stat":                  "8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n8:16 rbytes=5 wbytes=6 rios=7 wios=8\n",
		"hugetlb.2MB.current":      "2097152\n",
		"hugetlb.2MB.rsvd.current": "4194304\n",
		"hugetlb.2MB.max":          "8388608\n",
		"hugetlb.2MB.events":       "max 1\n",
		"cpu.pressure":             "some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=6789\n",
		"memory.pressure":          "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=2\n",
	})
	got, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := &Stats{
		CPU: CPU{
			Usage:      CPUUsage{Total: 1000000, User: 600000, Kernel: 400000},
			Throttling: Throttling{Periods: 10, ThrottledPeriods: 2, ThrottledTime: 300000},
			PSI:        &PSIStats{Some: PSIData{Avg10: 1.5, Avg60: 0.25, Total: 12345}, Full: PSIData{Total: 6789}},
		},
		Memory: Memory{
			Cache: 8192,
			Usage: MemoryEntry{Usage: 12288, Limit: 50000, Max: 20000, Failcnt: 3},
			// Memory and swap together, as v1 counts them.
			Swap: MemoryEntry{Usage: 12388, Limit: 51000},
			Raw:  map[string]uint64{"anon": 4096, "file": 8192, "kernel_stack": 16},
			PSI:  &PSIStats{Some: PSIData{Total: 1}, Full: PSIData{Total: 2}},
		},
		Pids: Pids{Current: 3, Limit: 64},
		Blkio: Blkio{
			IoServiceBytesRecursive: []BlkioEntry{
				{Major: 8, Minor: 0, Op: "Read", Value: 100},
				{Major: 8, Minor: 0, Op: "Write", Value: 200},
				{Major: 8, Minor: 16, Op: "Read", Value: 5},
				{Major: 8, Minor: 16, Op: "Write", Value: 6},
			},
			IoServicedRecursive: []BlkioEntry{
				{Major: 8, Minor: 0, Op: "Read", Value: 3},
				{Major: 8, Minor: 0, Op: "Write", Value: 4},
				{Major: 8, Minor: 16, Op: "Read", Value: 7},
				{Major: 8, Minor: 16, Op: "Write", Value: 8},
			},
		},
	}
	// The hugepage sizes come from the host's /sys/kernel/mm/hugepages.
	// The reservation counter where there is one, as runc reads; no
	// largest usage on v2 (hugetlb.2MB.max is the limit, not that).
	want.Hugetlb = map[string]Hugetlb{}
	if hasSize("2MB") {
		want.Hugetlb["2MB"] = Hugetlb{Usage: 4194304, Failcnt: 1}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

// Memory without a limit: memory and swap together have none either.
func TestFs2StatsSwapUnlimited(t *testing.T) {
	for _, tc := range []struct{ mem, swap string }{{"max", "1000"}, {"5000", "max"}, {"max", "max"}} {
		_, m := newFs2(t, map[string]string{"memory.current": "10\n", "memory.max": tc.mem, "memory.swap.current": "1\n", "memory.swap.max": tc.swap})
		got, err := m.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if want := (MemoryEntry{Usage: 11, Limit: ^uint64(0)}); got.Memory.Swap != want {
			t.Errorf("memory.max %s, memory.swap.max %s: swap = %+v, want %+v", tc.mem, tc.swap, got.Memory.Swap, want)
		}
	}
}

func TestParseIOStat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Blkio
	}{
		{"", Blkio{}},
		{"\n\n", Blkio{}},
		{"8:0\n", Blkio{}},
		{"bogus rbytes=1\n", Blkio{}},
		{"8:0 rbytes=x wbytes=2 dbytes=9 rios=\n", Blkio{IoServiceBytesRecursive: []BlkioEntry{{Major: 8, Minor: 0, Op: "Write", Value: 2}}}},
		{"259:1 rios=18446744073709551615\n", Blkio{IoServicedRecursive: []BlkioEntry{{Major: 259, Minor: 1, Op: "Read", Value: 18446744073709551615}}}},
	} {
		if got := parseIOStat(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseIOStat(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestFs1Stats(t *testing.T) {
	blkio := "8:0 Read 10\n8:0 Write 20\n8:0 Sync 5\n8:0 Async 25\n8:0 Total 30\nTotal 30\n"
	_, m := newFs1(t, Hybrid, map[string]map[string]string{
		"cpu,cpuacct": {
			"cpuacct.usage":        "123456789\n",
			"cpuacct.usage_percpu": "100 200 \n",
			"cpuacct.stat":         "user 5\nsystem 7\n",
			"cpuacct.usage_all":    "cpu user system\n0 30 70\n1 40 60\n",
			"cpu.stat":             "nr_periods 10\nnr_throttled 2\nthrottled_time 300\n",
		},
		"memory": {
			"memory.usage_in_bytes":           "1000\n",
			"memory.max_usage_in_bytes":       "2000\n",
			"memory.limit_in_bytes":           "3000\n",
			"memory.failcnt":                  "1\n",
			"memory.memsw.usage_in_bytes":     "1500\n",
			"memory.memsw.max_usage_in_bytes": "2500\n",
			"memory.memsw.limit_in_bytes":     "4000\n",
			"memory.memsw.failcnt":            "2\n",
			"memory.kmem.usage_in_bytes":      "10\n",
			"memory.kmem.limit_in_bytes":      "9223372036854771712\n",
			"memory.stat":                     "cache 300\nrss 700\n",
		},
		"pids": {"pids.current": "2\n", "pids.max": "max\n"},
		"cpuset": {
			"cpuset.cpus": "0-1,3\n", "cpuset.mems": "0\n", "cpuset.cpu_exclusive": "0\n",
			"cpuset.sched_load_balance": "1\n", "cpuset.sched_relax_domain_level": "-1\n", "cpuset.memory_pressure": "7\n",
		},
		"blkio": {
			"blkio.throttle.io_service_bytes_recursive": blkio,
			"blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\n",
		},
		"unified": {"hugetlb.2MB.current": "0\n", "hugetlb.2MB.max": "max\n", "hugetlb.2MB.events": "max 0\n"},
	})
	got, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := &Stats{
		CPU: CPU{
			// cpuacct.stat counts USER_HZ (100 a second) ticks.
			Usage: CPUUsage{Total: 123456789, Percpu: []uint64{100, 200}, User: 5e7, Kernel: 7e7,
				PercpuKernel: []uint64{70, 60}, PercpuUser: []uint64{30, 40}},
			Throttling: Throttling{Periods: 10, ThrottledPeriods: 2, ThrottledTime: 300},
		},
		CPUSet: CPUSet{CPUs: []uint16{0, 1, 3}, Mems: []uint16{0}, SchedLoadBalance: 1, SchedRelaxDomainLevel: -1, MemoryPressure: 7},
		Memory: Memory{
			Cache:  300,
			Usage:  MemoryEntry{Usage: 1000, Max: 2000, Limit: 3000, Failcnt: 1},
			Swap:   MemoryEntry{Usage: 1500, Max: 2500, Limit: 4000, Failcnt: 2},
			Kernel: MemoryEntry{Usage: 10, Limit: 9223372036854771712},
			Raw:    map[string]uint64{"cache": 300, "rss": 700},
		},
		Pids: Pids{Current: 2, Limit: 0}, // pids.max "max": reported as 0, as runc does
		Blkio: Blkio{
			IoServiceBytesRecursive: []BlkioEntry{
				{Major: 8, Minor: 0, Op: "Read", Value: 10},
				{Major: 8, Minor: 0, Op: "Write", Value: 20},
				{Major: 8, Minor: 0, Op: "Sync", Value: 5},
				{Major: 8, Minor: 0, Op: "Async", Value: 25},
				{Major: 8, Minor: 0, Op: "Total", Value: 30},
			},
			IoServicedRecursive: []BlkioEntry{
				{Major: 8, Minor: 0, Op: "Read", Value: 1},
				{Major: 8, Minor: 0, Op: "Write", Value: 2},
			},
		},
	}
	// Hugetlb from the v2 part (no v1 hugetlb hierarchy here).
	want.Hugetlb = map[string]Hugetlb{}
	if hasSize("2MB") {
		want.Hugetlb["2MB"] = Hugetlb{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

func TestOOMKills(t *testing.T) {
	t.Run("v2", func(t *testing.T) {
		_, m := newFs2(t, map[string]string{"memory.events": "low 0\nhigh 0\nmax 9\noom 3\noom_kill 2\noom_group_kill 0\n"})
		if n, err := m.OOMKills(); n != 2 || err != nil {
			t.Errorf("OOMKills() = %v, %v, want 2, nil", n, err)
		}
	})
	t.Run("v2 without memory controller", func(t *testing.T) {
		_, m := newFs2(t, map[string]string{"memory.events": "<remove>"})
		if _, err := m.OOMKills(); err == nil {
			t.Errorf("OOMKills() without memory.events: no error")
		}
	})
	t.Run("v1", func(t *testing.T) {
		_, m := newFs1(t, Legacy, map[string]map[string]string{"memory": {"memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n"}})
		if n, err := m.OOMKills(); n != 4 || err != nil {
			t.Errorf("OOMKills() = %v, %v, want 4, nil", n, err)
		}
	})
	t.Run("v1 without memory controller", func(t *testing.T) {
		_, m := newFs1(t, Legacy, nil)
		delete(m.st.V1Controllers, "memory")
		if _, err := m.OOMKills(); err == nil || !strings.Contains(err.Error(), "memory controller is not mounted") {
			t.Errorf("OOMKills() error = %v, want the memory controller is not mounted", err)
		}
	})
}

// The container's own cgroup goes with the cgroups its processes made
// under it (delete --force of a container that used its cgroup
// namespace); a parent made for it is only rmdir'd.
func TestRemoveCreatedOwnSubtree(t *testing.T) {
	base := t.TempDir()
	parent := filepath.Join(base, "parent")
	own := filepath.Join(parent, "ctr")
	for _, d := range []string{filepath.Join(own, "a", "b"), filepath.Join(own, "c")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	st := &State{V2: own, Created: []string{parent, own}}
	if err := removeCreated(st); err != nil {
		t.Fatalf("removeCreated: %v", err)
	}
	for _, d := range []string{own, parent} {
		if exists2(d) {
			t.Errorf("%s is still there", d)
		}
	}

	// v1: each hierarchy's directory is the container's own.
	v1 := filepath.Join(base, "pids", "ctr")
	if err := os.MkdirAll(filepath.Join(v1, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	st = &State{V1: map[string]string{"pids": v1}, Created: []string{v1}}
	if err := removeCreated(st); err != nil || exists2(v1) {
		t.Errorf("removeCreated (v1): %v; %s there: %v", err, v1, exists2(v1))
	}
}

func TestCPUList(t *testing.T) {
	for in, want := range map[string][]uint16{
		"0":         {0},
		"0-3\n":     {0, 1, 2, 3},
		"0-1,3,8-9": {0, 1, 3, 8, 9},
		"":          nil,
		"3-1":       nil,
		"a":         nil,
		"0-70000":   nil,
		"1,,2":      nil,
		"65535":     {65535},
		" 2-2 ":     {2},
	} {
		if got := cpuList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("cpuList(%q) = %v, want %v", in, got, want)
		}
	}
}

// v1 blkio as runc's events reads it: the first set of files (BFQ's,
// CFQ's, the throttling layer's recursive, then plain ones) whose first
// file has entries; "Total" lines left out; lines without an operation
// kept.
func TestBlkioV1(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  Blkio
	}{
		{"throttle recursive", map[string]string{
			"blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
			"blkio.throttle.io_service_bytes_recursive": "8:0 Read 512\nTotal 512\n",
		}, Blkio{
			IoServicedRecursive:     []BlkioEntry{{Major: 8, Op: "Read", Value: 1}, {Major: 8, Op: "Write", Value: 2}},
			IoServiceBytesRecursive: []BlkioEntry{{Major: 8, Op: "Read", Value: 512}},
		}},
		{"throttle recursive empty: the plain files", map[string]string{
			"blkio.throttle.io_serviced_recursive":      "Total 0\n",
			"blkio.throttle.io_service_bytes_recursive": "Total 0\n",
			"blkio.throttle.io_serviced":                "8:16 Read 4\nTotal 4\n",
			"blkio.throttle.io_service_bytes":           "8:16 Read 4096\n",
		}, Blkio{
			IoServicedRecursive:     []BlkioEntry{{Major: 8, Minor: 16, Op: "Read", Value: 4}},
			IoServiceBytesRecursive: []BlkioEntry{{Major: 8, Minor: 16, Op: "Read", Value: 4096}},
		}},
		{"BFQ without its debug files", map[string]string{
			"blkio.bfq.io_serviced_recursive":           "259:0 Read 9\n",
			"blkio.bfq.io_service_bytes_recursive":      "259:0 Read 900\n",
			"blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n",
			"blkio.throttle.io_service_bytes_recursive": "8:0 Read 512\n",
		}, Blkio{
			IoServicedRecursive:     []BlkioEntry{{Major: 259, Op: "Read", Value: 9}},
			IoServiceBytesRecursive: []BlkioEntry{{Major: 259, Op: "Read", Value: 900}},
		}},
		{"CFQ", map[string]string{
			"blkio.sectors_recursive":              "8:0 16\n",
			"blkio.io_service_time_recursive":      "8:0 Read 5\n",
			"blkio.io_wait_time_recursive":         "8:0 Read 6\n",
			"blkio.io_merged_recursive":            "8:0 Read 7\n",
			"blkio.io_queued_recursive":            "8:0 Read 8\n",
			"blkio.time_recursive":                 "8:0 10\n",
			"blkio.io_serviced_recursive":          "8:0 Read 2\n",
			"blkio.io_service_bytes_recursive":     "8:0 Read 8192\n",
			"blkio.throttle.io_serviced_recursive": "8:0 Read 1\n",
		}, Blkio{
			SectorsRecursive:        []BlkioEntry{{Major: 8, Value: 16}},
			IoServiceTimeRecursive:  []BlkioEntry{{Major: 8, Op: "Read", Value: 5}},
			IoWaitTimeRecursive:     []BlkioEntry{{Major: 8, Op: "Read", Value: 6}},
			IoMergedRecursive:       []BlkioEntry{{Major: 8, Op: "Read", Value: 7}},
			IoQueuedRecursive:       []BlkioEntry{{Major: 8, Op: "Read", Value: 8}},
			IoTimeRecursive:         []BlkioEntry{{Major: 8, Value: 10}},
			IoServicedRecursive:     []BlkioEntry{{Major: 8, Op: "Read", Value: 2}},
			IoServiceBytesRecursive: []BlkioEntry{{Major: 8, Op: "Read", Value: 8192}},
		}},
		{"nothing", nil, Blkio{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			writeFiles(t, d, tc.files)
			if got := blkioV1(d); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("blkioV1 = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// v1 hugetlb: the reservation counters where the kernel has them, the
// largest usage, failures.
func TestHugetlbV1(t *testing.T) {
	if !hasSize("2MB") {
		t.Skip("this host has no 2MB hugepages (/sys/kernel/mm/hugepages)")
	}
	d := t.TempDir()
	writeFiles(t, d, map[string]string{
		"hugetlb.2MB.usage_in_bytes": "1\n", "hugetlb.2MB.max_usage_in_bytes": "2\n", "hugetlb.2MB.failcnt": "3\n",
	})
	if got := hugetlbV1(d)["2MB"]; got != (Hugetlb{Usage: 1, Max: 2, Failcnt: 3}) {
		t.Errorf("without rsvd: %+v", got)
	}
	writeFiles(t, d, map[string]string{
		"hugetlb.2MB.rsvd.usage_in_bytes": "4\n", "hugetlb.2MB.rsvd.max_usage_in_bytes": "5\n", "hugetlb.2MB.rsvd.failcnt": "6\n",
	})
	if got := hugetlbV1(d)["2MB"]; got != (Hugetlb{Usage: 4, Max: 5, Failcnt: 6}) {
		t.Errorf("with rsvd: %+v", got)
	}
}

// No pressure file (no CONFIG_PSI, psi=0, cgroup.pressure 0): no "psi".
func TestReadPSIAbsent(t *testing.T) {
	if p := readPSI(t.TempDir(), "cpu.pressure"); p != nil {
		t.Errorf("readPSI of no file = %+v, want nil", p)
	}
}
