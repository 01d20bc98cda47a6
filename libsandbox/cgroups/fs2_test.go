package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// newFs2 makes a unified fake host with the container's cgroup at
// <root>/user.slice/c1, its files as the kernel makes them plus extra
// (a value "<remove>" removes a file: a controller or feature the host
// lacks).
func newFs2(t *testing.T, extra map[string]string) (*fakeHost, *fs2) {
	t.Helper()
	f := newFake(t, Unified, "/user.slice/session-1.scope")
	dir := filepath.Join(f.root, "user.slice", "c1")
	f.cgroup(dir, nil)
	for k, v := range extra {
		if v == "<remove>" {
			if err := os.Remove(filepath.Join(dir, k)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFiles(t, dir, map[string]string{k: v})
	}
	return f, &fs2{dir: dir, st: &State{V2: dir}, fs: f.fs}
}

// writesIn returns the writes under dir (relative to the fake root),
// with dir's prefix taken off.
func writesIn(writes []string, prefix string) []string {
	var out []string
	for _, w := range writes {
		out = append(out, strings.TrimPrefix(w, prefix+"/"))
	}
	return out
}

func TestFs2Set(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]string
		r     specs.LinuxResources
		want  []string // the writes, in order
	}{
		{name: "nothing", r: specs.LinuxResources{}},
		{name: "memory limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20)}},
			want: []string{"memory.max=1048576"}},
		{name: "memory limit -1", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}},
			want: []string{"memory.max=max"}},
		{name: "memory limit 0 is unset", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(0)}}},
		{name: "swap is memory+swap", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100 << 20), Swap: i64(300 << 20)}},
			want: []string{"memory.swap.max=209715200", "memory.max=104857600"}},
		{name: "swap equal to limit: no swap", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(100)}},
			want: []string{"memory.swap.max=0", "memory.max=100"}},
		{name: "swap -1", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(-1)}},
			want: []string{"memory.swap.max=max", "memory.max=100"}},
		{name: "swap against the current limit", extra: map[string]string{"memory.max": "100\n"},
			r:    specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(300)}},
			want: []string{"memory.swap.max=200"}},
		{name: "swap -1 without memory.swap.max", extra: map[string]string{"memory.swap.max": "<remove>"},
			r:    specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(-1)}},
			want: []string{"memory.max=100"}},
		{name: "reservation", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: i64(50 << 20)}},
			want: []string{"memory.low=52428800"}},
		{name: "ignored memory fields", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: i64(1), KernelTCP: i64(1), Swappiness: u64(10), DisableOOMKiller: boolp(false)}}},
		{name: "cpu shares", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(1024)}},
			want: []string{"cpu.weight=39"}},
		{name: "cpu quota and period", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(50000), Period: u64(100000)}},
			want: []string{"cpu.max=50000 100000"}},
		{name: "cpu no quota", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(-1), Period: u64(100000)}},
			want: []string{"cpu.max=max 100000"}},
		{name: "cpu period keeps the quota", extra: map[string]string{"cpu.max": "20000 100000\n"},
			r:    specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(50000)}},
			want: []string{"cpu.max=20000 50000"}},
		{name: "cpu period keeps no quota", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(50000)}},
			want: []string{"cpu.max=max 50000"}},
		{name: "cpu burst, idle, cpus, mems", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Burst: u64(1000), Idle: i64(1), Cpus: "0-1", Mems: "0"}},
			want: []string{"cpu.max.burst=1000", "cpu.idle=1", "cpuset.cpus=0-1", "cpuset.mems=0"}},
		{name: "cpu realtime zero is unset", r: specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: i64(0), RealtimePeriod: u64(0)}}},
		{name: "pids", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(100)}},
			want: []string{"pids.max=100"}},
		{name: "pids -1", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-1)}},
			want: []string{"pids.max=max"}},
		{name: "pids 0 is a limit of 1", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(0)}},
			want: []string{"pids.max=1"}},
		{name: "io weight", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(500)}},
			want: []string{"io.weight=default 4950"}},
		{name: "io bfq weight", extra: map[string]string{"io.bfq.weight": "default 100\n"},
			r:    specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(500)}},
			want: []string{"io.bfq.weight=default 500"}},
		{name: "io weight device", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(100)},
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}}, // no weight: skipped
		}}},
			want: []string{"io.weight=8:0 910"}},
		{name: "io bfq weight device", extra: map[string]string{"io.bfq.weight": "default 100\n"},
			r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(100)},
			}}},
			want: []string{"io.bfq.weight=8:0 100"}},
		{name: "io throttle", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1 << 20}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 2 << 20}, {LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 0}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 100}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 200}},
		}},
			want: []string{"io.max=8:0 rbps=1048576", "io.max=8:0 wbps=2097152", "io.max=8:16 wbps=max", "io.max=8:0 riops=100", "io.max=8:0 wiops=200"}},
		{name: "io leaf weight ignored", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: u16(100)}}},
		{name: "hugetlb with reservation", r: specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}},
			want: []string{"hugetlb.2MB.max=4194304", "hugetlb.2MB.rsvd.max=4194304"}},
		{name: "hugetlb without reservation", extra: map[string]string{"hugetlb.2MB.rsvd.max": "<remove>"},
			r:    specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}},
			want: []string{"hugetlb.2MB.max=4194304"}},
		{name: "rdma", r: specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: u32(3)}}},
			want: []string{"rdma.max=mlx5_0 hca_handle=3 hca_object=max"}},
		{name: "rdma both", r: specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: u32(3), HcaObjects: u32(1000)}}},
			want: []string{"rdma.max=mlx5_0 hca_handle=3 hca_object=1000"}},
		{name: "empty network", r: specs.LinuxResources{Network: &specs.LinuxNetwork{}}},
		{name: "unified", extra: map[string]string{"memory.high": "max\n"},
			r:    specs.LinuxResources{Unified: map[string]string{"memory.high": "1073741824"}},
			want: []string{"memory.high=1073741824"}},
		{name: "everything in order", r: specs.LinuxResources{
			Memory:         &specs.LinuxMemory{Limit: i64(100)},
			CPU:            &specs.LinuxCPU{Shares: u64(2)},
			Pids:           &specs.LinuxPids{Limit: i64(10)},
			BlockIO:        &specs.LinuxBlockIO{Weight: u16(10)},
			HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 0}},
			Unified:        map[string]string{"cpu.weight": "7"},
		},
			want: []string{"memory.max=100", "cpu.weight=1", "pids.max=10", "io.weight=default 1", "hugetlb.2MB.max=0", "hugetlb.2MB.rsvd.max=0", "cpu.weight=7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, m := newFs2(t, tc.extra)
			if err := m.set(&tc.r, false); err != nil {
				t.Fatalf("set: %v", err)
			}
			if got := writesIn(f.takeWrites(), "user.slice/c1"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("writes = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFs2SetWritesFile(t *testing.T) {
	// The recorded writes go to the files too.
	_, m := newFs2(t, nil)
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(300)}, CPU: &specs.LinuxCPU{Quota: i64(50000), Period: u64(100000)}}
	if err := m.set(r, false); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{"memory.max": "100", "memory.swap.max": "200", "cpu.max": "50000 100000", "pids.max": "max"} {
		if got := readFile(t, filepath.Join(m.dir, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
}

func TestFs2SetErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]string
		r     specs.LinuxResources
		err   string   // what the error starts with
		want  []string // the writes before the error
	}{
		{name: "negative limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-2)}},
			err: "linux.resources.memory.limit: -2 is negative"},
		{name: "negative swap", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(-5)}},
			err: "linux.resources.memory.swap: -5 is negative"},
		{name: "swap without limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(300)}},
			err: "linux.resources.memory.swap: cannot set a swap limit without a memory limit"},
		{name: "swap below limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(300), Swap: i64(100)}},
			err: "linux.resources.memory.swap: 100 (memory+swap) must not be below"},
		{name: "swap without swap accounting", extra: map[string]string{"memory.swap.max": "<remove>"},
			r:   specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(300)}},
			err: "linux.resources.memory.swap: swap accounting is not available"},
		{name: "disable OOM killer", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), DisableOOMKiller: boolp(true)}},
			err: "linux.resources.memory.disableOOMKiller:"},
		{name: "no memory controller", extra: map[string]string{"memory.max": "<remove>"},
			r:   specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100)}},
			err: "linux.resources.memory.limit: " + "<dir>/memory.max does not exist"},
		{name: "realtime runtime", r: specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: i64(1000)}},
			err: "linux.resources.cpu.realtimeRuntime:"},
		{name: "realtime period", r: specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: u64(1000)}},
			err: "linux.resources.cpu.realtimePeriod:"},
		{name: "net_cls", r: specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(1)}},
			err: "linux.resources.network.classID:"},
		{name: "net_prio", r: specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 1}}}},
			err: "linux.resources.network.priorities:"},
		{name: "no pids controller", extra: map[string]string{"pids.max": "<remove>"},
			r:   specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}},
			err: "linux.resources.pids.limit: <dir>/pids.max does not exist"},
		{name: "io weight too small", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(5)}},
			err: "linux.resources.blockIO.weight: 5 is outside 10..1000"},
		{name: "io weight too big", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(1001)}},
			err: "linux.resources.blockIO.weight: 1001 is outside 10..1000"},
		{name: "io device weight too small", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(100)},
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Weight: u16(5)},
		}}},
			err:  "linux.resources.blockIO.weightDevice[1]: 5 is outside 10..1000",
			want: []string{"io.weight=8:0 910"}},
		{name: "hugepage size empty", r: specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "", Limit: 1}}},
			err: "linux.resources.hugepageLimits[0]: empty pageSize"},
		{name: "hugepage size bad", r: specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2M", Limit: 1}}},
			err: "linux.resources.hugepageLimits[0]: pageSize \"2M\""},
		{name: "hugepage size missing", r: specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}, {Pagesize: "4MB", Limit: 1}}},
			err:  "linux.resources.hugepageLimits[1].pageSize \"4MB\": this host has no such hugepage size",
			want: []string{"hugetlb.2MB.max=1", "hugetlb.2MB.rsvd.max=1"}},
		{name: "unified unknown file", r: specs.LinuxResources{Unified: map[string]string{"memory.nosuch": "1"}},
			err: "linux.resources.unified.memory.nosuch: no such cgroup file"},
		{name: "unified unavailable controller", r: specs.LinuxResources{Unified: map[string]string{"misc.max": "1"}},
			err: "linux.resources.unified.misc.max: the misc controller is not available"},
		{name: "unified slash", r: specs.LinuxResources{Unified: map[string]string{"../c2/memory.max": "1"}},
			err: "linux.resources.unified.../c2/memory.max: not a cgroup file name"},
		{name: "unified dot-dot", r: specs.LinuxResources{Unified: map[string]string{"..": "1"}},
			err: "linux.resources.unified...: not a cgroup file name"},
		{name: "unified empty", r: specs.LinuxResources{Unified: map[string]string{"": "1"}},
			err: "linux.resources.unified.: not a cgroup file name"},
		{name: "unified cgroup.procs", r: specs.LinuxResources{Unified: map[string]string{"cgroup.procs": "1"}},
			err: "linux.resources.unified.cgroup.procs: managed by the runtime"},
		{name: "unified cgroup.freeze", r: specs.LinuxResources{Unified: map[string]string{"cgroup.freeze": "1"}},
			err: "linux.resources.unified.cgroup.freeze: managed by the runtime"},
		{name: "unified cgroup.subtree_control", r: specs.LinuxResources{Unified: map[string]string{"cgroup.subtree_control": "+cpu"}},
			err: "linux.resources.unified.cgroup.subtree_control: managed by the runtime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, m := newFs2(t, tc.extra)
			err := m.set(&tc.r, false)
			want := strings.ReplaceAll(tc.err, "<dir>", m.dir)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %v, want %v...", err, want)
			}
			if got := writesIn(f.takeWrites(), "user.slice/c1"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("writes = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFs2Update(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]string
		mem   specs.LinuxMemory
		err   string
		want  []string
	}{
		{name: "below usage", extra: map[string]string{"memory.current": "1000\n"},
			mem: specs.LinuxMemory{Limit: i64(500)},
			err: "linux.resources.memory.limit: 500 is below the current usage 1000"},
		// Nothing is written when the limit is refused: swap neither.
		{name: "below usage with swap", extra: map[string]string{"memory.current": "1000\n"},
			mem: specs.LinuxMemory{Limit: i64(500), Swap: i64(600)},
			err: "linux.resources.memory.limit: 500 is below the current usage 1000"},
		{name: "above usage", extra: map[string]string{"memory.current": "1000\n"},
			mem:  specs.LinuxMemory{Limit: i64(2000)},
			want: []string{"memory.max=2000"}},
		{name: "no limit", extra: map[string]string{"memory.current": "1000\n"},
			mem:  specs.LinuxMemory{Limit: i64(-1)},
			want: []string{"memory.max=max"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, m := newFs2(t, tc.extra)
			err := m.Update(&specs.LinuxResources{Memory: &tc.mem}, nil)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err) {
				t.Errorf("error = %v, want %v", err, tc.err)
			}
			if got := writesIn(f.takeWrites(), "user.slice/c1"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("writes = %q, want %q", got, tc.want)
			}
			if tc.err != "" {
				for _, file := range []string{"memory.max", "memory.swap.max"} {
					if got := readFile(t, filepath.Join(m.dir, file)); got != "max" {
						t.Errorf("%s = %q, want it untouched (max)", file, got)
					}
				}
			}
		})
	}
}

func TestFs2EnableControllers(t *testing.T) {
	const all = "cpuset cpu io memory hugetlb pids rdma"
	for _, tc := range []struct {
		name   string
		own    string
		path   string
		files  map[string]map[string]string // dir (relative) -> files
		want   []string                     // nil: all available ones
		refuse string                       // refuse writes containing this
		writes []string
	}{
		{
			name: "missing ones at each level",
			own:  "/user.slice/session-1.scope",
			path: "c1",
			files: map[string]map[string]string{
				".":          {"cgroup.subtree_control": "cpu memory"},
				"user.slice": {"cgroup.subtree_control": "cpu memory pids"},
			},
			writes: []string{
				"cgroup.subtree_control=+cpuset +io +hugetlb +pids +rdma",
				"user.slice/cgroup.subtree_control=+cpuset +io +hugetlb +rdma",
			},
		},
		{
			name: "all there",
			own:  "/user.slice/session-1.scope",
			path: "c1",
			files: map[string]map[string]string{
				".":          {"cgroup.subtree_control": all},
				"user.slice": {"cgroup.subtree_control": "rdma pids hugetlb memory io cpu cpuset"},
			},
		},
		{
			name: "under the root",
			own:  "/",
			path: "c1",
			files: map[string]map[string]string{
				".": {"cgroup.controllers": "cpu memory", "cgroup.subtree_control": "memory"},
			},
			writes: []string{"cgroup.subtree_control=+cpu"},
		},
		{
			name: "new parents too",
			own:  "/",
			path: "/a/b/c1",
			files: map[string]map[string]string{
				".":   {"cgroup.controllers": "cpu memory", "cgroup.subtree_control": "cpu memory"},
				"a":   {"cgroup.controllers": "cpu memory", "cgroup.subtree_control": ""},
				"a/b": {"cgroup.controllers": "cpu memory", "cgroup.subtree_control": "cpu"},
			},
			writes: []string{"a/cgroup.subtree_control=+cpu +memory", "a/b/cgroup.subtree_control=+memory"},
		},
		{
			name: "hybrid: only the wanted ones",
			own:  "/user.slice/session-1.scope",
			path: "c1",
			files: map[string]map[string]string{
				".":          {"cgroup.subtree_control": ""},
				"user.slice": {"cgroup.subtree_control": "hugetlb"},
			},
			want:   []string{"hugetlb"},
			writes: []string{"cgroup.subtree_control=+hugetlb"},
		},
		{
			name: "hybrid: wanted one not available",
			own:  "/user.slice/session-1.scope",
			path: "c1",
			files: map[string]map[string]string{
				".":          {"cgroup.controllers": "cpu", "cgroup.subtree_control": ""},
				"user.slice": {"cgroup.controllers": "cpu", "cgroup.subtree_control": ""},
			},
			want: []string{"hugetlb"},
		},
		{
			// A cgroup with processes refuses the lot (EBUSY): each is
			// then tried alone.
			name: "one by one after a refusal",
			own:  "/",
			path: "c1",
			files: map[string]map[string]string{
				".": {"cgroup.controllers": "cpu io memory", "cgroup.subtree_control": ""},
			},
			refuse: "+io",
			writes: []string{
				"cgroup.subtree_control=+cpu +io +memory (refused)",
				"cgroup.subtree_control=+cpu",
				"cgroup.subtree_control=+io (refused)",
				"cgroup.subtree_control=+memory",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, Unified, tc.own)
			m := mustNew(t, f.host, Config{Path: tc.path}).(*fs2)
			f.cgroup(m.dir, nil)
			for rel, files := range tc.files {
				writeFiles(t, filepath.Join(f.root, rel), files)
			}
			if tc.refuse != "" {
				f.refuse = func(rel, value string) error {
					if strings.Contains(value, tc.refuse) {
						return unix.EBUSY
					}
					return nil
				}
			}
			if err := m.enableControllers(tc.want); err != nil {
				t.Fatal(err)
			}
			if got := f.takeWrites(); !reflect.DeepEqual(got, tc.writes) {
				t.Errorf("writes = %q, want %q", got, tc.writes)
			}
		})
	}
}

func TestFs2Create(t *testing.T) {
	f := newFake(t, Unified, "/user.slice/session-1.scope")
	writeFiles(t, f.root, map[string]string{"cgroup.subtree_control": "cpu memory"})
	f.cgroup(filepath.Join(f.root, "user.slice"), map[string]string{"cgroup.subtree_control": "cpuset cpu io memory hugetlb pids rdma"})
	m := mustNew(t, f.host, Config{ID: "c1", Path: "pod/c1"})
	if err := m.Create(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}); err != nil {
		t.Fatal(err)
	}
	pod := filepath.Join(f.root, "user.slice", "pod")
	if got, want := m.State().Created, []string{pod, filepath.Join(pod, "c1")}; !reflect.DeepEqual(got, want) {
		t.Errorf("created = %v, want %v", got, want)
	}
	want := []string{
		"cgroup.subtree_control=+cpuset +io +hugetlb +pids +rdma",
		"user.slice/pod/cgroup.subtree_control=+cpuset +cpu +io +memory +hugetlb +pids +rdma",
		"user.slice/pod/c1/pids.max=10",
	}
	if got := f.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes = %q, want %q", got, want)
	}
	if !m.Exists() {
		t.Errorf("exists = false, want true")
	}
}

func TestFs2CreateError(t *testing.T) {
	f := newFake(t, Unified, "/")
	writeFiles(t, f.root, map[string]string{"cgroup.subtree_control": "cpuset cpu io memory hugetlb pids rdma"})
	m := mustNew(t, f.host, Config{ID: "c1"})
	err := m.Create(&specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: boolp(true)}})
	if err == nil || !strings.HasPrefix(err.Error(), "linux.resources.memory.disableOOMKiller") {
		t.Errorf("error = %v, want one naming linux.resources.memory.disableOOMKiller", err)
	}
	// Create removed what it made (the temp dir keeps it: unlike the
	// kernel's, its control files are not removed with it); what it made
	// is on record for a later Destroy.
	if got, want := m.State().Created, []string{filepath.Join(f.root, "c1")}; !reflect.DeepEqual(got, want) {
		t.Errorf("created = %v, want %v", got, want)
	}
}
