package intelrdt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeRoot makes a resctrl-like tree: the root group's schemata and
// tasks, info/last_cmd_status, and a pre-configured group "gold" as the
// kernel prints it (leading spaces and zeros). Making a group gives it
// the files resctrl would (mkdir), and removing one takes them with it
// (rmdir), as on resctrl; the test records both.
func fakeRoot(t *testing.T) (root string, made, removed *[]string) {
	root = t.TempDir()
	write(t, root, "schemata", "L3:0=7ff;1=7ff\nMB:0=100;1=100\n")
	write(t, root, "tasks", "")
	write(t, root, "info/last_cmd_status", "ok\n")
	write(t, root, "gold/schemata", "    L3:0=0f0;1=7ff\n    MB:0= 50;1=100\n")
	write(t, root, "gold/tasks", "")
	write(t, root, "gold/mon_groups/.keep", "")
	made, removed = new([]string), new([]string)
	oldMk, oldRm := mkdir, rmdir
	t.Cleanup(func() { mkdir, rmdir = oldMk, oldRm })
	mkdir = func(dir string) error {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		*made = append(*made, rel(root, dir))
		os.WriteFile(filepath.Join(dir, "tasks"), nil, 0o644)
		if filepath.Base(filepath.Dir(dir)) != "mon_groups" {
			os.WriteFile(filepath.Join(dir, "schemata"), []byte("L3:0=7ff;1=7ff\n"), 0o644)
			os.Mkdir(filepath.Join(dir, "mon_groups"), 0o755)
		}
		return nil
	}
	rmdir = func(dir string) error {
		if _, err := os.Stat(dir); err != nil {
			return err
		}
		*removed = append(*removed, rel(root, dir))
		return os.RemoveAll(dir)
	}
	return root, made, removed
}

func rel(root, p string) string {
	r, _ := filepath.Rel(root, p)
	return r
}

func write(t *testing.T, root, name, s string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApplyGroupOfTheContainer(t *testing.T) {
	root, made, removed := fakeRoot(t)
	rdt := &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=ff;1=ff", MemBwSchema: "MB:0=20;1=70", Schemata: []string{"L2:0=f"}, EnableMonitoring: true}
	st, err := Apply(root, "c1", rdt, 42)
	if err != nil {
		t.Fatal(err)
	}
	if want := (State{Path: filepath.Join(root, "c1"), Created: true, MonPath: filepath.Join(root, "c1/mon_groups/c1")}); *st != want {
		t.Errorf("state %+v, want %+v", *st, want)
	}
	if got := strings.Join(*made, " "); got != "c1 c1/mon_groups/c1" {
		t.Errorf("made %q", got)
	}
	// the spec's order: l3CacheSchema, memBwSchema, then schemata
	if got, want := read(t, root, "c1/schemata"), "L3:0=ff;1=ff\nMB:0=20;1=70\nL2:0=f\n"; got != want {
		t.Errorf("schemata %q, want %q", got, want)
	}
	if read(t, root, "c1/tasks") != "42" || read(t, root, "c1/mon_groups/c1/tasks") != "42" {
		t.Error("pid not in the group and its monitoring group")
	}
	if err := Destroy(st); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(*removed, " "); got != "c1/mon_groups/c1 c1" {
		t.Errorf("removed %q, want the monitoring group, then the group", got)
	}
}

func TestApplyClosID(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rdt   specs.LinuxIntelRdt
		group string
		made  string
		write string // the schemata written, "" for untouched
	}{
		{"pre-configured, no schemata: joined as it is", specs.LinuxIntelRdt{ClosID: "gold"}, "gold", "", ""},
		{"existing, schemata that match the kernel's spelling", specs.LinuxIntelRdt{ClosID: "gold", L3CacheSchema: "L3:0=f0", MemBwSchema: "MB:0=50"}, "gold", "", ""},
		{"new, with schemata: made", specs.LinuxIntelRdt{ClosID: "silver", Schemata: []string{"L3:0=3;1=3"}}, "silver", "silver", "L3:0=3;1=3\n"},
		{"/: the root group", specs.LinuxIntelRdt{ClosID: "/"}, ".", "", ""},
		{"monitoring in a pre-configured group", specs.LinuxIntelRdt{ClosID: "gold", EnableMonitoring: true}, "gold", "gold/mon_groups/c1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, made, removed := fakeRoot(t)
			before := ""
			if tc.write == "" {
				b, _ := os.ReadFile(filepath.Join(root, tc.group, "schemata"))
				before = string(b)
			}
			st, err := Apply(root, "c1", &tc.rdt, 42)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(*made, " "); got != tc.made {
				t.Errorf("made %q, want %q", got, tc.made)
			}
			if got := read(t, root, filepath.Join(tc.group, "tasks")); got != "42" {
				t.Errorf("tasks %q", got)
			}
			got := read(t, root, filepath.Join(tc.group, "schemata"))
			if tc.write != "" && got != tc.write || tc.write == "" && got != before {
				t.Errorf("schemata %q (before %q, want written %q)", got, before, tc.write)
			}
			if err := Destroy(st); err != nil {
				t.Fatal(err)
			}
			// a closID's group is never removed (the spec), even one
			// the runtime made; its monitoring group is
			want := ""
			if tc.rdt.EnableMonitoring {
				want = "gold/mon_groups/c1"
			}
			if got := strings.Join(*removed, " "); got != want {
				t.Errorf("removed %q, want %q", got, want)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	for _, tc := range []struct {
		rdt  specs.LinuxIntelRdt
		want string
	}{
		{specs.LinuxIntelRdt{ClosID: "missing"}, `linux.intelRdt.closID "missing": no such group`},
		{specs.LinuxIntelRdt{ClosID: "gold", L3CacheSchema: "L3:0=ff"}, `linux.intelRdt.closID "gold": the group exists and its schemata`},
		{specs.LinuxIntelRdt{ClosID: "gold", MemBwSchema: "MB:1=90"}, "do not match"},
		{specs.LinuxIntelRdt{ClosID: "gold", Schemata: []string{"L2:0=f"}}, "do not match"},
	} {
		root, made, _ := fakeRoot(t)
		if _, err := Apply(root, "c1", &tc.rdt, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.rdt, err, tc.want)
		}
		if got := read(t, root, "gold/tasks"); got != "" || len(*made) != 0 {
			t.Errorf("%+v: a refused Apply wrote tasks %q or made %v", tc.rdt, got, *made)
		}
	}
}

func TestApplyFailureUndoesAndQuotesResctrl(t *testing.T) {
	root, _, removed := fakeRoot(t)
	write(t, root, "info/last_cmd_status", "Bitmask 300 is not contiguous\n")
	old := mkdir
	mkdir = func(dir string) error {
		if err := old(dir); err != nil {
			return err
		}
		// resctrl refuses the schemata: make the write fail
		os.Remove(filepath.Join(dir, "schemata"))
		os.Mkdir(filepath.Join(dir, "schemata"), 0o755)
		return nil
	}
	_, err := Apply(root, "c1", &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=300"}, 1)
	if err == nil || !strings.Contains(err.Error(), "resctrl: Bitmask 300 is not contiguous") {
		t.Fatalf("got %v", err)
	}
	if got := strings.Join(*removed, " "); got != "c1" {
		t.Errorf("removed %q: the group made for the container must go", got)
	}
}

func TestRootAndCheck(t *testing.T) {
	if _, err := Root(t.TempDir()); err == nil || !strings.Contains(err.Error(), "linux.intelRdt: this host has no resctrl filesystem mounted at") {
		t.Errorf("Root of a plain directory: got %v", err)
	}
	for _, tc := range []struct {
		rdt  specs.LinuxIntelRdt
		want string
	}{
		{specs.LinuxIntelRdt{ClosID: "a/b"}, "linux.intelRdt.closID"},
		{specs.LinuxIntelRdt{ClosID: "info"}, "linux.intelRdt.closID"},
		{specs.LinuxIntelRdt{MemBwSchema: "L3:0=1"}, "linux.intelRdt.memBwSchema"},
		{specs.LinuxIntelRdt{L3CacheSchema: "L3:0=1\nMB:0=1"}, "linux.intelRdt.l3CacheSchema"},
		{specs.LinuxIntelRdt{Schemata: []string{"L3:0=1", "bogus"}}, "linux.intelRdt.schemata[1]"},
		{specs.LinuxIntelRdt{ClosID: "/", Schemata: []string{"L3:0=1"}}, ""},
	} {
		err := Check(&tc.rdt)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: got %v, want %q", tc.rdt, err, tc.want)
		}
	}
}

func TestEnter(t *testing.T) {
	root, _, _ := fakeRoot(t)
	st, err := Apply(root, "c1", &specs.LinuxIntelRdt{ClosID: "gold", EnableMonitoring: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := Enter(st, 2); err != nil {
		t.Fatal(err)
	}
	if read(t, root, "gold/tasks") != "12" || read(t, root, "gold/mon_groups/c1/tasks") != "12" {
		t.Errorf("tasks %q, monitoring tasks %q: want init's 1, then 2", read(t, root, "gold/tasks"), read(t, root, "gold/mon_groups/c1/tasks"))
	}
}

func TestFeatures(t *testing.T) {
	root, _, _ := fakeRoot(t)
	if cat, mba := Features(root); cat || mba {
		t.Errorf("no info/L3, no info/MB: Features = %v, %v; want false, false", cat, mba)
	}
	write(t, root, "info/L3/cbm_mask", "7ff\n")
	if cat, mba := Features(root); !cat || mba {
		t.Errorf("info/L3 only: Features = %v, %v; want true, false", cat, mba)
	}
	write(t, root, "info/MB/min_bandwidth", "10\n")
	if cat, mba := Features(root); !cat || !mba {
		t.Errorf("info/L3 and info/MB: Features = %v, %v; want true, true", cat, mba)
	}
}

func TestSetSchemata(t *testing.T) {
	root, _, _ := fakeRoot(t)
	st := &State{Path: filepath.Join(root, "gold")}
	if err := SetSchemata(root, st, []string{"L3:0=f", "MB:0=20"}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, root, "gold/schemata"); got != "L3:0=f\nMB:0=20\n" {
		t.Errorf("schemata %q", got)
	}
	// A refusal carries resctrl's own reason, and names the lines.
	write(t, root, "info/last_cmd_status", "Bitmask 5 is not contiguous\n")
	err := SetSchemata(root, &State{Path: filepath.Join(root, "gone")}, []string{"L3:0=5"})
	if err == nil || !strings.Contains(err.Error(), `"L3:0=5"`) || !strings.Contains(err.Error(), "resctrl: Bitmask 5 is not contiguous") {
		t.Errorf("err = %v", err)
	}
}
