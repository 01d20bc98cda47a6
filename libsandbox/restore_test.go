package libsandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
)

// cgroup2Dir returns a cgroup2 mount point of this host (the v2 one of
// a hybrid host too), or skips.
func cgroup2Dir(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		for i, x := range f {
			if x == "-" && i+1 < len(f) && f[i+1] == "cgroup2" {
				return f[4]
			}
		}
	}
	t.Skip("no cgroup2 mount here")
	return ""
}

// A restored init whose cgroup namespace was made in another cgroup than
// the one it is in (CRIU's prepare_cgns by a path renamed meanwhile)
// sees its cgroup as "/../<name>": checkCgroupNsRoot, which reads it in
// init's cgroup namespace (inViewOf), fails; an init at its
// namespace's root passes.
func TestCheckCgroupNsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: cgroups, setns")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1)")
	}
	base := filepath.Join(cgroup2Dir(t), "sr-cgns-test-"+strconv.Itoa(os.Getpid()))
	x, y := filepath.Join(base, "x"), filepath.Join(base, "y")
	for _, d := range []string{base, x, y} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// (Registered first, run last: after the processes are killed.)
	t.Cleanup(func() {
		for _, d := range []string{y, x, base} {
			for i := 0; i < 50 && os.Remove(d) != nil; i++ {
				time.Sleep(20 * time.Millisecond)
			}
			if _, err := os.Stat(d); err == nil {
				t.Errorf("cgroup %s left", d)
			}
		}
	})
	// run: a process whose cgroup namespace is made in x, which then
	// moves to dest.
	run := func(dest string) int {
		t.Helper()
		script := `echo $$ >"$1/cgroup.procs" && exec unshare -C sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 100' sh "$2"`
		cmd := exec.Command("sh", "-c", script, "sh", x, dest)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		// Until it sleeps, in its namespace, in dest.
		for i := 0; i < 250; i++ {
			comm, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/comm")
			if string(comm) == "sleep\n" {
				return cmd.Process.Pid
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("the test process did not start")
		return 0
	}
	check := func(pid int) error {
		return inViewOf(pid, func(root, cgroups int) error { return checkCgroupNsRoot(cgroups) })
	}
	if err := check(run(x)); err != nil {
		t.Errorf("a process at its cgroup namespace's root: %v", err)
	}
	err := check(run(y))
	if err == nil || !strings.Contains(err.Error(), "/../y") {
		t.Errorf("a process in a sibling of its cgroup namespace's root: %v, want an error naming /../y", err)
	}
}

// The yard's entries must be named as CRIU names them (cgroup.c,
// ctrl_dir_and_opt), or CRIU mounts the hierarchy itself.
func TestYardName(t *testing.T) {
	for in, want := range map[string]string{
		"pids":                  "pids",
		"cpu,cpuacct":           "cpu,cpuacct",
		"name=systemd":          "systemd",
		"":                      "unified",
		"net_cls,net_prio":      "net_cls,net_prio",
		"cpuset,name=something": "cpuset,something",
	} {
		if got := yardName(in); got != want {
			t.Errorf("yardName(%q) = %q, want %q", in, got, want)
		}
	}
}

// yardEntries: the container's own directory for each hierarchy it has
// one in; a whole mount for a hierarchy it has none in, where CRIU is in
// the runtime's own cgroup; an error where CRIU is elsewhere there (a
// hierarchy of the container's that the runtime keys otherwise: CRIU
// would reach it by path).
func TestYardEntries(t *testing.T) {
	st := &cgroups.State{
		V1: map[string]string{
			"memory":         "/sys/fs/cgroup/memory/p/c",
			"cpu,cpuacct":    "/sys/fs/cgroup/cpu,cpuacct/p/c",
			"name=jobs,pids": "/sys/fs/cgroup/jobs/p/c",
		},
		V2: "/sys/fs/cgroup/unified/p/c",
	}
	own := map[string]string{"memory": "/rt", "cpu,cpuacct": "/rt", "pids,name=jobs": "/rt", "": "/rt", "name=foo": "/elsewhere", "net_cls": "/"}
	got, err := yardEntries(map[string]string{
		"memory":         "/p/c",
		"cpu,cpuacct":    "/p/c",
		"pids,name=jobs": "/p/c", // the kernel's order (name= last), not the key's
		"":               "/p/c",
		"name=foo":       "/elsewhere",
		"net_cls":        "/",
	}, own, st)
	if err != nil {
		t.Fatal(err)
	}
	want := []yardEntry{
		{ctrls: "", name: "unified", dir: st.V2, root: "/", tree: -1},
		{ctrls: "cpu,cpuacct", name: "cpu,cpuacct", dir: st.V1["cpu,cpuacct"], root: "/", tree: -1},
		{ctrls: "memory", name: "memory", dir: st.V1["memory"], root: "/", tree: -1},
		{ctrls: "name=foo", name: "foo", root: "/elsewhere", tree: -1, fstype: "cgroup", data: "none,name=foo"},
		{ctrls: "net_cls", name: "net_cls", root: "/", tree: -1, fstype: "cgroup", data: "net_cls"},
		{ctrls: "pids,name=jobs", name: "pids,jobs", dir: st.V1["name=jobs,pids"], root: "/", tree: -1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\ngot  %+v\nwant %+v", got, want)
	}

	// Pure v2 (no V1 in the state) with a v1 controller mounted
	// somewhere: mounted whole. A v1 host where something mounted
	// cgroup2: the same.
	for _, tc := range []struct {
		hier  map[string]string
		st    *cgroups.State
		whole string
	}{
		{map[string]string{"": "/p/c", "net_cls,net_prio": "/x"}, &cgroups.State{V2: "/sys/fs/cgroup/p/c"}, "net_cls,net_prio"},
		{map[string]string{"": "/x", "memory": "/p/c"}, &cgroups.State{V1: st.V1}, ""},
	} {
		got, err := yardEntries(tc.hier, map[string]string{"": "/x", "net_cls,net_prio": "/x", "memory": "/rt"}, tc.st)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range got {
			if e.ctrls == tc.whole {
				found = true
				if e.dir != "" || e.root != "/x" || e.fstype == "" {
					t.Errorf("%q: %+v, want a whole mount rooted at /x", tc.whole, e)
				}
			}
		}
		if !found {
			t.Errorf("%q: no entry in %+v", tc.whole, got)
		}
	}

	// CRIU elsewhere than the runtime in a hierarchy the container has
	// no directory in: refused, naming it.
	for _, h := range []string{"blkio", "name=bar"} {
		_, err := yardEntries(map[string]string{h: "/p/c", "memory": "/p/c"}, map[string]string{h: "/rt", "memory": "/rt"}, st)
		if err == nil || !strings.Contains(err.Error(), h) {
			t.Errorf("hierarchy %q: err = %v, want one naming it", h, err)
		}
	}
	// The runtime outside its cgroup namespace's root there: refused.
	if _, err := yardEntries(map[string]string{"net_cls": "/../x"}, map[string]string{"net_cls": "/../x"}, st); err == nil {
		t.Error("a root of /../x: no error")
	}
}
