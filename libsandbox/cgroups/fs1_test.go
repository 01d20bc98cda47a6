package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// newFs1 makes a fake host of mode (Hybrid or Legacy) with the
// container's cgroups made (ID c1, so <hierarchy>/user.slice/session-1.scope/c1
// on v1 and unified/user.slice/c1 on v2), plus extra files by hierarchy
// name ("<remove>" removes one).
func newFs1(t *testing.T, mode Mode, extra map[string]map[string]string) (*fakeHost, *fs1) {
	t.Helper()
	f := newFake(t, mode, "/user.slice/session-1.scope")
	m := mustNew(t, f.host, Config{ID: "c1"}).(*fs1)
	for _, d := range m.st.V1 {
		f.cgroup(d, nil)
	}
	if m.v2 != nil {
		f.cgroup(m.v2.dir, nil)
	}
	for h, files := range extra {
		dir := filepath.Join(f.root, h, "user.slice", "session-1.scope", "c1")
		if h == "unified" {
			dir = m.v2.dir
		}
		for k, v := range files {
			if v == "<remove>" {
				if err := os.Remove(filepath.Join(dir, k)); err != nil {
					t.Fatal(err)
				}
				continue
			}
			writeFiles(t, dir, map[string]string{k: v})
		}
	}
	return f, m
}

// fs1Writes shortens the container's directories in writes to their
// hierarchy: "memory/memory.limit_in_bytes=1".
func fs1Writes(writes []string) []string {
	var out []string
	for _, w := range writes {
		w = strings.Replace(w, "/user.slice/session-1.scope/c1/", "/", 1)
		w = strings.Replace(w, "unified/user.slice/c1/", "unified/", 1)
		out = append(out, w)
	}
	return out
}

// memoryKernel refuses, as the v1 memory controller does with EINVAL, a
// memory.limit_in_bytes above memory.memsw.limit_in_bytes or the other
// way round.
func memoryKernel(f *fakeHost) func(rel, value string) error {
	return func(rel, value string) error {
		dir := filepath.Join(f.root, filepath.Dir(rel))
		num := func(file string) int64 {
			n, err := strconv.ParseInt(strings.TrimSpace(readFile(f.t, filepath.Join(dir, file))), 10, 64)
			if err != nil {
				f.t.Fatal(err)
			}
			return n
		}
		base := filepath.Base(rel)
		if base != "memory.limit_in_bytes" && base != "memory.memsw.limit_in_bytes" {
			return nil
		}
		v, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return unix.EINVAL
		}
		switch base {
		case "memory.limit_in_bytes":
			if v > num("memory.memsw.limit_in_bytes") {
				return unix.EINVAL
			}
		case "memory.memsw.limit_in_bytes":
			if v < num("memory.limit_in_bytes") {
				return unix.EINVAL
			}
		}
		return nil
	}
}

func TestFs1Set(t *testing.T) {
	dev := func(maj, min int64) specs.LinuxBlockIODevice { return specs.LinuxBlockIODevice{Major: maj, Minor: min} }
	for _, tc := range []struct {
		name   string
		mode   Mode
		extra  map[string]map[string]string
		r      specs.LinuxResources
		update bool
		want   []string
	}{
		{name: "nothing"},
		{name: "memory limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100 << 20)}},
			want: []string{"memory/memory.limit_in_bytes=104857600"}},
		{name: "memory limit -1", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}},
			want: []string{"memory/memory.limit_in_bytes=-1"}},
		{
			name:  "memory and swap lowered: limit first",
			extra: map[string]map[string]string{"memory": {"memory.limit_in_bytes": "200", "memory.memsw.limit_in_bytes": "300"}},
			r:     specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(150)}},
			want:  []string{"memory/memory.limit_in_bytes=100", "memory/memory.memsw.limit_in_bytes=150"},
		},
		{
			name:  "memory and swap raised: memsw first",
			extra: map[string]map[string]string{"memory": {"memory.limit_in_bytes": "100", "memory.memsw.limit_in_bytes": "150"}},
			r:     specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(200), Swap: i64(300)}},
			want: []string{
				"memory/memory.limit_in_bytes=200 (refused)",
				"memory/memory.memsw.limit_in_bytes=300",
				"memory/memory.limit_in_bytes=200",
			},
		},
		{
			name:   "swap alone on update",
			extra:  map[string]map[string]string{"memory": {"memory.limit_in_bytes": "100", "memory.memsw.limit_in_bytes": "150"}},
			r:      specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(300)}},
			update: true,
			want:   []string{"memory/memory.memsw.limit_in_bytes=300"},
		},
		{
			name:   "update above usage",
			extra:  map[string]map[string]string{"memory": {"memory.usage_in_bytes": "1000"}},
			r:      specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(2000)}},
			update: true,
			want:   []string{"memory/memory.limit_in_bytes=2000"},
		},
		{name: "memory reservation, swappiness, oom", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: i64(50), Swappiness: u64(0), DisableOOMKiller: boolp(true)}},
			want: []string{"memory/memory.soft_limit_in_bytes=50", "memory/memory.swappiness=0", "memory/memory.oom_control=1"}},
		{name: "oom killer on", r: specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: boolp(false)}},
			want: []string{"memory/memory.oom_control=0"}},
		{name: "cpu shares", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(512)}},
			want: []string{"cpu,cpuacct/cpu.shares=512"}},
		{name: "cpu period before quota", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(25000), Period: u64(50000)}},
			want: []string{"cpu,cpuacct/cpu.cfs_period_us=50000", "cpu,cpuacct/cpu.cfs_quota_us=25000"}},
		{name: "cpu no quota", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(-1)}},
			want: []string{"cpu,cpuacct/cpu.cfs_quota_us=-1"}},
		{name: "cpu burst and idle", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Burst: u64(1000), Idle: i64(1)}},
			want: []string{"cpu,cpuacct/cpu.cfs_burst_us=1000", "cpu,cpuacct/cpu.idle=1"}},
		{name: "cpu realtime period before runtime", r: specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: i64(950000), RealtimePeriod: u64(1000000)}},
			want: []string{"cpu,cpuacct/cpu.rt_period_us=1000000", "cpu,cpuacct/cpu.rt_runtime_us=950000"}},
		{name: "cpuset", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-1", Mems: "0"}},
			want: []string{"cpuset/cpuset.cpus=0-1", "cpuset/cpuset.mems=0"}},
		{name: "pids", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}},
			want: []string{"pids/pids.max=10"}},
		{name: "pids -1", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-1)}},
			want: []string{"pids/pids.max=max"}},
		{name: "pids 0", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(0)}},
			want: []string{"pids/pids.max=1"}},
		{name: "blkio weights", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
			Weight: u16(500), LeafWeight: u16(300),
			WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: dev(8, 0), Weight: u16(100), LeafWeight: u16(50)}},
		}},
			want: []string{"blkio/blkio.weight=500", "blkio/blkio.leaf_weight=300", "blkio/blkio.weight_device=8:0 100", "blkio/blkio.leaf_weight_device=8:0 50"}},
		{
			name: "blkio bfq weights",
			extra: map[string]map[string]string{"blkio": {
				"blkio.weight": "<remove>", "blkio.weight_device": "<remove>",
				"blkio.bfq.weight": "100", "blkio.bfq.weight_device": "",
			}},
			r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
				Weight:       u16(500),
				WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: dev(8, 0), Weight: u16(100)}},
			}},
			want: []string{"blkio/blkio.bfq.weight=500", "blkio/blkio.bfq.weight_device=8:0 100"},
		},
		{name: "blkio throttle", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 1 << 20}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 2 << 20}, {LinuxBlockIODevice: dev(8, 16), Rate: 0}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 100}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 200}},
		}},
			want: []string{
				"blkio/blkio.throttle.read_bps_device=8:0 1048576",
				"blkio/blkio.throttle.write_bps_device=8:0 2097152",
				"blkio/blkio.throttle.write_bps_device=8:16 0",
				"blkio/blkio.throttle.read_iops_device=8:0 100",
				"blkio/blkio.throttle.write_iops_device=8:0 200",
			}},
		{
			// No v1 hugetlb hierarchy: the v2 part has the controller,
			// enabled for this cgroup on demand.
			name: "hugetlb on the v2 part",
			mode: Hybrid,
			r:    specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}},
			want: []string{
				"unified/cgroup.subtree_control=+hugetlb",
				"unified/user.slice/cgroup.subtree_control=+hugetlb",
				"unified/hugetlb.2MB.max=4194304",
				"unified/hugetlb.2MB.rsvd.max=4194304",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mode := tc.mode
			if mode == Unified {
				mode = Legacy
			}
			f, m := newFs1(t, mode, tc.extra)
			f.refuse = memoryKernel(f)
			if err := m.set(&tc.r, tc.update); err != nil {
				t.Fatalf("set: %v", err)
			}
			if got := fs1Writes(f.takeWrites()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("writes = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFs1SetHugetlbV1(t *testing.T) {
	f := newFake(t, Legacy, "/")
	// A v1 hugetlb hierarchy.
	mnt := Mount{Point: filepath.Join(f.root, "hugetlb"), Root: "/", Type: "cgroup", Controllers: []string{"hugetlb"}}
	f.host.V1 = append(f.host.V1, mnt)
	f.host.Own["hugetlb"] = "/"
	files := map[string]string{"cgroup.procs": "", "hugetlb.2MB.limit_in_bytes": "9223372036854771712", "hugetlb.1GB.limit_in_bytes": "9223372036854771712"}
	f.files[mnt.Point] = files
	writeFiles(t, mnt.Point, files)
	m := mustNew(t, f.host, Config{ID: "c1"}).(*fs1)
	f.cgroup(filepath.Join(mnt.Point, "c1"), nil)
	r := &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}, {Pagesize: "1GB", Limit: 0}}}
	if err := m.set(r, false); err != nil {
		t.Fatal(err)
	}
	want := []string{"hugetlb/c1/hugetlb.2MB.limit_in_bytes=4194304", "hugetlb/c1/hugetlb.1GB.limit_in_bytes=0"}
	if got := f.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes = %q, want %q", got, want)
	}
}

func TestFs1SetErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mode   Mode
		extra  map[string]map[string]string
		r      specs.LinuxResources
		update bool
		err    string
		want   []string
	}{
		{name: "unified", r: specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}},
			err: "linux.resources.unified: needs cgroup v2"},
		{name: "negative limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-2)}},
			err: "linux.resources.memory.limit: -2 is negative"},
		{name: "swap without limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(100)}},
			err: "linux.resources.memory.swap: cannot set a swap limit without a memory limit"},
		{name: "swap below limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(200), Swap: i64(100)}},
			err: "linux.resources.memory.swap: 100 (memory+swap) must not be below"},
		{name: "no swap accounting", extra: map[string]map[string]string{"memory": {"memory.memsw.limit_in_bytes": "<remove>"}},
			r:   specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(200)}},
			err: "linux.resources.memory.swap: swap accounting is not enabled"},
		{name: "swappiness above 100", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swappiness: u64(101)}},
			err: "linux.resources.memory.swappiness: 101 is above 100"},
		{name: "update below usage", extra: map[string]map[string]string{"memory": {"memory.usage_in_bytes": "1000"}},
			r:      specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(500), Swap: i64(600)}},
			update: true,
			err:    "linux.resources.memory.limit: 500 is below the current usage 1000"},
		{name: "net_cls not mounted", r: specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(0x100001)}},
			err: "linux.resources.network.classID: the net_cls controller is not mounted on this host"},
		{name: "net_prio not mounted", r: specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}}}},
			err: "linux.resources.network.priorities[0]: the net_prio controller is not mounted on this host"},
		{name: "rdma not mounted", r: specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: u32(1)}}},
			err: "linux.resources.rdma.mlx5_0: the rdma controller is not mounted on this host"},
		{name: "no hugetlb anywhere", mode: Legacy, r: specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}},
			err: "linux.resources.hugepageLimits: no hugetlb controller on this host"},
		{name: "hugepage size on the v2 part", mode: Hybrid, r: specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2mb", Limit: 1}}},
			err:  "linux.resources.hugepageLimits[0]: pageSize \"2mb\"",
			want: []string{"unified/cgroup.subtree_control=+hugetlb", "unified/user.slice/cgroup.subtree_control=+hugetlb"}},
		{name: "kernel refuses", extra: map[string]map[string]string{"memory": {"memory.limit_in_bytes": "100", "memory.memsw.limit_in_bytes": "100"}},
			r:   specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(200)}},
			err: "linux.resources.memory.limit: write \"200\" to <root>/memory/user.slice/session-1.scope/c1/memory.limit_in_bytes: invalid argument",
			// Refused, it is tried again after memsw (here unchanged).
			want: []string{
				"memory/memory.limit_in_bytes=200 (refused)",
				"memory/memory.limit_in_bytes=200 (refused)",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mode := tc.mode
			if mode == Unified {
				mode = Hybrid
			}
			f, m := newFs1(t, mode, tc.extra)
			f.refuse = memoryKernel(f)
			err := m.set(&tc.r, tc.update)
			want := strings.ReplaceAll(tc.err, "<root>", f.root)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %v, want %v...", err, want)
			}
			if got := fs1Writes(f.takeWrites()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("writes = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFs1MissingController(t *testing.T) {
	for _, tc := range []struct {
		ctrl string
		r    specs.LinuxResources
		err  string
	}{
		{"memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1)}}, "linux.resources.memory: the memory controller is not mounted"},
		{"cpu", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(2)}}, "linux.resources.cpu.shares: the cpu controller is not mounted"},
		{"cpuset", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}, "linux.resources.cpu.cpus: the cpuset controller is not mounted"},
		{"pids", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(1)}}, "linux.resources.pids.limit: the pids controller is not mounted"},
		{"blkio", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(10)}}, "linux.resources.blockIO: the blkio controller is not mounted"},
	} {
		t.Run(tc.ctrl, func(t *testing.T) {
			_, m := newFs1(t, Legacy, nil)
			delete(m.st.V1Controllers, tc.ctrl)
			if err := m.set(&tc.r, false); err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("error = %v, want %v...", err, tc.err)
			}
		})
	}
}

func TestFs1Create(t *testing.T) {
	f := newFake(t, Hybrid, "/user.slice/session-1.scope")
	rules := []Rule{
		{Type: 'a', Major: -1, Minor: -1, Access: "rwm"},
		{Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true},
		{Type: 'c', Major: 136, Minor: -1, Access: "rw", Allow: true},
	}
	m := mustNew(t, f.host, Config{ID: "c1", Devices: rules})
	if err := m.Create(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, h := range []string{"blkio", "cpu,cpuacct", "cpuset", "devices", "freezer", "memory", "pids"} {
		d := filepath.Join(f.root, h, "user.slice")
		want = append(want, d, filepath.Join(d, "session-1.scope"), filepath.Join(d, "session-1.scope", "c1"))
	}
	want = append(want, filepath.Join(f.root, "unified", "user.slice"), filepath.Join(f.root, "unified", "user.slice", "c1"))
	created := m.State().Created
	// Hierarchies are made in map order; within one, parents first.
	pos := map[string]int{}
	for i, d := range created {
		pos[d] = i
	}
	for _, d := range created {
		if p, ok := pos[filepath.Dir(d)]; ok && p > pos[d] {
			t.Errorf("created %s before its parent", d)
		}
	}
	got := append([]string(nil), created...)
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created = %q, want %q", got, want)
	}

	// A new cpuset cgroup inherits its parent's cpus and mems, level by
	// level; then the resources; then the device rules, all of them
	// denied first.
	wantWrites := []string{
		"cpuset/user.slice/cpuset.cpus=0-3",
		"cpuset/user.slice/cpuset.mems=0",
		"cpuset/user.slice/session-1.scope/cpuset.cpus=0-3",
		"cpuset/user.slice/session-1.scope/cpuset.mems=0",
		"cpuset/cpuset.cpus=0-3",
		"cpuset/cpuset.mems=0",
		"pids/pids.max=10",
		"devices/devices.deny=a",
		"devices/devices.deny=a",
		"devices/devices.allow=c 1:3 rwm",
		"devices/devices.allow=c 136:* rw",
	}
	if got := fs1Writes(f.takeWrites()); !reflect.DeepEqual(got, wantWrites) {
		t.Errorf("writes = %q, want %q", got, wantWrites)
	}
	if !m.Exists() {
		t.Errorf("exists = false, want true")
	}
}

func TestFs1Enter(t *testing.T) {
	for _, cloned := range []bool{true, false} {
		t.Run("cloned="+strconv.FormatBool(cloned), func(t *testing.T) {
			f, m := newFs1(t, Hybrid, nil)
			if !m.NeedsEnter() {
				t.Errorf("NeedsEnter = false, want true")
			}
			if err := m.Enter(1234, cloned); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, h := range []string{"blkio", "cpu,cpuacct", "cpuset", "devices", "freezer", "memory", "pids"} {
				want = append(want, h+"/cgroup.procs=1234")
			}
			// clone3 placed it in the v2 cgroup already.
			if !cloned {
				want = append(want, "unified/cgroup.procs=1234")
			}
			got := fs1Writes(f.takeWrites())
			sort.Strings(got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("writes = %q, want %q", got, want)
			}
		})
	}
}

func TestFs1Freeze(t *testing.T) {
	f, m := newFs1(t, Legacy, nil)
	if m.Frozen() {
		t.Errorf("frozen before Freeze")
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if !m.Frozen() {
		t.Errorf("not frozen after Freeze")
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if m.Frozen() {
		t.Errorf("frozen after Thaw")
	}
	want := []string{"freezer/freezer.state=FROZEN", "freezer/freezer.state=THAWED"}
	if got := fs1Writes(f.takeWrites()); !reflect.DeepEqual(got, want) {
		t.Errorf("writes = %q, want %q", got, want)
	}
}

// An existing parent whose cpuset is empty (made by hand, or by an older
// tool) is filled from its parent before the container's cgroup is made
// under it; otherwise init's join fails with ENOSPC. A parent that has
// its own cpus keeps them.
func TestFs1CpusetEmptyParent(t *testing.T) {
	f := newFake(t, Legacy, "/")
	cpuset := filepath.Join(f.root, "cpuset")
	writeFiles(t, filepath.Join(cpuset, "a"), map[string]string{"cpuset.cpus": "", "cpuset.mems": ""})
	writeFiles(t, filepath.Join(cpuset, "a", "b"), map[string]string{"cpuset.cpus": "", "cpuset.mems": ""})
	writeFiles(t, filepath.Join(cpuset, "k"), map[string]string{"cpuset.cpus": "1", "cpuset.mems": "0"})
	m := mustNew(t, f.host, Config{Path: "/a/b/c1"})
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	m2 := mustNew(t, f.host, Config{Path: "/k/c2"})
	if err := m2.Create(nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range fs1Writes(f.takeWrites()) {
		if strings.HasPrefix(w, "cpuset/") {
			got = append(got, w)
		}
	}
	// Top-down: a, then b, then the new c1; c2 from k, left as it was.
	want := []string{
		"cpuset/a/cpuset.cpus=0-3", "cpuset/a/cpuset.mems=0",
		"cpuset/a/b/cpuset.cpus=0-3", "cpuset/a/b/cpuset.mems=0",
		"cpuset/a/b/c1/cpuset.cpus=0-3", "cpuset/a/b/c1/cpuset.mems=0",
		"cpuset/k/c2/cpuset.cpus=1", "cpuset/k/c2/cpuset.mems=0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cpuset writes = %q, want %q", got, want)
	}
	for _, d := range []string{"a", "a/b", "a/b/c1"} {
		if v, _ := read(filepath.Join(cpuset, d), "cpuset.cpus"); v != "0-3" {
			t.Errorf("%s: cpuset.cpus = %q, want 0-3", d, v)
		}
	}
}
