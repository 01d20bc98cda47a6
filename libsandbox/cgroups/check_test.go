package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Paths that resolve to the runtime's own cgroup or one of its
// ancestors are refused, naming the field; others are not. Only paths
// are computed: nothing is read under /sys/fs/cgroup.
func TestCheckOwn(t *testing.T) {
	mounts, err := ParseMountinfo(strings.NewReader(combinedMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	hybrid := NewHost(mounts, map[string]string{
		"cpu,cpuacct":  "/user.slice",
		"cpuset":       "/",
		"name=systemd": "/user.slice/session-1.scope",
		"":             "/user.slice/session-1.scope",
	})
	v1, err := ParseMountinfo(strings.NewReader(legacyMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	legacy := NewHost(v1, map[string]string{"cpu,cpuacct": "/user.slice/x", "memory": "/"})
	v2, err := ParseMountinfo(strings.NewReader(pureV2Mountinfo))
	if err != nil {
		t.Fatal(err)
	}
	unified := NewHost(v2, map[string]string{"": "/user.slice/session-1.scope"})
	rootV2 := NewHost(v2, map[string]string{"": "/"})
	for _, tc := range []struct {
		name string
		h    *Host
		path string
		// dir is the refused directory, "" when the path is fine.
		dir string
	}{
		{"v2 ..: our parent", unified, "..", "/sys/fs/cgroup/user.slice"},
		{"v2 .", unified, ".", "/sys/fs/cgroup/user.slice"},
		{"v2 a/..", unified, "a/..", "/sys/fs/cgroup/user.slice"},
		{"v2 /: the root", unified, "/", "/sys/fs/cgroup"},
		{"v2 our own, absolute", unified, "/user.slice/session-1.scope", "/sys/fs/cgroup/user.slice/session-1.scope"},
		{"v2 our own, relative", unified, "session-1.scope", "/sys/fs/cgroup/user.slice/session-1.scope"},
		{"v2 a sibling", unified, "c1", ""},
		{"v2 below us", unified, "/user.slice/session-1.scope/c1", ""},
		{"v2 a name starting like ours", unified, "/user.slice/session-1.scope2", ""},
		{"v2, we are in the root: ..", rootV2, "..", "/sys/fs/cgroup"},
		{"v2, we are in the root: c1", rootV2, "c1", ""},
		// v1 relative paths are below our own cgroup: ".." is it.
		{"v1 ..: our own", legacy, "..", "/sys/fs/cgroup/cpu,cpuacct/user.slice/x"},
		{"v1 /", legacy, "/", "/sys/fs/cgroup/cpu,cpuacct"},
		{"v1, an ancestor in one hierarchy only", legacy, "/user.slice", "/sys/fs/cgroup/cpu,cpuacct/user.slice"},
		{"v1 c1", legacy, "c1", ""},
		{"v1 /c1", legacy, "/c1", ""},
		// The v2 part of a hybrid host is checked too (first).
		{"hybrid ..", hybrid, "..", "/sys/fs/cgroup/unified/user.slice"},
		{"hybrid c1", hybrid, "c1", ""},
		// A hierarchy we know no own cgroup in: its root still is one.
		{"unknown own cgroup: the root", &Host{V2: "/sys/fs/cgroup", Own: map[string]string{}}, "/", "/sys/fs/cgroup"},
		{"unknown own cgroup: c1", &Host{V2: "/sys/fs/cgroup", Own: map[string]string{}}, "/c1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustNew(t, tc.h, Config{ID: "id", Path: tc.path})
			err := tc.h.checkOwn(tc.path, m.State())
			if tc.dir == "" {
				if err != nil {
					t.Errorf("error = %v, want nil", err)
				}
				return
			}
			want := `linux.cgroupsPath "` + tc.path + `" resolves to ` + tc.dir + `, which contains the runtime's own cgroup`
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %v, want %s...", err, want)
			}
		})
	}
}

// Create refuses a cgroup that is there already, before it writes
// anything: one with processes (anywhere below it), a frozen one (or
// one below a frozen cgroup), or an empty one. Nothing is made, written
// or recorded as the container's.
func TestCreateTaken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  Mode
		path  string            // cgroupsPath
		setup map[string]string // file (relative to the fake root) -> content; directories are made
		err   string
	}{
		{"v2 processes", Unified, "/c1", map[string]string{"c1/cgroup.procs": "123\n456\n"}, "linux.cgroupsPath: container's cgroup is not empty: 2 process(es) found (in <root>/c1)"},
		{"v2 processes in a child", Unified, "/c1", map[string]string{"c1/sub/cgroup.procs": "123\n"}, "linux.cgroupsPath: container's cgroup is not empty: 1 process(es) found (in <root>/c1)"},
		{"v2 frozen", Unified, "/c1", map[string]string{"c1/cgroup.freeze": "1"}, "linux.cgroupsPath: container's cgroup unexpectedly frozen (<root>/c1 is frozen)"},
		{"v2 below a frozen parent", Unified, "/p/q/c1", map[string]string{"p/cgroup.freeze": "1"}, "linux.cgroupsPath: container's cgroup unexpectedly frozen (<root>/p is frozen)"},
		{"v2 empty", Unified, "/c1", map[string]string{"c1/cgroup.procs": ""}, "linux.cgroupsPath: cgroup <root>/c1 already exists; "},
		{"v1 processes in a child", Legacy, "/c1", map[string]string{"pids/c1/sub/cgroup.procs": "123\n"}, "linux.cgroupsPath: container's cgroup is not empty: 1 process(es) found (in <root>/pids/c1)"},
		{"v1 frozen", Legacy, "/c1", map[string]string{"freezer/c1/freezer.state": "FROZEN"}, "linux.cgroupsPath: container's cgroup unexpectedly frozen (<root>/freezer/c1 is frozen)"},
		{"v1 below a freezing parent", Legacy, "/p/c1", map[string]string{"freezer/p/freezer.state": "FREEZING"}, "linux.cgroupsPath: container's cgroup unexpectedly frozen (<root>/freezer/p is frozen)"},
		{"v1 empty, in one hierarchy", Legacy, "/c1", map[string]string{"memory/c1/cgroup.procs": ""}, "linux.cgroupsPath: cgroup <root>/memory/c1 already exists; "},
		{"hybrid: the v2 part frozen", Hybrid, "/c1", map[string]string{"unified/c1/cgroup.freeze": "1"}, "linux.cgroupsPath: container's cgroup unexpectedly frozen (<root>/unified/c1 is frozen)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.mode, "/")
			if tc.mode != Legacy {
				writeFiles(t, f.host.V2, map[string]string{"cgroup.subtree_control": "cpuset cpu io memory hugetlb pids rdma"})
			}
			for file, v := range tc.setup {
				p := filepath.Join(f.root, file)
				f.cgroup(filepath.Dir(p), map[string]string{filepath.Base(p): v})
			}
			before := tree(t, f.root)
			m := mustNew(t, f.host, Config{ID: "c1", Path: tc.path})
			if err := m.State().Claim(); err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(tc.err, "<root>", f.root)
			if err := f.host.Check(tc.path, m.State()); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Check: error = %v, want %s...", err, want)
			}
			err := m.Create(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}})
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Create: error = %v, want %s...", err, want)
			}
			if w := f.takeWrites(); len(w) > 0 {
				t.Errorf("writes = %q, want none", w)
			}
			if got := tree(t, f.root); !reflect.DeepEqual(got, before) {
				t.Errorf("directories = %q, want %q", got, before)
			}
			// Destroy after a failed create (delete --force) kills
			// nothing and removes nothing of what was there.
			if err := m.Destroy(); err != nil {
				t.Errorf("Destroy: %v", err)
			}
			if w := f.takeWrites(); len(w) > 0 {
				t.Errorf("Destroy wrote %q, want nothing", w)
			}
			if got := tree(t, f.root); !reflect.DeepEqual(got, before) {
				t.Errorf("after Destroy, directories = %q, want %q", got, before)
			}
		})
	}
}

// tree lists the directories under root.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A cgroup another process made after Claim recorded it as missing is
// not the container's: Create refuses the container's own, and takes a
// parent off the record so that Destroy leaves it.
func TestMkdirAllRace(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "p", "c1")
	st := &State{V2: dir}
	if err := st.Claim(); err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(base, "p"), dir}; !reflect.DeepEqual(st.Created, want) {
		t.Fatalf("claimed %v, want %v", st.Created, want)
	}
	// Another process makes the parent: ours is still made.
	writeFiles(t, filepath.Join(base, "p", "other"), nil)
	if err := (*fsys)(nil).mkdirAll(st, dir, nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{dir}; !reflect.DeepEqual(st.Created, want) {
		t.Errorf("created = %v, want %v", st.Created, want)
	}

	// Another process makes the container's cgroup itself.
	dir2 := filepath.Join(base, "q")
	st2 := &State{V2: dir2}
	if err := st2.Claim(); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir2, nil)
	if err := (*fsys)(nil).mkdirAll(st2, dir2, nil); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("error = %v, want one saying it already exists", err)
	}
	if len(st2.Created) != 0 {
		t.Errorf("created = %v, want none", st2.Created)
	}
	if err := removeCreated(st2); err != nil || !exists2(dir2) {
		t.Errorf("removeCreated: %v; %s there: %v, want it left", err, dir2, exists2(dir2))
	}
}

// Destroy of a state whose cgroup the runtime did not make (saved by an
// older version, which used an existing empty cgroup) kills nothing.
func TestDestroyNotMade(t *testing.T) {
	f := newFake(t, Unified, "/")
	dir := filepath.Join(f.root, "c1")
	f.cgroup(dir, map[string]string{"cgroup.procs": "123\n"})
	st := &State{V2: dir}
	if err := load(st, nil, f.fs).Destroy(); err != nil {
		t.Fatal(err)
	}
	if w := f.takeWrites(); len(w) > 0 {
		t.Errorf("writes = %q, want none (no cgroup.kill)", w)
	}
	if !exists2(dir) {
		t.Errorf("%s was removed", dir)
	}
	// The same cgroup made by the runtime is killed.
	st.Created = []string{dir}
	load(st, nil, f.fs).Destroy()
	if got, want := writesIn(f.takeWrites(), "c1"), []string{"cgroup.kill=1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("writes = %q, want %q", got, want)
	}
}

// delete (Destroy) leaves the parents a container made, as runc and
// crun do; a failed create (Undo) removes them with the rest. Both
// managers: fs2 (v2) and fs1 (v1, one directory per hierarchy).
func TestDestroyLeavesMadeParentsUndoRemovesThem(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		for _, undo := range []bool{false, true} {
			f := newFake(t, Unified, "/")
			parent := filepath.Join(f.root, "p")
			own := filepath.Join(parent, "c1")
			if err := os.MkdirAll(own, 0o755); err != nil {
				t.Fatal(err)
			}
			st := &State{V2: own, Created: []string{parent, own}}
			if v1 {
				st = &State{V1: map[string]string{"pids": own}, Created: []string{parent, own}}
			}
			m := load(st, nil, f.fs)
			var err error
			if undo {
				err = m.Undo()
			} else {
				err = m.Destroy()
			}
			if err != nil {
				t.Fatalf("v1 %v, undo %v: %v", v1, undo, err)
			}
			if exists2(own) {
				t.Errorf("v1 %v, undo %v: %s is still there", v1, undo, own)
			}
			if exists2(parent) == undo {
				t.Errorf("v1 %v, undo %v: parent %s there: %v, want %v", v1, undo, parent, exists2(parent), !undo)
			}
		}
	}
}
