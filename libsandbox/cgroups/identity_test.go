package cgroups

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The attacker of these tests owns the directory above a container's
// cgroup (identity.go): it replaces the container's directory with
// another container's, once the first is empty. What a later verb of
// the first container does must not reach the second.

// saved returns st as a later verb loads it from state.json.
func saved(t *testing.T, st *State) *State {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	out := &State{}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// created makes container c1's cgroup on a fake host of the given mode
// and returns its state as saved.
func created(t *testing.T, mode Mode) (*fakeHost, *State) {
	t.Helper()
	f := newFake(t, mode, "/")
	m := mustNew(t, f.host, Config{ID: "c1"})
	if err := m.Create(nil); err != nil {
		t.Fatal(err)
	}
	return f, saved(t, m.State())
}

// victim puts at dir, on the fake, another container's cgroup with a
// process in it.
func victim(t *testing.T, f *fakeHost, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	f.cgroup(dir, map[string]string{"cgroup.procs": "4242\n"})
}

func TestReplacedCgroupLeftAlone(t *testing.T) {
	for _, mode := range []Mode{Unified, Hybrid} {
		t.Run(map[Mode]string{Unified: "v2", Hybrid: "hybrid"}[mode], func(t *testing.T) {
			f, st := created(t, mode)
			own := ownDirs(st)
			if len(st.Inodes) != len(own) {
				t.Fatalf("inodes = %v, want one for each of %v", st.Inodes, own)
			}
			for _, d := range own {
				victim(t, f, d)
			}
			before := snapshot(t, own)

			l := load(saved(t, st), nil, f.fs)
			if l.Exists() {
				t.Errorf("Exists() = true for a cgroup made again since")
			}
			if pids, _ := l.Pids(); len(pids) != 0 {
				t.Errorf("Pids() = %v, the other cgroup's", pids)
			}
			l.Signal(unix.SIGKILL)
			l.Freeze()
			l.Update(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}}, nil)
			if err := l.Destroy(); err != nil {
				t.Errorf("Destroy: %v", err)
			}
			if after := snapshot(t, own); !equalMaps(before, after) {
				t.Errorf("the other cgroup changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestSwappedAfterCheck: the directory is checked once, when a verb
// first reaches it; swapped after that, the verb goes on acting on the
// directory it checked, wherever it is now.
func TestSwappedAfterCheck(t *testing.T) {
	for _, mode := range []Mode{Unified, Legacy} {
		t.Run(map[Mode]string{Unified: "v2", Legacy: "v1"}[mode], func(t *testing.T) {
			f, st := created(t, mode)
			l := load(st, nil, f.fs)
			// The first write checks and pins the directory.
			if err := l.Update(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(4)}}, nil); err != nil {
				t.Fatalf("Update: %v", err)
			}
			own := []string{st.V2}
			if mode == Legacy {
				own = []string{st.V1["pids"]}
			}
			for _, d := range own {
				if err := os.Rename(d, d+".moved"); err != nil {
					t.Fatal(err)
				}
				victim(t, f, d)
			}
			before := snapshot(t, own)
			if err := l.Update(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}}, nil); err != nil {
				t.Fatalf("Update: %v", err)
			}
			if after := snapshot(t, own); !equalMaps(before, after) {
				t.Errorf("the other cgroup changed:\nbefore %v\nafter  %v", before, after)
			}
			if got := readFile(t, filepath.Join(own[0]+".moved", "pids.max")); got != "5" {
				t.Errorf("pids.max of the container's own cgroup = %q, want 5", got)
			}
		})
	}
}

// TestClaimedNeverEntered: a state saved before the cgroup was made (a
// create killed then) acts on nothing there but an rmdir of an empty
// directory.
func TestClaimedNeverEntered(t *testing.T) {
	f := newFake(t, Unified, "/")
	m := mustNew(t, f.host, Config{ID: "c1"})
	if err := m.State().Claim(); err != nil {
		t.Fatal(err)
	}
	st := saved(t, m.State())
	if got, ok := st.Inodes[st.V2]; !ok || got != 0 {
		t.Fatalf("inodes = %v, want 0 for %s", st.Inodes, st.V2)
	}
	victim(t, f, st.V2)
	before := snapshot(t, []string{st.V2})
	l := load(st, nil, f.fs)
	l.Signal(unix.SIGKILL)
	l.Destroy()
	if after := snapshot(t, []string{st.V2}); !equalMaps(before, after) {
		t.Errorf("the other cgroup changed:\nbefore %v\nafter  %v", before, after)
	}
}

func ownDirs(st *State) []string {
	var out []string
	for _, d := range st.V1 {
		out = append(out, d)
	}
	if st.V2 != "" {
		out = append(out, st.V2)
	}
	return out
}

// snapshot reads every file of dirs.
func snapshot(t *testing.T, dirs []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatalf("the other cgroup: %v", err)
		}
		for _, e := range ents {
			if !e.IsDir() {
				out[filepath.Join(d, e.Name())] = readFile(t, filepath.Join(d, e.Name()))
			}
		}
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCreateRefusesDirectorySwappedIn: between create's mkdir and its
// check of the new directory, the parent's owner puts another directory
// at its path: another container's cgroup renamed (v1), or one of its
// own made (cgroup2). create must fail, and record nothing of it.
func TestCreateRefusesDirectorySwappedIn(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode Mode
		// swap puts another directory at d.
		swap func(t *testing.T, f *fakeHost, d string)
	}{
		{"v1 rename of another container's cgroup", Legacy, func(t *testing.T, f *fakeHost, d string) {
			other := filepath.Join(filepath.Dir(d), "other")
			f.cgroup(other, map[string]string{"cgroup.procs": "4242\n"})
			must(t, os.Rename(d, d+".away"))
			must(t, os.Rename(other, d))
		}},
		{"v1 rename of a root 0700 directory (0755 under umask 077)", Legacy, func(t *testing.T, f *fakeHost, d string) {
			other := filepath.Join(filepath.Dir(d), "other")
			f.cgroup(other, map[string]string{"cgroup.procs": "4242\n"})
			must(t, os.Chmod(other, 0o700))
			must(t, os.Rename(d, d+".away"))
			must(t, os.Rename(other, d))
		}},
		{"cgroup2 mkdir by the owner", Unified, func(t *testing.T, f *fakeHost, d string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to make a directory another user owns")
			}
			must(t, os.Rename(d, d+".away"))
			f.cgroup(d, map[string]string{"cgroup.procs": "4242\n"})
			must(t, os.Chmod(d, 0o1700)) // the mark, which the owner of its own may set
			must(t, os.Chown(d, 65534, 65534))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.mode, "/")
			m := mustNew(t, f.host, Config{ID: "c1"})
			swapped := ""
			fill := f.fs.mkdirHook
			f.fs.mkdirHook = func(d string) {
				fill(d)
				if swapped == "" && filepath.Base(d) == "c1" {
					swapped = d
					tc.swap(t, f, d)
				}
			}
			err := m.Create(nil)
			if err == nil || !strings.Contains(err.Error(), "not the directory create made") {
				t.Fatalf("Create: %v, want an error saying the directory is not the one it made", err)
			}
			if got := m.State().Inodes[swapped]; got != 0 {
				t.Errorf("inode recorded for %s: %d, want none (0)", swapped, got)
			}
			if got := readFile(t, filepath.Join(swapped, "cgroup.procs")); got != "4242\n" {
				t.Errorf("the other cgroup's procs: %q", got)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
