package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EnterThread writes "0" (the calling thread) to the container's tasks
// file in every v1 hierarchy, and leave writes it to our own cgroup's,
// through the fd whose list showed our thread; a fake hierarchy's files
// stand in for the kernel's (a write lands where the read ended).
func TestEnterThread(t *testing.T) {
	defer func(f func() int) { gettid = f }(gettid)
	gettid = func() int { return 4242 }
	defer func(f func() (map[string]string, error)) { threadCgroups = f }(threadCgroups)
	const ours = "1\n4242\n7\n"
	for _, tc := range []struct {
		name string
		own  string // our cgroup in both hierarchies
		// the tasks files: ours, and the container's in freezer
		// ("full": /dev/full, where every write fails)
		ownTasks, ctrFreezer string
		err                  string // "" none, "stuck": ErrThreadStuck
		in, back             bool   // written to the container's, back to ours
		frozen               bool   // the container's freezer cgroup says FROZEN
		oneWay               bool   // EnterThread's oneWay
	}{
		{name: "moved in and back", own: "/user.slice", ownTasks: ours, in: true, back: true},
		{name: "our cgroup does not list us: nothing written", own: "/user.slice", ownTasks: "1\n2\n", err: "does not list our thread"},
		{name: "a list too long to read: nothing written", own: "/user.slice", ownTasks: strings.Repeat("1\n", maxTasksRead) + "4242\n", err: "does not list our thread"},
		{name: "at the root: no list read", own: "/", ownTasks: "", in: true, back: true},
		{name: "the second move fails: back from the first", own: "/user.slice", ownTasks: ours, ctrFreezer: "full", err: "move our thread into", in: true, back: true},
		{name: "cannot go back: stuck", own: "/", ownTasks: "full", err: "stuck", in: true},
		{name: "a frozen cgroup: nothing written", own: "/user.slice", ownTasks: ours, frozen: true, err: "is frozen"},
		// One way: the thread ends instead of going back, so our own
		// cgroup is neither read (a list without us is no error) nor
		// written, and a failed move leaves the moves before it.
		{name: "one way: moved in, not back", own: "/user.slice", ownTasks: "1\n2\n", in: true, oneWay: true},
		{name: "one way: the second move fails: the first stays", own: "/user.slice", ownTasks: ours, ctrFreezer: "full", err: "move our thread into", in: true, oneWay: true},
		{name: "one way: a frozen cgroup: nothing written", own: "/user.slice", ownTasks: ours, frozen: true, err: "is frozen", oneWay: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			var mounts []Mount
			own := map[string]string{}
			for _, c := range []string{"pids", "freezer"} {
				pt := filepath.Join(root, c)
				for _, d := range []string{tc.own, "/c1"} {
					if err := os.MkdirAll(filepath.Join(pt, d), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				mounts = append(mounts, Mount{Point: pt, Root: "/", Type: "cgroup", Controllers: []string{c}})
				own[c] = tc.own
				tasks := func(d, content string) {
					p := filepath.Join(pt, d, "tasks")
					if content == "full" {
						if err := os.Symlink("/dev/full", p); err != nil {
							t.Fatal(err)
						}
						return
					}
					if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				tasks(tc.own, tc.ownTasks)
				ctr := ""
				if c == "freezer" {
					ctr = tc.ctrFreezer
				}
				tasks("/c1", ctr)
				if c == "freezer" && tc.frozen {
					if err := os.WriteFile(filepath.Join(pt, "c1", "freezer.state"), []byte("FROZEN\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			threadCgroups = func() (map[string]string, error) { return own, nil }
			h := &Host{V1: mounts, Own: own}
			st := &State{V1: map[string]string{"pids": filepath.Join(root, "pids/c1"), "freezer": filepath.Join(root, "freezer/c1")}}
			leave, err := h.EnterThread(st, tc.oneWay)
			if err == nil {
				err = leave()
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.err == "stuck" && !errors.Is(err, ErrThreadStuck):
				t.Fatalf("err = %v, want ErrThreadStuck", err)
			case tc.err != "" && tc.err != "stuck" && (err == nil || errors.Is(err, ErrThreadStuck) || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err = %v, want one with %q, not stuck", err, tc.err)
			}
			read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
			if got, want := read(filepath.Join(root, "pids/c1/tasks")), map[bool]string{true: "0"}[tc.in]; got != want {
				t.Errorf("container's pids tasks = %q, want %q", got, want)
			}
			if tc.ownTasks != "full" {
				if got, want := read(filepath.Join(root, "pids", tc.own, "tasks")), tc.ownTasks+map[bool]string{true: "0"}[tc.back]; got != want {
					t.Errorf("our pids tasks = %.40q, want %.40q", got, want)
				}
			}
		})
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

func TestHoldsV1(t *testing.T) {
	root := t.TempDir()
	st := &State{V1: map[string]string{}}
	for _, c := range []string{"pids", "memory"} {
		d := filepath.Join(root, c, "c1")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		st.V1[c] = d
	}
	write := func(c, procs string) {
		if err := os.WriteFile(filepath.Join(st.V1[c], "cgroup.procs"), []byte(procs), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pids", "7\n42\n")
	write("memory", "42\n")
	if !st.HoldsV1(42) {
		t.Error("42 is in both")
	}
	write("memory", "7\n")
	if st.HoldsV1(42) {
		t.Error("42 is not in memory's")
	}
}
