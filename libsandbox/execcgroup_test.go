package libsandbox

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
)

// TestOpenSubCgroups runs over directories in a temp dir that stand for a
// container's cgroup on two v1 hierarchies and v2; a symlink stands for
// what a container could put in a tree it owns if cgroupfs allowed it.
func TestOpenSubCgroups(t *testing.T) {
	root := t.TempDir()
	st := &cgroups.State{
		V2:            filepath.Join(root, "unified/ct"),
		V1:            map[string]string{"memory": filepath.Join(root, "memory/ct"), "cpu,cpuacct": filepath.Join(root, "cpu,cpuacct/ct")},
		V1Controllers: map[string]string{"memory": "memory", "cpu": "cpu,cpuacct", "cpuacct": "cpu,cpuacct"},
	}
	for _, d := range []string{st.V2, st.V1["memory"], st.V1["cpu,cpuacct"]} {
		for _, sub := range []string{"a/b", "c"} {
			if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(root, filepath.Join(d, "link")); err != nil {
			t.Fatal(err)
		}
	}
	// Each directory opened, by hierarchy: v1 in key order, then v2.
	for _, tc := range []struct {
		sub  map[string]string
		want []string // cpu,cpuacct; memory; v2
		err  string
	}{
		{map[string]string{"": "a/b"}, []string{"cpu,cpuacct/ct/a/b", "memory/ct/a/b", "unified/ct/a/b"}, ""},
		{map[string]string{"": "/a/b/"}, []string{"cpu,cpuacct/ct/a/b", "memory/ct/a/b", "unified/ct/a/b"}, ""},
		{map[string]string{"": "/"}, []string{"cpu,cpuacct/ct", "memory/ct", "unified/ct"}, ""},
		{map[string]string{"memory": "c"}, []string{"cpu,cpuacct/ct", "memory/ct/c", "unified/ct"}, ""},
		{map[string]string{"cpu": "c", "cpuacct": "c"}, []string{"cpu,cpuacct/ct/c", "memory/ct", "unified/ct"}, ""},
		{map[string]string{"cpu": "c", "cpuacct": "a"}, nil, "share a hierarchy"},
		{map[string]string{"pids": "c"}, nil, `unknown controller "pids"`},
		{map[string]string{"": "nope"}, nil, "does not exist"},
		// Out of the container's cgroup: refused by name, and by the
		// kernel for a symlink.
		{map[string]string{"": "../other"}, nil, "bad sub cgroup path: ../other"},
		{map[string]string{"": "a/../../other"}, nil, "bad sub cgroup path"},
		{map[string]string{"memory": "/../ct"}, nil, "bad sub cgroup path"},
		{map[string]string{"": "link"}, nil, "bad sub cgroup path"},
		{map[string]string{"": "link/memory/ct"}, nil, "bad sub cgroup path"},
	} {
		s, err := openSubCgroups(st, tc.sub)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("openSubCgroups(%v): got error %v, want one with %q", tc.sub, err, tc.err)
			}
			if s != nil {
				s.Close()
			}
			continue
		}
		if err != nil {
			t.Errorf("openSubCgroups(%v): %v", tc.sub, err)
			continue
		}
		var got []string
		for _, f := range append(s.v1, s.v2) {
			target, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
			got = append(got, strings.TrimPrefix(target, root+"/"))
		}
		s.Close()
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("openSubCgroups(%v): got %q, want %q", tc.sub, got, tc.want)
		}
	}
	// A v2 host has one hierarchy: no controller names.
	v2 := &cgroups.State{V2: st.V2}
	if _, err := openSubCgroups(v2, map[string]string{"memory": "c"}); err == nil || !strings.Contains(err.Error(), "cgroup v2") {
		t.Errorf("openSubCgroups on v2 with a controller: got %v, want an error", err)
	}
}
