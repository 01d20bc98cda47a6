package libsandbox

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// holdUserNS starts argv (which execs, in the end, sleep in a user
// namespace) and opens its user namespace once it sleeps.
func holdUserNS(t *testing.T, argv ...string) join {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		t.Skipf("%v: %v", argv, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	j, ok := sleepingUserNS(t, strconv.Itoa(cmd.Process.Pid))
	if !ok {
		t.Skipf("%v: no user namespace of its own", argv)
	}
	return j
}

// sleepingUserNS waits (2 s at most) until pid sleeps in a user namespace
// other than ours, then opens that namespace.
func sleepingUserNS(t *testing.T, pid string) (join, bool) {
	t.Helper()
	self, _ := os.Readlink("/proc/self/ns/user")
	path := "/proc/" + pid + "/ns/user"
	for i := 0; i < 100; i++ {
		comm, _ := os.ReadFile("/proc/" + pid + "/comm")
		if l, err := os.Readlink(path); err == nil && l != self && string(comm) == "sleep\n" {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return join{typ: specs.UserNamespace, path: path, f: f}, true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return join{}, false
}

func TestUserNSOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (setpriv to another uid)")
	}
	self, err := os.Open("/proc/self/ns/user")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	for _, c := range []struct {
		name  string
		j     join
		owner uint32
	}{
		{"ours", join{path: "/proc/self/ns/user", f: self}, 0},
		{"made by root", holdUserNS(t, "unshare", "-U", "sleep", "30"), 0},
		{"made by nobody", holdUserNS(t, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-U", "sleep", "30"), 65534},
		// Below nobody's: the top one's maker counts (cred_cap_issubset).
		{"nested below nobody's", holdUserNS(t, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-U", "--map-root-user", "unshare", "-U", "sleep", "30"), 65534},
		// Made by uid 5 below one of root's: root's, though uid 5 made
		// the one joined.
		{"uid 5's below root's", holdNested(t), 0},
	} {
		owner, below, err := userNSOwner(c.j)
		if err != nil || !below || owner != c.owner {
			t.Errorf("%s: owner %d below %v err %v, want %d true nil", c.name, owner, below, err, c.owner)
		}
	}
	// Our fd stays open, ancestors' are closed: the count is as before.
	j := holdUserNS(t, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-U", "--map-root-user", "unshare", "-U", "sleep", "30")
	before, _ := os.ReadDir("/proc/self/fd")
	userNSOwner(j)
	after, _ := os.ReadDir("/proc/self/fd")
	if len(after) != len(before) {
		t.Errorf("fds: %d before, %d after", len(before), len(after))
	}
}

// holdNested makes a user namespace of root's (ids 0-65535 mapped to
// themselves) and, in it, one that uid 5 makes.
func holdNested(t *testing.T) join {
	t.Helper()
	cmd := exec.Command("unshare", "-U", "sh", "-c", "read x; exec setpriv --reuid=5 --regid=5 --clear-groups unshare -U sleep 30")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("unshare: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := strconv.Itoa(cmd.Process.Pid)
	self, _ := os.Readlink("/proc/self/ns/user")
	for i := 0; i < 100; i++ {
		if l, _ := os.Readlink("/proc/" + pid + "/ns/user"); l != "" && l != self {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, m := range []string{"uid_map", "gid_map"} {
		if err := os.WriteFile("/proc/"+pid+"/"+m, []byte("0 0 65536"), 0); err != nil {
			t.Fatal(err)
		}
	}
	in.Write([]byte("\n"))
	j, ok := sleepingUserNS(t, pid)
	if !ok {
		t.Fatal("the nested namespace never came")
	}
	return j
}
