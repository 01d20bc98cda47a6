package cgroups

import (
	"encoding/json"
	"os"
	"path/filepath"
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
			f := newFake(t, mode, "/")
			m := mustNew(t, f.host, Config{ID: "c1"})
			if err := m.Create(nil); err != nil {
				t.Fatal(err)
			}
			st := saved(t, m.State())
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
			f := newFake(t, mode, "/")
			m := mustNew(t, f.host, Config{ID: "c1"})
			if err := m.Create(nil); err != nil {
				t.Fatal(err)
			}
			st := saved(t, m.State())
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
