package exeseal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: mounts an overlayfs")
	}
}

// A sealed copy must be the running binary and must not open for writing
// through /proc/self/fd (what a container does with /proc/PID/exe).
func TestSealedCannotBeWritten(t *testing.T) {
	requireRoot(t)
	for name, open := range map[string]func() (*os.File, error){
		"overlayfs": func() (*os.File, error) {
			exe, _ := os.Readlink("/proc/self/exe")
			return overlay(exe, t.TempDir())
		},
		"memfd": memfd,
	} {
		t.Run(name, func(t *testing.T) {
			f, err := open()
			if err != nil {
				t.Skipf("%s not usable here: %v", name, err)
			}
			defer f.Close()
			var a, b unix.Stat_t
			if err := unix.Fstat(int(f.Fd()), &a); err != nil {
				t.Fatal(err)
			}
			if err := unix.Stat("/proc/self/exe", &b); err != nil {
				t.Fatal(err)
			}
			if a.Size != b.Size {
				t.Fatalf("sealed size %d, want the binary's %d", a.Size, b.Size)
			}
			// An overlay without upper layer refuses the open; a sealed
			// memfd may open but refuses the write (F_SEAL_WRITE).
			w, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.O_WRONLY, 0)
			if err == nil {
				_, err = w.Write([]byte("x"))
				w.Close()
				if err == nil {
					t.Fatal("wrote to the sealed binary")
				}
			}
			if !errors.Is(err, unix.EROFS) && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.ETXTBSY) {
				t.Fatalf("open for writing: got %v, want EROFS/EPERM", err)
			}
		})
	}
}

// Reexec replaces the process (same pid) with one that runs from a sealed
// copy, which Open then returns instead of sealing it again.
func TestReexec(t *testing.T) {
	requireRoot(t)
	if os.Getenv("GO_WANT_HELPER_PROCESS") == "1" {
		before := os.Getpid()
		if err := Reexec(os.Getenv("SCRATCH")); err != nil {
			fmt.Println("reexec:", err)
			os.Exit(1)
		}
		f, how, err := Open(os.Getenv("SCRATCH"))
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(1)
		}
		f.Close()
		fmt.Printf("pid %d %s %s\n", before, how, os.Getenv(sealedEnv))
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReexec$")
	cmd.Env = append(os.Environ(), "GO_WANT_HELPER_PROCESS=1", "SCRATCH="+t.TempDir(),
		// A stray mark from the caller does not stop the sealing.
		sealedEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v: %s", err, out)
	}
	got := strings.TrimSpace(string(out))
	if want := fmt.Sprintf("pid %d running", cmd.Process.Pid); got != want {
		t.Fatalf("got %q, want %q (same pid, running from the sealed copy, mark gone)", got, want)
	}
}

// The cost of each method per container start (run with -bench).
func BenchmarkOverlay(b *testing.B) {
	requireRoot(b)
	exe, _ := os.Readlink("/proc/self/exe")
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		f, err := overlay(exe, dir)
		if err != nil {
			b.Skip(err)
		}
		f.Close()
	}
}

func BenchmarkMemfd(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, err := memfd()
		if err != nil {
			b.Skip(err)
		}
		f.Close()
	}
}

// A state directory under the binary's own directory (a runtime in /tmp,
// its state in /tmp/...) must not push sealing to the slow memfd copy.
func TestOverlayWhenScratchIsUnderTheBinary(t *testing.T) {
	requireRoot(t)
	exe, _ := os.Readlink("/proc/self/exe")
	scratch, err := os.MkdirTemp(filepath.Dir(exe), "scratch")
	if err != nil {
		t.Skipf("cannot make a directory next to the test binary: %v", err)
	}
	defer os.RemoveAll(scratch)
	f, method, err := Open(scratch)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if method != "overlayfs" {
		t.Fatalf("method %q, want overlayfs", method)
	}
}

// The exec-only copy is made once per build, read-only through its
// overlay, and checked at each use: an entry that is not what the cache
// makes is removed and made again, with a warning.
func TestOpenExecOnlyCached(t *testing.T) {
	requireRoot(t)
	cache := filepath.Join(t.TempDir(), "exe")
	scratch := t.TempDir()
	open := func() (*os.File, string, error, unix.Stat_t) {
		t.Helper()
		f, how, warn, err := OpenExecOnlyCached(cache, scratch)
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return f, how, warn, st
	}
	_, how, warn, st1 := open()
	if how != "cached" || warn != nil {
		t.Skipf("no overlayfs over %s here: %s (%v)", cache, how, warn)
	}
	if st1.Mode&0o7777 != 0o111 || st1.Uid != 0 || st1.Gid != 0xfffffffe {
		t.Fatalf("the copy is %o %d:%d, want 111 0:4294967294", st1.Mode&0o7777, st1.Uid, st1.Gid)
	}
	var self unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &self); err != nil || self.Size != st1.Size {
		t.Fatalf("the copy has %d bytes, the binary %d (%v)", st1.Size, self.Size, err)
	}
	f, _, _, err := OpenExecOnlyCached(cache, scratch)
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.O_WRONLY, 0)
	f.Close()
	if err == nil || !errors.Is(err, unix.EROFS) {
		if w != nil {
			w.Close()
		}
		t.Fatalf("the copy opened for writing through /proc/self/fd: %v", err)
	}
	exe, _ := os.Open("/proc/self/exe")
	id, err := goBuildID(exe)
	exe.Close()
	if err != nil || !strings.Contains(id, "/") {
		t.Fatalf("build ID %q: %v", id, err)
	}
	copyPath := filepath.Join(cache, "exe-"+strings.ReplaceAll(id, "/", "."), cachedName)
	var real1 unix.Stat_t
	if err := unix.Stat(copyPath, &real1); err != nil {
		t.Fatalf("the entry is named by the build ID: %v", err)
	}
	// Made once: the second call seals the same file.
	_, how, _, _ = open()
	var real2 unix.Stat_t
	if err := unix.Stat(copyPath, &real2); err != nil || how != "cached" || real2.Ino != real1.Ino {
		t.Fatalf("second call: %s, inode %d then %d (%v)", how, real1.Ino, real2.Ino, err)
	}
	// Entries that are not what the cache makes are made again: one
	// anyone may read, one of another build with our size and mode (a
	// stale entry: the file's bytes decide, not its name), one gone.
	for i, spoil := range []func() error{
		func() error { return os.Chmod(copyPath, 0o755) },
		func() error {
			b, err := os.ReadFile(copyPath)
			if err != nil {
				return err
			}
			i := bytes.Index(b, []byte(id))
			b[i+len(id)-1] ^= 1
			return os.WriteFile(copyPath, b, 0)
		},
		func() error { return os.Remove(copyPath) },
	} {
		if err := spoil(); err != nil {
			t.Fatal(err)
		}
		_, how, warn, st := open()
		var real unix.Stat_t
		if err := unix.Stat(copyPath, &real); err != nil || how != "cached" || st.Mode&0o7777 != 0o111 {
			t.Fatalf("a spoilt entry: got %s, mode %o (%v)", how, st.Mode&0o7777, err)
		}
		if real.Mode&0o7777 != 0o111 {
			t.Fatalf("the spoilt entry was kept: mode %o", real.Mode&0o7777)
		}
		if b, _ := os.ReadFile(copyPath); !bytes.Contains(b, []byte(id)) {
			t.Fatal("the spoilt entry was kept: not our build")
		}
		if wantWarn := i < 2; (warn != nil) != wantWarn {
			t.Fatalf("spoilt entry %d: warning %v, want one: %v", i, warn, wantWarn)
		}
	}
	// Old entries beyond maxExeCache go, least recently used first,
	// and so do leftovers of interrupted copies.
	for i := 0; i < 6; i++ {
		d := filepath.Join(cache, fmt.Sprintf("exe-old%d", i))
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Duration(10-i) * time.Hour)
		os.Chtimes(d, old, old)
	}
	leftover := filepath.Join(cache, ".new-x")
	os.Mkdir(leftover, 0o700)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(leftover, old, old)
	os.RemoveAll(filepath.Dir(copyPath))
	_, how, _, _ = open()
	names, _ := filepath.Glob(filepath.Join(cache, "*"))
	dots, _ := filepath.Glob(filepath.Join(cache, ".*"))
	var base []string
	for _, n := range append(names, dots...) {
		base = append(base, filepath.Base(n))
	}
	want := []string{filepath.Base(filepath.Dir(copyPath)), "exe-old3", "exe-old4", "exe-old5"}
	sort.Strings(want)
	sort.Strings(base)
	if how != "cached" || fmt.Sprint(base) != fmt.Sprint(want) {
		t.Fatalf("after eviction: %s, %v; want cached, %s", how, base, want)
	}
}
