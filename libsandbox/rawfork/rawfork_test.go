package rawfork

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/sigcatch"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates namespaces")
	}
}

// holder starts a process in new namespaces and returns it; the test
// kills it at cleanup.
func holder(t *testing.T, args ...string) (*exec.Cmd, int) {
	t.Helper()
	cmd := exec.Command("unshare", append(args, "sleep", "60")...)
	if err := cmd.Start(); err != nil {
		t.Skipf("unshare not usable: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// unshare execs sleep once the namespaces exist (with --fork, its
	// child does).
	for i := 0; i < 500; i++ {
		pid := strconv.Itoa(cmd.Process.Pid)
		b, _ := os.ReadFile("/proc/" + pid + "/comm")
		if strings.TrimSpace(string(b)) == "sleep" {
			return cmd, cmd.Process.Pid
		}
		c, _ := os.ReadFile("/proc/" + pid + "/task/" + pid + "/children")
		if f := strings.Fields(string(c)); len(f) == 1 {
			b, _ := os.ReadFile("/proc/" + f[0] + "/comm")
			if strings.TrimSpace(string(b)) == "sleep" {
				n, _ := strconv.Atoi(f[0])
				// Killing unshare does not kill the child it forked.
				t.Cleanup(func() { unix.Kill(n, unix.SIGKILL) })
				return cmd, n
			}
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 2e6}, nil)
	}
	t.Fatal("holder did not start")
	return nil, 0
}

func openNS(t *testing.T, pid int, name string, typ int) Namespace {
	t.Helper()
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return Namespace{Fd: fd, Type: typ}
}

func nsLink(t *testing.T, pid int, name string) string {
	t.Helper()
	s, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runIn starts sh in the given namespaces with stdout to a pipe and
// returns what it printed and its exit status.
func runIn(t *testing.T, attr *Attr, script string) (string, int) {
	t.Helper()
	exe, err := unix.Open("/bin/sh", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(exe)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	attr.Exe = exe
	attr.Files = []int{0, int(w.Fd()), 2}
	attr.Argv = []string{"sh", "-c", script}
	attr.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	res, err := Start(attr)
	w.Close()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	pid := res.Pid
	out, _ := readAll(r)
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatalf("wait4 %d: %v", pid, err)
	}
	return out, ws.ExitStatus()
}

func readAll(r *os.File) (string, error) {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String(), nil
		}
	}
}

func TestJoinUserAndMountNamespace(t *testing.T) {
	requireRoot(t)
	_, pid := holder(t, "--user", "--map-root-user", "--mount")
	attr := &Attr{Namespaces: []Namespace{
		openNS(t, pid, "user", unix.CLONE_NEWUSER),
		openNS(t, pid, "mnt", unix.CLONE_NEWNS),
	}}
	out, status := runIn(t, attr, "readlink /proc/self/ns/user /proc/self/ns/mnt; id -u")
	want := nsLink(t, pid, "user") + "\n" + nsLink(t, pid, "mnt") + "\n0\n"
	if status != 0 || out != want {
		t.Fatalf("got %q (status %d), want %q", out, status, want)
	}
}

func TestJoinPidNamespaceForksAgain(t *testing.T) {
	requireRoot(t)
	_, pid := holder(t, "--pid", "--fork", "--mount-proc")
	attr := &Attr{
		Namespaces: []Namespace{
			openNS(t, pid, "pid", unix.CLONE_NEWPID),
			openNS(t, pid, "mnt", unix.CLONE_NEWNS),
		},
		ForkAgain: true,
	}
	// In the holder's pid namespace sleep is pid 1 and we are not.
	out, status := runIn(t, attr, "readlink /proc/self/ns/pid; cat /proc/1/comm; exit 7")
	want := "sleep\n"
	if status != 7 || !strings.HasSuffix(out, want) || !strings.HasPrefix(out, "pid:[") {
		t.Fatalf("got %q (status %d), want pid link then %q and status 7", out, status, want)
	}
}

func TestSetnsErrorIsReported(t *testing.T) {
	requireRoot(t)
	// A mount namespace fd declared as a network one: setns says EINVAL.
	_, pid := holder(t, "--mount")
	attr := &Attr{Namespaces: []Namespace{
		{Fd: openNS(t, pid, "mnt", 0).Fd, Type: unix.CLONE_NEWNET},
	}}
	exe, _ := unix.Open("/bin/true", unix.O_PATH|unix.O_CLOEXEC, 0)
	defer unix.Close(exe)
	attr.Exe, attr.Argv, attr.Files = exe, []string{"true"}, []int{0, 1, 2}
	_, err := Start(attr)
	if err == nil || !strings.Contains(err.Error(), "setns: invalid argument") {
		t.Fatalf("got %v, want setns: invalid argument", err)
	}
}

// cgroup2Mount finds where cgroup2 is mounted (pure v2 or hybrid).
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p
		}
	}
	t.Skip("no cgroup2 hierarchy mounted")
	return ""
}

func TestCloneIntoCgroup(t *testing.T) {
	requireRoot(t)
	root := cgroup2Mount(t)
	name := "sr-test-rawfork-" + strconv.Itoa(os.Getpid())
	dir := root + "/" + name
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	cg, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cg)
	attr := &Attr{UseCgroupFD: true, CgroupFD: cg}
	out, status := runIn(t, attr, "grep '^0::' /proc/self/cgroup")
	if status != 0 || strings.TrimSpace(out) != "0::/"+name {
		t.Fatalf("got %q (status %d), want 0::/%s", out, status, name)
	}
}

// TestSameRoot: after joining a mount namespace, the child goes on only
// if its root is the one asked for; otherwise nothing is executed and
// Start says so (stage "root", EXDEV). The bats test "a container's
// mount namespace is never joined" plays it with a real container.
func TestSameRoot(t *testing.T) {
	requireRoot(t)
	_, pid := holder(t, "--mount")
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, "/", 0, unix.STATX_INO, &stx); err != nil {
		t.Fatal(err)
	}
	ours := FileID{DevMajor: stx.Dev_major, DevMinor: stx.Dev_minor, Ino: stx.Ino}
	attr := &Attr{Namespaces: []Namespace{openNS(t, pid, "mnt", unix.CLONE_NEWNS)}, SameRoot: &ours}
	if out, status := runIn(t, attr, "echo ran"); status != 0 || out != "ran\n" {
		t.Fatalf("same root: got %q (status %d)", out, status)
	}
	other := ours
	other.Ino++
	exe, _ := unix.Open("/bin/true", unix.O_PATH|unix.O_CLOEXEC, 0)
	defer unix.Close(exe)
	attr = &Attr{Namespaces: []Namespace{openNS(t, pid, "mnt", unix.CLONE_NEWNS)}, SameRoot: &other,
		Exe: exe, Argv: []string{"true"}, Files: []int{0, 1, 2}}
	_, err := Start(attr)
	var re *Error
	if !errors.As(err, &re) || re.Stage != "root" || re.Errno != unix.EXDEV {
		t.Fatalf("another root: got %v, want stage root, EXDEV", err)
	}
}

// Path runs a program by its path in the joined mount namespace (a
// script sees that path as $0), and Dir is the working directory,
// resolved there too.
func TestPathAndDir(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook"), []byte("#!/bin/sh\necho \"$0 $1 $(pwd)\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The holder's private /mnt shows dir, ours does not: both the
	// path and the directory are resolved by its tree.
	_, pid := holder(t, "--mount", "--propagation", "private", "sh", "-c", "mount --bind "+dir+" /mnt && exec sleep 60")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	attr := &Attr{Namespaces: []Namespace{openNS(t, pid, "mnt", unix.CLONE_NEWNS)}, Exe: -1, Path: "/mnt/hook",
		Files: []int{0, int(w.Fd()), 2}, Argv: []string{"/mnt/hook", "arg"}, Dir: "/mnt"}
	res, err := Start(attr)
	w.Close()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	out, _ := readAll(r)
	var ws unix.WaitStatus
	unix.Wait4(res.Pid, &ws, 0, nil)
	if want := "/mnt/hook arg /mnt\n"; out != want || ws.ExitStatus() != 0 {
		t.Fatalf("got %q (status %d), want %q", out, ws.ExitStatus(), want)
	}
	if _, err := Start(&Attr{Exe: -1, Files: []int{0, 1, 2}}); err == nil {
		t.Fatal("no Exe, Path nor Process: started")
	}
}

// TestForkAgainClosesItsFdsOnce: Start closes the grandchild's end of
// its report socket once. It closed it right after the fork and again
// when it returned: by then the number could be an fd another goroutine
// had opened, or the pty master the wait received, which exec then sent
// closed to --console-socket. Check, called once the wait has begun,
// opens fds onto the lowest free numbers, the freed one among them; each
// must still be open once Start has returned.
func TestForkAgainClosesItsFdsOnce(t *testing.T) {
	requireRoot(t)
	_, pid := holder(t, "--pid", "--fork", "--mount-proc")
	var opened []int
	attr := &Attr{
		Namespaces: []Namespace{
			openNS(t, pid, "pid", unix.CLONE_NEWPID),
			openNS(t, pid, "mnt", unix.CLONE_NEWNS),
		},
		ForkAgain: true,
		Check: func() error {
			if opened != nil {
				return nil
			}
			for i := 0; i < 32; i++ {
				fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					return err
				}
				opened = append(opened, fd)
			}
			return nil
		},
	}
	defer func() {
		for _, fd := range opened {
			unix.Close(fd)
		}
	}()
	if _, status := runIn(t, attr, "exit 3"); status != 3 {
		t.Fatalf("status %d, want 3", status)
	}
	if opened == nil {
		t.Fatal("Check was not called")
	}
	for _, fd := range opened {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			t.Fatalf("fd %d, opened while Start waited, was closed under us: %v", fd, err)
		}
	}
}

// A child does not keep the handlers sigcatch installed in us: for the
// signals the Go runtime leaves at their default in its children
// (SIGTSTP, 34: see sigcatch's catchRaw) sigcatch resets them, for the
// others (SIGUSR1) the runtime does. Its grandchild may take any pid in
// the pid namespace it joins, and our handler, run there, would write
// into whatever file the child laid over the pipe's number.
func TestChildDropsSigcatchHandlers(t *testing.T) {
	requireRoot(t)
	c := make(chan os.Signal, 8)
	if err := sigcatch.Catch(c, unix.SIGTSTP, 34, unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	caught := func(pid int) uint64 {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "SigCgt:"); ok {
				n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		t.Fatal("no SigCgt in /proc/PID/status")
		return 0
	}
	ours := uint64(1)<<(unix.SIGTSTP-1) | uint64(1)<<(34-1) | uint64(1)<<(unix.SIGUSR1-1)
	if caught(os.Getpid())&ours != ours && sigcatchRaw() {
		t.Fatalf("sigcatch did not catch SIGTSTP, 34 and SIGUSR1 here: SigCgt %x", caught(os.Getpid()))
	}
	var child uint64
	paused := false
	attr := &Attr{Pause: func(pid int) error {
		child, paused = caught(pid), true
		return nil
	}}
	if out, status := runIn(t, attr, "true"); status != 0 || !paused {
		t.Fatalf("child: status %d, paused %v: %s", status, paused, out)
	}
	if child&ours != 0 {
		t.Fatalf("the child, waiting before it execs, catches %x of SIGTSTP, 34 and SIGUSR1", child&ours)
	}
}

// sigcatchRaw: sigcatch installs handlers of its own on this machine.
func sigcatchRaw() bool {
	return (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") && os.Getpid() != 1
}
