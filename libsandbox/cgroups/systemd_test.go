package cgroups

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	sd "github.com/coreos/go-systemd/v22/dbus"
	dbus "github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseSystemdPath(t *testing.T) {
	for _, tc := range []struct {
		path, unit, slice, dir, err string
	}{
		{"", "runc-c1.scope", "system.slice", "/system.slice", ""},
		{"system.slice:docker:1234", "docker-1234.scope", "system.slice", "/system.slice", ""},
		{"machine.slice:libpod:abc", "libpod-abc.scope", "machine.slice", "/machine.slice", ""},
		{":crio:x", "crio-x.scope", "system.slice", "/system.slice", ""},
		{"a-b-c.slice:p:n", "p-n.scope", "a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice", ""},
		{"-.slice:p:n", "p-n.scope", "-.slice", "/", ""},
		{"/not/systemd", "", "", "", "linux.cgroupsPath \"/not/systemd\": with --systemd-cgroup it must be slice:prefix:name"},
		{"a:b", "", "", "", "must be slice:prefix:name"},
		{"a:b:c:d", "", "", "", "must be slice:prefix:name"},
		{"system.slice:p:", "", "", "", "the name (after the second colon) is empty"},
		{"system.slice:p:k.slice", "", "", "", "is a slice"},
		{"notaslice:p:n", "", "", "", "invalid slice name \"notaslice\""},
		{"a--b.slice:p:n", "", "", "", "an empty part"},
		{"-a.slice:p:n", "", "", "", "an empty part"},
		{"system.slice:p:a/b", "", "", "", "cannot contain /"},
	} {
		u, dir, err := parseSystemdPath(tc.path, "c1", defaultSlice)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "linux.cgroupsPath") {
				t.Errorf("%q: error %v, want one naming linux.cgroupsPath with %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || u.Name != tc.unit || u.Slice != tc.slice || dir != tc.dir {
			t.Errorf("%q: got %q %q %q %v, want %q %q %q", tc.path, u.Name, u.Slice, dir, err, tc.unit, tc.slice, tc.dir)
		}
	}
}

func TestCPUBits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
		err  bool
	}{
		{"0", []byte{1}, false},
		{"0-3", []byte{0x0f}, false},
		{"1,3,8", []byte{0x0a, 0x01}, false},
		{"8-9", []byte{0, 3}, false},
		{"3-1", nil, true},
		{"x", nil, true},
	} {
		got, err := cpuBits(tc.in)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %v %v, want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestAllowList(t *testing.T) {
	c := func(maj, min int64, acc string, allow bool) Rule {
		return Rule{Type: 'c', Major: maj, Minor: min, Access: acc, Allow: allow}
	}
	denyAll := Rule{Type: 'a', Major: -1, Minor: -1, Access: "rwm"}
	for _, tc := range []struct {
		name     string
		rules    []Rule
		want     []Rule
		allowAll bool
	}{
		{"deny all, then allows", []Rule{denyAll, c(1, 3, "rwm", true), c(1, 5, "r", true)},
			[]Rule{c(1, 3, "rwm", true), c(1, 5, "r", true)}, false},
		{"a deny takes access off the allow it covers", []Rule{denyAll, c(1, 3, "rwm", true), c(1, 3, "w", false)},
			[]Rule{c(1, 3, "rm", true)}, false},
		{"a deny narrower than an allow leaves it (our filter enforces it)", []Rule{denyAll, c(1, -1, "rwm", true), c(1, 3, "rwm", false)},
			[]Rule{c(1, -1, "rwm", true)}, false},
		{"a wildcard deny removes what it covers", []Rule{denyAll, c(1, 3, "rw", true), c(-1, -1, "rwm", false), c(5, 0, "r", true)},
			[]Rule{c(5, 0, "r", true)}, false},
		{"allow all", []Rule{{Type: 'a', Major: -1, Minor: -1, Access: "rwm", Allow: true}, c(1, 3, "rwm", false)}, nil, true},
		{"allow all, then deny all", []Rule{{Type: 'a', Major: -1, Minor: -1, Access: "rwm", Allow: true}, denyAll, c(1, 3, "r", true)},
			[]Rule{c(1, 3, "r", true)}, false},
		{"no rules: nothing", nil, nil, false},
	} {
		got, all := allowList(tc.rules)
		if !reflect.DeepEqual(got, tc.want) || all != tc.allowAll {
			t.Errorf("%s: got %v allowAll=%v, want %v allowAll=%v", tc.name, got, all, tc.want, tc.allowAll)
		}
	}
}

// The default spec's rules as systemd properties: strict, the list
// cleared first, every device named the way systemd v240+ reads it.
func TestDeviceProps(t *testing.T) {
	rules, err := Rules([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &systemd{ver: 252}
	props := m.deviceProps(rules)
	if len(props) != 3 || props[0].Name != "DeviceAllow" || props[1].Name != "DevicePolicy" || props[2].Name != "DeviceAllow" {
		t.Fatalf("props = %v, want DeviceAllow=, DevicePolicy, DeviceAllow", props)
	}
	if got := props[1].Value.Value(); got != "strict" {
		t.Errorf("DevicePolicy = %v, want strict", got)
	}
	got := props[2].Value.Value().([]deviceAllow)
	want := []deviceAllow{
		{"char-*", "m"}, {"block-*", "m"},
		{"/dev/char/1:3", "rwm"}, {"/dev/char/1:5", "rwm"}, {"/dev/char/1:7", "rwm"},
		{"/dev/char/1:8", "rwm"}, {"/dev/char/1:9", "rwm"}, {"/dev/char/5:0", "rwm"},
		{"/dev/char/5:2", "rwm"}, {"char-136", "rwm"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DeviceAllow =\n%v\nwant\n%v", got, want)
	}
	// Older systemd names a major by its driver.
	m.ver = 239
	old := m.deviceProps([]Rule{{Type: 'c', Major: 136, Minor: -1, Access: "rwm", Allow: true}})
	if got := old[2].Value.Value().([]deviceAllow); len(got) != 1 || (got[0].Path != "char-pts" && got[0].Path != "char-*") {
		t.Errorf("systemd 239: DeviceAllow = %v, want char-pts (or char-* without /proc/devices)", got)
	}
}

func TestAnnotationProps(t *testing.T) {
	props, err := annotationProps(map[string]string{
		"org.systemd.property.TimeoutStopSec": "uint64 7",
		"org.systemd.property.CollectMode":    "'inactive-or-failed'",
		"other":                               "ignored",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, p := range props {
		got[p.Name] = p.Value.Value()
	}
	want := map[string]any{"TimeoutStopUSec": uint64(7000000), "CollectMode": "inactive-or-failed"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("props = %v, want %v", got, want)
	}
	for k, v := range map[string]string{
		"org.systemd.property.Bad-Name": "true",
		"org.systemd.property.X":        "true",
		"org.systemd.property.Foo":      "not a variant",
		"org.systemd.property.TimeSec":  "'seven'",
	} {
		if _, err := annotationProps(map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v, want one naming the annotation", k, v, err)
		}
	}
}

func TestResourceProps(t *testing.T) {
	m := &systemd{fs2: &fs2{dir: t.TempDir()}, ver: 252}
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(1 << 30), Reservation: i64(1 << 20), Swap: i64(2 << 30)},
		CPU:    &specs.LinuxCPU{Shares: u64(1024), Quota: i64(12345), Period: u64(100000), Cpus: "0-1", Mems: "0"},
		Pids:   &specs.LinuxPids{Limit: i64(-1)},
		BlockIO: &specs.LinuxBlockIO{Weight: u16(500),
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1000}}},
		Unified: map[string]string{"memory.high": "max", "memory.min": "4096"},
	}
	props, out, err := m.resourceProps(r, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, p := range props {
		got[p.Name] = p.Value.Value()
	}
	want := map[string]any{
		"MemoryMax": uint64(1 << 30), "MemoryLow": uint64(1 << 20), "MemorySwapMax": uint64(1 << 30),
		"CPUWeight": uint64(39), "CPUQuotaPeriodUSec": uint64(100000), "CPUQuotaPerSecUSec": uint64(130000),
		"AllowedCPUs": []byte{3}, "AllowedMemoryNodes": []byte{1},
		"TasksMax": infinity, "IOWeight": BlkioWeightToIOWeight(500),
		"IOReadBandwidthMax": []ioLimit{{"/dev/block/8:0", 1000}},
		"MemoryHigh":         infinity, "MemoryMin": uint64(4096),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("props =\n%v\nwant\n%v", got, want)
	}
	// 12345 µs per 100 ms is 12.345% of a CPU; systemd keeps 13%, and
	// cpu.max must say the same.
	if *out.CPU.Quota != 13000 || *r.CPU.Quota != 12345 {
		t.Errorf("quota for the files = %d (spec's %d), want 13000 (spec's left 12345)", *out.CPU.Quota, *r.CPU.Quota)
	}
	if _, _, err := m.resourceProps(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(5)}}, nil, false); err == nil || !strings.Contains(err.Error(), "linux.resources.blockIO.weight") {
		t.Errorf("weight 5: error %v, want one naming linux.resources.blockIO.weight", err)
	}
}

// fakeBus is systemd for the driver's tests: it records the calls and
// makes or removes the scope's directory in a fake cgroupfs as systemd
// would.
type fakeBus struct {
	f     *fakeHost
	dir   string
	calls []string
	props map[string][]sd.Property
	// active: a unit of that name is running already.
	active bool
	// managerCgroup: the instance's ControlGroup (a user's).
	managerCgroup string
}

func (b *fakeBus) StartTransientUnitContext(_ context.Context, name, mode string, props []sd.Property, ch chan<- string) (int, error) {
	b.calls = append(b.calls, "start "+name)
	if b.active {
		return 0, dbus.Error{Name: "org.freedesktop.systemd1.UnitExists"}
	}
	b.props[name] = props
	b.f.cgroup(b.dir, nil)
	ch <- "done"
	return 1, nil
}

func (b *fakeBus) StopUnitContext(_ context.Context, name, mode string, ch chan<- string) (int, error) {
	b.calls = append(b.calls, "stop "+name)
	os.RemoveAll(b.dir)
	ch <- "done"
	return 2, nil
}

func (b *fakeBus) SetUnitPropertiesContext(_ context.Context, name string, runtime bool, props ...sd.Property) error {
	b.calls = append(b.calls, fmt.Sprintf("set %s runtime=%v", name, runtime))
	b.props[name] = props
	return nil
}

func (b *fakeBus) ResetFailedUnitContext(_ context.Context, name string) error {
	b.calls = append(b.calls, "reset-failed "+name)
	return nil
}

func (b *fakeBus) GetManagerProperty(name string) (string, error) {
	if name == "ControlGroup" {
		// The system instance's is the root: "".
		return `"` + b.managerCgroup + `"`, nil
	}
	return `"252.39-1"`, nil
}
func (b *fakeBus) Close() {}

func newSystemdFake(t *testing.T) (*fakeHost, *fakeBus) {
	f := newFake(t, Unified, "/user.slice/session-1.scope")
	b := &fakeBus{f: f, dir: filepath.Join(f.root, "system.slice", "sr-c1.scope"), props: map[string][]sd.Property{}}
	f.host.SystemdDir = t.TempDir()
	f.host.dial = func() (bus, error) { return b, nil }
	f.cgroup(filepath.Join(f.root, "system.slice"), nil)
	return f, b
}

func propMap(props []sd.Property) map[string]any {
	m := map[string]any{}
	for _, p := range props {
		m[p.Name] = p.Value.Value()
	}
	return m
}

// The life of a container's scope: Create asks nothing of systemd yet,
// Enter starts the unit with init's pid and writes the files, exec's
// process is then cloned into it, Update sets properties and files,
// Destroy stops it.
func TestSystemdLifecycle(t *testing.T) {
	f, b := newSystemdFake(t)
	m, err := New(f.host, Config{Systemd: true, Path: "system.slice:sr:c1", ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	st := m.State()
	if st.V2 != b.dir || st.Systemd == nil || st.Systemd.Name != "sr-c1.scope" || len(st.Created) != 0 {
		t.Fatalf("state = %+v (unit %+v), want the scope's directory and unit, nothing claimed", st, st.Systemd)
	}
	// systemd makes the scope's directories and removes them: create's
	// claim records none for delete to remove.
	if err := st.Claim(); err != nil || len(st.Created) != 0 {
		t.Fatalf("Claim: %v, created %v; want nothing claimed", err, st.Created)
	}
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(50 << 20)}, Pids: &specs.LinuxPids{Limit: i64(9)}}
	if err := m.Create(r); err != nil {
		t.Fatal(err)
	}
	if fd, err := m.CloneFD(); fd != nil || err != nil || !m.NeedsEnter() {
		t.Fatalf("before Enter: CloneFD %v %v, NeedsEnter %v; want nil and true (no scope yet)", fd, err, m.NeedsEnter())
	}
	if err := m.Enter(4242, false); err != nil {
		t.Fatal(err)
	}
	p := propMap(b.props["sr-c1.scope"])
	for k, v := range map[string]any{
		"Slice": "system.slice", "Delegate": true, "PIDs": []uint32{4242}, "DefaultDependencies": false,
		"MemoryMax": uint64(50 << 20), "TasksMax": uint64(9),
	} {
		if !reflect.DeepEqual(p[k], v) {
			t.Errorf("unit property %s = %v, want %v", k, p[k], v)
		}
	}
	if got := readFile(t, filepath.Join(b.dir, "memory.max")); got != "52428800" {
		t.Errorf("memory.max = %q, want the limit written too", got)
	}
	if fd, err := m.CloneFD(); fd == nil || err != nil || m.NeedsEnter() {
		t.Errorf("after Enter: CloneFD %v %v, NeedsEnter %v; want the scope and false", fd, err, m.NeedsEnter())
	} else {
		fd.Close()
	}

	// Later verbs load the state.
	l := load(st, nil, f.fs).(*systemd)
	l.dial = f.host.dial
	if l.NeedsEnter() {
		t.Error("loaded: NeedsEnter, want the scope cloned into")
	}
	if err := l.Update(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(20)}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := propMap(b.props["sr-c1.scope"]); !reflect.DeepEqual(got, map[string]any{"TasksMax": uint64(20)}) {
		t.Errorf("update set %v, want TasksMax 20", got)
	}
	if got := readFile(t, filepath.Join(b.dir, "pids.max")); got != "20" {
		t.Errorf("pids.max = %q, want 20", got)
	}
	if err := l.Destroy(); err != nil {
		t.Fatal(err)
	}
	want := []string{"start sr-c1.scope", "set sr-c1.scope runtime=true", "stop sr-c1.scope", "reset-failed sr-c1.scope"}
	if !reflect.DeepEqual(b.calls, want) {
		t.Errorf("calls = %q, want %q", b.calls, want)
	}
}

// A unit of that name already running is another's: the start fails
// naming linux.cgroupsPath, and the create's cleanup leaves it.
func TestSystemdUnitExists(t *testing.T) {
	f, b := newSystemdFake(t)
	b.active = true
	m, err := New(f.host, Config{Systemd: true, Path: "system.slice:sr:c1", ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	err = m.Enter(4242, false)
	if err == nil || !strings.Contains(err.Error(), "linux.cgroupsPath") || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Enter: %v, want an error naming linux.cgroupsPath", err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	want := []string{"start sr-c1.scope", "reset-failed sr-c1.scope", "start sr-c1.scope"}
	if !reflect.DeepEqual(b.calls, want) {
		t.Errorf("calls = %q, want %q (no stop)", b.calls, want)
	}
}

func TestSystemdNotBooted(t *testing.T) {
	f, _ := newSystemdFake(t)
	f.host.SystemdDir = filepath.Join(t.TempDir(), "missing")
	_, err := New(f.host, Config{Systemd: true, ID: "c1"})
	if err == nil || !strings.Contains(err.Error(), "--systemd-cgroup") || !strings.Contains(err.Error(), "does not run systemd") {
		t.Errorf("error %v, want one naming --systemd-cgroup", err)
	}
	f, _ = newSystemdFake(t)
	f.host.Mode = Hybrid
	if _, err := New(f.host, Config{Systemd: true, ID: "c1"}); err == nil || !strings.Contains(err.Error(), "--systemd-cgroup") {
		t.Errorf("hybrid: error %v, want one naming --systemd-cgroup", err)
	}
}

// Without root the scope is the user's systemd's: below its cgroup, in
// user.slice by default, and a loaded state dials the user's bus again.
func TestSystemdUserScope(t *testing.T) {
	f, b := newSystemdFake(t)
	b.managerCgroup = "/user.slice/user-1000.slice/user@1000.service"
	b.dir = filepath.Join(f.root, b.managerCgroup, "user.slice", "runc-c1.scope")
	f.cgroup(filepath.Dir(b.dir), nil)
	m, err := New(f.host, Config{Systemd: true, ID: "c1", UserInstance: true})
	if err != nil {
		t.Fatal(err)
	}
	st := m.State()
	if st.V2 != b.dir || st.Systemd.Slice != "user.slice" || st.Systemd.Name != "runc-c1.scope" || !st.Systemd.User {
		t.Fatalf("state = %+v (unit %+v), want runc-c1.scope in the user's user.slice", st, st.Systemd)
	}
	if err := m.Create(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(32 << 20)}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Enter(4242, false); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(b.dir, "memory.max")); got != "33554432" {
		t.Errorf("memory.max = %q, want the limit in the user's scope", got)
	}
	if p := propMap(b.props["runc-c1.scope"]); p["Slice"] != "user.slice" {
		t.Errorf("Slice = %v, want user.slice", p["Slice"])
	}
	if l := loadSystemd(st, nil, f.host.fs, nil); reflect.ValueOf(l.dial).Pointer() != reflect.ValueOf(dialUserSystemd).Pointer() {
		t.Error("a loaded user scope does not dial the user's bus")
	}
	b.managerCgroup = "../etc"
	if _, err := New(f.host, Config{Systemd: true, ID: "c2", UserInstance: true}); err == nil {
		t.Error("a manager cgroup with .. was taken")
	}
}
