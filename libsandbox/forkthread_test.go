package libsandbox

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/fds"
)

// TestMain lets the test binary stand for init in the fork thread's
// tests: run as "sandbox-runtime init", it prints its network namespace
// and whether its loopback device is up, and exits.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[0] == "sandbox-runtime" && os.Args[1] == "init" {
		ns, _ := os.Readlink("/proc/self/ns/net")
		fmt.Println(ns, loopbackFlags()&unix.IFF_UP != 0)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// openSelf opens the test binary, which stands for init (TestMain).
func openSelf(t *testing.T) *os.File {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exe.Close() })
	return exe
}

func loopbackFlags() uint16 {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	ifr, _ := unix.NewIfreq("lo")
	if unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr) != nil {
		return 0
	}
	return ifr.Uint16()
}

// netnsOfTasks returns the network namespace of each of our threads.
func netnsOfTasks(t *testing.T) map[string]string {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, task := range tasks {
		if ns, err := os.Readlink(task + "/ns/net"); err == nil {
			m[filepath.Base(task)] = ns
		}
	}
	return m
}

// The thread init is forked from makes the network namespace ahead
// (newForkThread): init is in a new one with its loopback device up, the
// creation's plan still says to create one, and once init is forked no
// thread of ours is in it (one that stayed would keep it alive after
// init: a review found a device moved into it still there for a
// foreground run's poststop hooks).
func TestForkThreadNetworkAhead(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare(CLONE_NEWNET)")
	}
	exe := openSelf(t)
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	plan := &nsPlan{create: unix.CLONE_NEWNET | unix.CLONE_NEWUTS}
	c := &spawnConfig{
		exe:    exe,
		stdio:  [3]*os.File{os.Stdin, w, os.Stderr},
		extra:  fds.New(3),
		ns:     plan,
		thread: newForkThread(true),
	}
	pid, err := spawn(c)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	<-c.thread.done
	out, _ := io.ReadAll(r)
	var ws unix.WaitStatus
	unix.Wait4(pid, &ws, 0, nil)
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("child printed %q", out)
	}
	if f[0] == host {
		t.Errorf("init is in our network namespace %s", host)
	}
	if f[1] != "true" || !c.loopbackUp {
		t.Errorf("loopback up: in init %s, reported %v", f[1], c.loopbackUp)
	}
	if plan.create&unix.CLONE_NEWNET == 0 {
		t.Errorf("the creation's plan lost CLONE_NEWNET")
	}
	var inChild, elsewhere []string
	for task, ns := range netnsOfTasks(t) {
		switch ns {
		case host:
		case f[0]:
			inChild = append(inChild, task)
		default:
			elsewhere = append(elsewhere, task+" "+ns)
		}
	}
	if len(inChild) != 0 || len(elsewhere) != 0 {
		t.Errorf("threads of ours in init's network namespace: %v; in others: %v", inChild, elsewhere)
	}
}

// A thread released before startInit (a step before it failed) ends: no
// thread of ours stays in the namespace it made, and spawn refuses it.
func TestForkThreadReleased(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare(CLONE_NEWNET)")
	}
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	const before = 0
	th := newForkThread(true)
	// Until it has made the namespace, then released.
	deadline := time.Now().Add(5 * time.Second)
	for n := before; n == before && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		n = 0
		for _, ns := range netnsOfTasks(t) {
			if ns != host {
				n++
			}
		}
	}
	th.release()
	<-th.done
	var left []string
	for deadline = time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		left = left[:0]
		for task, ns := range netnsOfTasks(t) {
			if ns != host {
				left = append(left, task)
			}
		}
		if len(left) <= before {
			break
		}
	}
	if len(left) > before {
		t.Errorf("threads left outside our network namespace: %v", left)
	}
	var buf bytes.Buffer
	if _, err := th.spawn(&spawnConfig{}); err == nil {
		t.Errorf("spawn from a released thread: no error")
	} else {
		buf.WriteString(err.Error())
	}
	if !strings.Contains(buf.String(), "released") {
		t.Errorf("spawn from a released thread: %q", buf.String())
	}
}

// A fork thread that went into the container's cgroups one way (bornIn
// with oneWay: create, threadMayEnd) ends once init is forked, and says
// which it was; one without threadMayEnd (a caller whose child would ask
// for a parent-death signal before it could know) goes back and lives
// on. bornIn stands in for cgroups.Host.EnterThread; the moves
// themselves are its tests'.
func TestForkThreadEndsOneWay(t *testing.T) {
	exe := openSelf(t)
	for _, mayEnd := range []bool{true, false} {
		t.Run(fmt.Sprintf("threadMayEnd=%v", mayEnd), func(t *testing.T) {
			var oneWay, left bool
			var tid int
			c := &spawnConfig{
				exe:   exe,
				stdio: [3]*os.File{os.Stdin, nil, os.Stderr},
				extra: fds.New(3),
				ns:    &nsPlan{},
				bornIn: func(ow bool) (func() error, error) {
					oneWay, tid = ow, unix.Gettid()
					return func() error { left = true; return nil }, nil
				},
				threadMayEnd: mayEnd,
			}
			pid, err := spawn(c)
			if err != nil {
				t.Fatal(err)
			}
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
			if oneWay != mayEnd || !left || !c.bornInDone {
				t.Fatalf("bornIn one way: %v, its leave called: %v, bornInDone %v", oneWay, left, c.bornInDone)
			}
			if mayEnd {
				if c.endingThread != tid {
					t.Fatalf("endingThread %d, want the fork thread %d", c.endingThread, tid)
				}
				if !threadGone(tid, 5*time.Second) {
					t.Fatalf("fork thread %d still there", tid)
				}
				return
			}
			if c.endingThread != 0 {
				t.Fatalf("endingThread %d, want none", c.endingThread)
			}
			if threadGone(tid, 50*time.Millisecond) {
				t.Fatalf("fork thread %d ended: a parent-death signal would fire", tid)
			}
		})
	}
}
