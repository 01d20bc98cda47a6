package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The warm-up writes a thread of ours to the tasks file of our own
// cgroup, and only if that file lists it; a fake hierarchy's files stand
// in for the kernel's.
func TestWarmMigration(t *testing.T) {
	// The thread that moves itself, whichever the goroutine runs on.
	defer func(f func() int) { gettid = f }(gettid)
	gettid = func() int { return 4242 }
	for _, tc := range []struct {
		name    string
		tasks   func() string
		written bool
	}{
		{"our cgroup: one of our threads written", func() string { return "1\n4242\n7\n" }, true},
		{"not listed there: nothing written", func() string { return "1\n2\n" }, false},
		{"a list too long to read: nothing written", func() string { return strings.Repeat("1\n", maxTasksRead) + "4242\n" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "user.slice")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			before := tc.tasks()
			if err := os.WriteFile(filepath.Join(dir, "tasks"), []byte(before), 0o644); err != nil {
				t.Fatal(err)
			}
			m := Mount{Point: root, Root: "/", Type: "cgroup", Controllers: []string{"pids"}}
			other := Mount{Point: filepath.Join(root, "nope"), Root: "/", Type: "cgroup", Controllers: []string{"freezer"}}
			h := &Host{V1: []Mount{other, m}, Own: map[string]string{"pids": "/user.slice", "freezer": "/user.slice"}}
			done := h.WarmMigration()
			if done == nil {
				t.Fatal("no warm-up on a v1 host")
			}
			<-done
			b, _ := os.ReadFile(filepath.Join(dir, "tasks"))
			got := string(b)
			if !tc.written {
				if got != before {
					t.Errorf("tasks = %.40q, want it unchanged", got)
				}
				return
			}
			// (Written where the read ended: cgroupfs takes a
			// write at any offset.)
			if got != before+"4242" {
				t.Errorf("tasks = %.40q, want our thread's id written after the list (4242)", got)
			}
		})
	}
	if (&Host{V2: "/sys/fs/cgroup"}).WarmMigration() != nil {
		t.Error("a warm-up on a v2-only host")
	}
	freezer := Mount{Point: "/nonexistent", Root: "/", Type: "cgroup", Controllers: []string{"freezer"}}
	if (&Host{V1: []Mount{freezer}, Own: map[string]string{"freezer": "/"}}).WarmMigration() != nil {
		t.Error("a warm-up outside the pids hierarchy")
	}
}

func TestHasLine(t *testing.T) {
	for _, tc := range []struct {
		b, l string
		want bool
	}{
		{"1\n23\n", "23", true},
		{"1\n23", "23", true},
		{"1\n234\n", "23", false},
		{"123\n", "23", false},
		{"", "23", false},
	} {
		if got := hasLine([]byte(tc.b), tc.l); got != tc.want {
			t.Errorf("hasLine(%q, %q) = %v", tc.b, tc.l, got)
		}
	}
}
