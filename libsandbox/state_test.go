package libsandbox

import (
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"

	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "state.json")

	if err := writeFileAtomic(name, []byte(`{"first":"a longer first version"}`), 0o600); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := os.Chmod(name, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(name, []byte(`{"second":1}`), 0o600); err != nil {
		t.Fatalf("second write: %v", err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"second":1}`; got != want {
		t.Errorf("content: got %q, want %q", got, want)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("mode: got %v, want %v", got, want)
	}
	if got, want := dirNames(t, dir), []string{"state.json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("directory after two writes: got %q, want %q (no temporary file left)", got, want)
	}
}

func TestWriteFileAtomicMissingDir(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "gone", "state.json")
	if err := writeFileAtomic(name, []byte("x"), 0o600); err == nil {
		t.Fatalf("writeFileAtomic(%s): got nil error, want one", name)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("directory after failed write: got %q, want it empty", got)
	}
}

// The rename fails when name is a non-empty directory: the temporary file
// must go and name must be as it was.
func TestWriteFileAtomicRenameFails(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "state.json")
	if err := os.Mkdir(name, 0o700); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(name, "keep")
	if err := os.WriteFile(inside, []byte("original"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(name, []byte("new"), 0o600); err == nil {
		t.Fatalf("writeFileAtomic over a directory: got nil error, want one")
	}
	if got, want := dirNames(t, dir), []string{"state.json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("directory after failed write: got %q, want %q (temporary file removed)", got, want)
	}
	b, err := os.ReadFile(inside)
	if err != nil || string(b) != "original" {
		t.Errorf("original content: got %q, %v; want %q", b, err, "original")
	}
}

// A read-only directory: root ignores directory permissions, so as root a
// helper process makes the directory a read-only bind mount in a mount
// namespace of its own (the host's mounts are not touched).
func TestWriteFileAtomicReadOnlyDir(t *testing.T) {
	if dir := os.Getenv("SANDBOX_TEST_RO_DIR"); os.Getenv("GO_WANT_HELPER_PROCESS") == "1" && dir != "" {
		if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
			t.Fatalf("bind %s: %v", dir, err)
		}
		if err := unix.Mount("", dir, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			t.Fatalf("remount %s read-only: %v", dir, err)
		}
		err := writeFileAtomic(filepath.Join(dir, "state.json"), []byte("new"), 0o600)
		if err == nil {
			t.Fatal("writeFileAtomic in a read-only directory: got nil error, want one")
		}
		if !errors.Is(err, unix.EROFS) {
			t.Fatalf("writeFileAtomic in a read-only directory: got %v, want EROFS", err)
		}
		return
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "state.json")
	if err := os.WriteFile(name, []byte("original"), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriteFileAtomicReadOnlyDir$", "-test.count=1")
		cmd.Env = append(os.Environ(), "GO_WANT_HELPER_PROCESS=1", "SANDBOX_TEST_RO_DIR="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
	} else {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		err := writeFileAtomic(name, []byte("new"), 0o600)
		os.Chmod(dir, 0o700)
		if err == nil {
			t.Fatalf("writeFileAtomic in a read-only directory: got nil error, want one")
		}
	}
	b, err := os.ReadFile(name)
	if err != nil || string(b) != "original" {
		t.Errorf("content: got %q, %v; want %q", b, err, "original")
	}
	if got, want := dirNames(t, dir), []string{"state.json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("directory: got %q, want %q", got, want)
	}
}

func TestWriteReadState(t *testing.T) {
	dir := t.TempDir()
	want := &persisted{
		ID: "c1", Bundle: "/b", Rootfs: "/b/rootfs",
		Created:     time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		Annotations: map[string]string{"k": "v"}, OCIVersion: "1.2.0",
		InitPid: 42, InitStart: 4242,
	}
	if err := writeState(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := readState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("readState: got %+v, want %+v", got, want)
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readState(dir); err == nil || !strings.Contains(err.Error(), stateFile) {
		t.Errorf("readState of a corrupt file: got %v, want an error naming %s", err, stateFile)
	}
}

// A runc container's state.json, in the --root Docker gives every runtime
// of the runc shim: not ours, so the container does not exist for us.
func TestReadStateOfAnotherRuntime(t *testing.T) {
	dir := t.TempDir()
	runc := `{"id":"r1","init_process_pid":29011,"init_process_start":123456,"created":"2026-12-03T16:05:15.213246646Z","config":{"rootfs":"/b/rootfs"},"rootless":false,"cgroup_paths":{},"namespace_paths":{},"external_descriptors":[]}`
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte(runc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readState(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("readState of runc's state.json: got %v, want an error that is os.ErrNotExist", err)
	}
	// Ours while creating: the creator only.
	if err := writeState(dir, &persisted{ID: "c1", CreatorPid: 7, CreatorStart: 77}); err != nil {
		t.Fatal(err)
	}
	if _, err := readState(dir); err != nil {
		t.Errorf("readState of a creating state: got %v, want none", err)
	}
}

// self returns the test process's pid and start time: a live process.
func self(t *testing.T) (int, uint64) {
	t.Helper()
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return os.Getpid(), st.StartTime
}

// deadProcess starts a process, notes its start time, kills and reaps
// it: its pid and start time name a process that is gone.
func deadProcess(t *testing.T) (int, uint64) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st, err := readProcStat(cmd.Process.Pid)
	cmd.Process.Kill()
	cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid, st.StartTime
}

// zombie starts a process that exits and is not reaped until the test
// ends.
func zombie(t *testing.T) (int, uint64) {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Wait() })
	pid := cmd.Process.Pid
	for i := 0; i < 1000; i++ {
		st, err := readProcStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == 'Z' {
			return pid, st.StartTime
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("child did not become a zombie")
	return 0, 0
}

func TestStatus(t *testing.T) {
	pid, start := self(t)
	deadPid, deadStart := deadProcess(t)
	zPid, zStart := zombie(t)
	// No process started before boot: a pid with this start time is a
	// recycled one.
	const recycled = 1<<63 + 1

	for _, tc := range []struct {
		name   string
		s      persisted
		fifo   bool
		frozen bool
		want   Status
	}{
		{"create in progress", persisted{CreatorPid: pid, CreatorStart: start}, false, false, Creating},
		{"create in progress, fifo made", persisted{CreatorPid: pid, CreatorStart: start}, true, false, Creating},
		{"creator dead", persisted{CreatorPid: deadPid, CreatorStart: deadStart}, true, false, Stopped},
		{"creator pid recycled", persisted{CreatorPid: pid, CreatorStart: recycled}, false, false, Stopped},
		{"no creator, no init", persisted{}, false, false, Stopped},
		{"init dead", persisted{InitPid: deadPid, InitStart: deadStart}, true, false, Stopped},
		{"init zombie", persisted{InitPid: zPid, InitStart: zStart}, true, false, Stopped},
		{"init pid recycled", persisted{InitPid: pid, InitStart: recycled}, true, false, Stopped},
		{"init waits on fifo", persisted{InitPid: pid, InitStart: start}, true, false, Created},
		{"init started", persisted{InitPid: pid, InitStart: start}, false, false, Running},
		// A live creator does not matter once init is known.
		{"init dead, creator alive", persisted{InitPid: deadPid, InitStart: deadStart, CreatorPid: pid, CreatorStart: start}, false, false, Stopped},
		{"frozen", persisted{InitPid: pid, InitStart: start}, false, true, Paused},
		{"frozen while created", persisted{InitPid: pid, InitStart: start}, true, true, Paused},
		{"frozen but dead", persisted{InitPid: deadPid, InitStart: deadStart}, false, true, Stopped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.fifo {
				if err := unix.Mkfifo(filepath.Join(dir, fifoFile), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.frozen {
				// A fake v2 cgroup whose cgroup.events says frozen.
				cg := t.TempDir()
				if err := os.WriteFile(filepath.Join(cg, "cgroup.events"), []byte("populated 1\nfrozen 1\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				tc.s.Cgroup = &cgroups.State{V2: cg}
			}
			if got := tc.s.status(dir); got != tc.want {
				t.Errorf("status: got %v, want %v", got, tc.want)
			}
		})
	}
}

// A verb waiting for the lock while the container is deleted, and another
// created under the same ID, must end up holding the new container's
// lock (or learn that there is no container), never the lock of the
// removed directory, which excludes no one.
func TestLockAfterRemoval(t *testing.T) {
	for _, recreate := range []bool{true, false} {
		dir := filepath.Join(t.TempDir(), "x")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		held, err := lock(dir)
		if err != nil {
			t.Fatal(err)
		}
		type result struct {
			f   *os.File
			err error
		}
		got := make(chan result, 1)
		go func() {
			f, err := lock(dir)
			got <- result{f, err}
		}()
		// Whether the waiter opened the old directory by now or not,
		// the outcome must be the same; the sleep makes the first case
		// (the one that was wrong) the likely one.
		time.Sleep(50 * time.Millisecond)
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		if recreate {
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		held.Close()
		var r result
		select {
		case r = <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("lock still waiting after the holder let go")
		}
		if !recreate {
			if !errors.Is(r.err, ErrNotExist) {
				t.Errorf("lock of a removed directory: got %v, want ErrNotExist", r.err)
			}
			continue
		}
		if r.err != nil {
			t.Fatalf("lock of the new directory: %v", r.err)
		}
		var locked, now unix.Stat_t
		if err := unix.Fstat(int(r.f.Fd()), &locked); err != nil {
			t.Fatal(err)
		}
		if err := unix.Stat(dir, &now); err != nil {
			t.Fatal(err)
		}
		if locked.Ino != now.Ino {
			t.Errorf("locked inode %d, but %s is inode %d now", locked.Ino, dir, now.Ino)
		}
		r.f.Close()
	}
}
