package cgroups

import (
	"os"
	"path/filepath"
	"testing"
)

// HeldFrozen's look at a thread's cgroups, over a tree in a temp dir laid
// out as a hybrid host's: a v1 freezer hierarchy and a cgroup2 one. A
// path read from /proc that is gone when looked up (the container renamed
// or removed the cgroup meanwhile) is reported as gone, never as free; a
// frozen cgroup is found in either hierarchy, on v2 through an ancestor.
func TestFrozenIn(t *testing.T) {
	root := t.TempDir()
	fz, v2 := filepath.Join(root, "freezer"), filepath.Join(root, "unified")
	h := &Host{V2: v2, V1: []Mount{{Point: fz, Root: "/", Type: "cgroup", Controllers: []string{"freezer"}}}}
	mk := func(dir, file, v string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if file != "" {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk(fz, "", "") // the hierarchy's root: no freezer.state
	mk(fz+"/a", "freezer.state", "THAWED")
	mk(fz+"/a/evil", "freezer.state", "FROZEN")
	mk(v2, "", "") // the root: no cgroup.freeze
	mk(v2+"/a", "cgroup.freeze", "0")
	mk(v2+"/a/evil", "cgroup.freeze", "1")
	mk(v2+"/a/evil/in", "cgroup.freeze", "0")

	for _, tc := range []struct {
		name         string
		cg           map[string]string
		refrigerated bool
		frozen, gone string
	}{
		{"free", map[string]string{"freezer": "/a", "": "/a"}, false, "", ""},
		{"v1 frozen", map[string]string{"freezer": "/a/evil", "": "/a"}, false, fz + "/a/evil", ""},
		{"v2 frozen by an ancestor", map[string]string{"freezer": "/a", "": "/a/evil/in"}, false, v2 + "/a/evil", ""},
		{"v1 gone (renamed)", map[string]string{"freezer": "/a/evil7", "": "/a"}, false, "", fz + "/a/evil7"},
		{"v2 gone", map[string]string{"freezer": "/a", "": "/a/gone"}, false, "", v2 + "/a/gone"},
		{"outside our cgroup namespace: not looked at", map[string]string{"freezer": "/../x", "": "/../x"}, false, "", ""},
		{"a thawed decoy at the name, the thread in the freezer", map[string]string{"freezer": "/a", "": "/a"}, true, fz + "/a", ""},
		{"a root cgroup: there, not gone", map[string]string{"freezer": "/", "": "/"}, false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, g := h.frozenIn([]threadLook{{cg: tc.cg, refrigerated: tc.refrigerated}})
			if f != tc.frozen || g != tc.gone {
				t.Errorf("frozenIn(%v) = %q, %q; want %q, %q", tc.cg, f, g, tc.frozen, tc.gone)
			}
		})
	}
	// A frozen thread wins over a gone one, whichever comes first.
	f, _ := h.frozenIn([]threadLook{{cg: map[string]string{"freezer": "/a/evil7"}}, {cg: map[string]string{"freezer": "/a/evil"}}})
	if f != fz+"/a/evil" {
		t.Errorf("a gone thread then a frozen one: frozen %q, want %q", f, fz+"/a/evil")
	}
}

// A frozen cgroup that is the container's own, or above it (a pause of
// it, or of a pod's parent), is a pause; one beside it is not, even with
// a name that starts like its own.
func TestOwnOrAbove(t *testing.T) {
	st := &State{V1: map[string]string{"freezer": "/fz/pod/b"}, V1Controllers: map[string]string{"freezer": "freezer"}, V2: "/u/pod/b"}
	for d, want := range map[string]bool{
		"/fz/pod/b": true, "/fz/pod": true, "/fz": true, "/u/pod": true,
		"/fz/pod/bx": false, "/fz/pod/a": false, "/fz/pod/b/sub": false, "/u/pod/b2": false,
	} {
		if got := ownOrAbove(st, d); got != want {
			t.Errorf("ownOrAbove(%q) = %v, want %v", d, got, want)
		}
	}
}

// A hierarchy mounted from a sub-tree (a bind mount of /docker/X): a
// path outside it would be looked up in the wrong place, and read as
// gone; it is not looked at.
func TestResolvable(t *testing.T) {
	for _, tc := range []struct {
		p, root string
		want    bool
	}{
		{"/a", "/", true}, {"/docker/x/a", "/docker/x", true}, {"/docker/x", "/docker/x", true},
		{"/docker/xy", "/docker/x", false}, {"/system.slice/s", "/docker/x", false},
		{"/..", "/", false}, {"/../a", "/", false}, {"/..a", "/", true},
	} {
		if got := resolvable(tc.p, tc.root); got != tc.want {
			t.Errorf("resolvable(%q, %q) = %v, want %v", tc.p, tc.root, got, tc.want)
		}
	}
}
