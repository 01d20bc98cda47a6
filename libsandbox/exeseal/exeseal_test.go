package exeseal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
