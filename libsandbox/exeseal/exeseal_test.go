package exeseal

import (
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

// The exec-only copy is made once, read-only through its overlay, and
// checked at each use: an entry that is not exec-only is removed and
// the memfd taken instead.
func TestOpenExecOnlyCached(t *testing.T) {
	requireRoot(t)
	cache := filepath.Join(t.TempDir(), "exe")
	scratch := t.TempDir()
	open := func() (*os.File, string, unix.Stat_t) {
		t.Helper()
		f, how, err := OpenExecOnlyCached(cache, scratch)
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		return f, how, st
	}
	f1, how, st1 := open()
	defer f1.Close()
	if how != "cached" {
		t.Skipf("no overlayfs over %s here: %s", cache, how)
	}
	if st1.Mode&0o7777 != 0o111 || st1.Uid != 0 || st1.Gid != 0xfffffffe {
		t.Fatalf("the copy is %o %d:%d, want 111 0:4294967294", st1.Mode&0o7777, st1.Uid, st1.Gid)
	}
	var self unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &self); err != nil || self.Size != st1.Size {
		t.Fatalf("the copy has %d bytes, the binary %d (%v)", st1.Size, self.Size, err)
	}
	if w, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f1.Fd())), os.O_WRONLY, 0); err == nil || !errors.Is(err, unix.EROFS) {
		if w != nil {
			w.Close()
		}
		t.Fatalf("the copy opened for writing through /proc/self/fd: %v", err)
	}
	ents, _ := filepath.Glob(filepath.Join(cache, "exe-*", cachedName))
	if len(ents) != 1 {
		t.Fatalf("cache entries %v, want one", ents)
	}
	var real1 unix.Stat_t
	if err := unix.Stat(ents[0], &real1); err != nil {
		t.Fatal(err)
	}
	// Made once: the second call seals the same file.
	f2, how, _ := open()
	f2.Close()
	var real2 unix.Stat_t
	if err := unix.Stat(ents[0], &real2); err != nil || how != "cached" || real2.Ino != real1.Ino {
		t.Fatalf("second call: %s, inode %d then %d (%v)", how, real1.Ino, real2.Ino, err)
	}
	// A copy anyone may read is never executed: removed, and the memfd.
	if err := os.Chmod(ents[0], 0o755); err != nil {
		t.Fatal(err)
	}
	f3, how, st3 := open()
	f3.Close()
	if how != "memfd" || st3.Mode&0o7777 != 0o111 {
		t.Fatalf("a readable entry: got %s, mode %o; want memfd, 111", how, st3.Mode&0o7777)
	}
	if _, err := os.Stat(filepath.Dir(ents[0])); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the readable entry was kept: %v", err)
	}
	// Old entries beyond maxExeCache go, oldest first, and so do
	// leftovers of interrupted copies.
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
	f4, how, _ := open()
	f4.Close()
	names, _ := filepath.Glob(filepath.Join(cache, "*"))
	dots, _ := filepath.Glob(filepath.Join(cache, ".*"))
	var base []string
	for _, n := range append(names, dots...) {
		base = append(base, filepath.Base(n))
	}
	want := fmt.Sprint([]string{filepath.Base(filepath.Dir(ents[0])), "exe-old3", "exe-old4", "exe-old5"})
	sort.Strings(base)
	if how != "cached" || fmt.Sprint(base) != want {
		t.Fatalf("after eviction: %s, %v; want cached, %s", how, base, want)
	}
}
