package cgroups

import (
	"sort"
	"strings"
	"testing"
)

// FuzzParseCgroupMountinfo parses raw as a mountinfo file: no panic, and
// only cgroup mounts come out, one per hierarchy, controllers sorted. The
// seed corpus is in testdata/fuzz/FuzzParseCgroupMountinfo.
func FuzzParseCgroupMountinfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		mounts, err := ParseMountinfo(strings.NewReader(raw))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, m := range mounts {
			if m.Type != "cgroup" && m.Type != "cgroup2" {
				t.Errorf("ParseMountinfo(%q): mount %+v is not a cgroup", raw, m)
			}
			if m.Type == "cgroup2" && len(m.Controllers) > 0 {
				t.Errorf("ParseMountinfo(%q): cgroup2 mount %+v has v1 controllers", raw, m)
			}
			if !sort.StringsAreSorted(m.Controllers) {
				t.Errorf("ParseMountinfo(%q): controllers %q not sorted", raw, m.Controllers)
			}
			key := m.Type + ":" + strings.Join(m.Controllers, ",")
			if seen[key] {
				t.Errorf("ParseMountinfo(%q): hierarchy %s twice", raw, key)
			}
			seen[key] = true
		}
	})
}

// FuzzParseProcCgroup parses raw as /proc/PID/cgroup (no panic), then a
// line the kernel would write for a hierarchy and a path: the path comes
// back whole, colons and all. The seed corpus is in
// testdata/fuzz/FuzzParseProcCgroup.
func FuzzParseProcCgroup(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw, controllers, path string) {
		if got, err := ParseProcCgroup(strings.NewReader(raw)); err == nil {
			for k := range got {
				if strings.ContainsAny(k, ":\n") {
					t.Errorf("ParseProcCgroup(%q): hierarchy %q", raw, k)
				}
			}
		}

		// The kernel writes "ID:controllers:path\n" and escapes
		// nothing (kernel/cgroup/cgroup.c proc_cgroup_show): a path
		// with a newline has no single line, and controller names have
		// no colon. A line longer than bufio.Scanner's 64 KiB is an
		// error, not a wrong answer.
		if strings.ContainsAny(controllers, ":\n") || strings.Contains(path, "\n") ||
			strings.HasSuffix(path, "\r") { // bufio.ScanLines drops it
			return
		}
		in := "12:" + controllers + ":" + path + "\n0::/\n"
		got, err := ParseProcCgroup(strings.NewReader(in))
		if err != nil {
			if len(in) > 64*1024 {
				return
			}
			t.Fatalf("ParseProcCgroup(%q): %v", in, err)
		}
		want := map[string]string{controllers: path, "": "/"}
		if controllers == "" {
			want = map[string]string{"": "/"} // the later line wins
		}
		if len(got) != len(want) {
			t.Fatalf("ParseProcCgroup(%q): got %q, want %q", in, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("ParseProcCgroup(%q): got %q, want %q", in, got, want)
			}
		}
	})
}
