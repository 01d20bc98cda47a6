package sealfd

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDirBase(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/b", "/usr/local/bin/sandbox-runtime", "/a b/c:d,e"} {
		if got, want := Dir(p), filepath.Dir(p); got != want {
			t.Errorf("Dir(%q) = %q, want %q", p, got, want)
		}
		if p == "/" {
			continue
		}
		if got, want := Base(p), filepath.Base(p); got != want {
			t.Errorf("Base(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestEscapeLowerDir(t *testing.T) {
	if got, want := escapeLowerDir(`/a:b,c\d`), `/a\:b\,c\\d`; got != want {
		t.Errorf("escapeLowerDir = %q, want %q", got, want)
	}
}

func TestConstants(t *testing.T) {
	for _, c := range []struct {
		name      string
		ours, sys int
	}{
		{"SYS_FSOPEN", sysFsopen, unix.SYS_FSOPEN},
		{"SYS_FSCONFIG", sysFsconfig, unix.SYS_FSCONFIG},
		{"SYS_FSMOUNT", sysFsmount, unix.SYS_FSMOUNT},
		{"FSOPEN_CLOEXEC", fsopenCloexec, unix.FSOPEN_CLOEXEC},
		{"FSCONFIG_SET_STRING", fsconfigSetString, unix.FSCONFIG_SET_STRING},
		{"FSCONFIG_CMD_CREATE", fsconfigCmdCreate, unix.FSCONFIG_CMD_CREATE},
		{"FSMOUNT_CLOEXEC", fsmountCloexec, unix.FSMOUNT_CLOEXEC},
		{"MOUNT_ATTR_RDONLY", mountAttrRdonly, unix.MOUNT_ATTR_RDONLY},
		{"MOUNT_ATTR_NOSUID", mountAttrNosuid, unix.MOUNT_ATTR_NOSUID},
		{"MOUNT_ATTR_NODEV", mountAttrNodev, unix.MOUNT_ATTR_NODEV},
		{"O_PATH", oPath, unix.O_PATH},
		{"MFD_CLOEXEC", mfdCloexec, unix.MFD_CLOEXEC},
		{"MFD_ALLOW_SEALING", mfdAllowSealing, unix.MFD_ALLOW_SEALING},
		{"MFD_EXEC", mfdExec, unix.MFD_EXEC},
		{"F_ADD_SEALS", fAddSeals, unix.F_ADD_SEALS},
		{"seals", sealAll, unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE},
	} {
		if c.ours != c.sys {
			t.Errorf("%s: ours %#x, x/sys/unix's %#x", c.name, c.ours, c.sys)
		}
	}
}

func TestMemfdConstant(t *testing.T) {
	if sysMemfdCreate >= 0 && sysMemfdCreate != unix.SYS_MEMFD_CREATE {
		t.Errorf("SYS_MEMFD_CREATE: ours %d, x/sys/unix's %d", sysMemfdCreate, unix.SYS_MEMFD_CREATE)
	}
}

// TestMemfd: the copy is the running binary, byte for byte, and can no
// longer be changed.
func TestMemfd(t *testing.T) {
	requireMemfd(t)
	fd, err := Memfd()
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "memfd")
	defer f.Close()
	got, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<40))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the copy has %d bytes, the binary %d, or they differ", len(got), len(want))
	}
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil || seals != sealAll {
		t.Fatalf("seals %#x (%v), want %#x", seals, err, sealAll)
	}
	if _, err := f.WriteAt([]byte{0}, 0); err == nil {
		t.Fatal("the sealed copy took a write")
	}
	if err := f.Truncate(1); err == nil {
		t.Fatal("the sealed copy could be shrunk")
	}
}

// TestMemfdExecutableUnderNoexec: with vm.memfd_noexec=1 (per pid
// namespace, 6.3+), a memfd made without MFD_EXEC cannot be executed;
// ours must be. In a new pid namespace with the sysctl set, the test
// binary seals itself and executes the copy (running no test).
func TestMemfdExecutableUnderNoexec(t *testing.T) {
	if os.Getenv("SEALFD_EXEC_COPY") == "1" {
		fd, err := Memfd()
		if err != nil {
			t.Fatal(err)
		}
		err = syscall.Exec(FdPath(fd), []string{"copy", "-test.run=^$"}, os.Environ()[:0])
		t.Fatalf("exec the sealed copy: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("requires root: a pid namespace")
	}
	if _, err := os.Stat("/proc/sys/vm/memfd_noexec"); err != nil {
		t.Skip("the kernel has no vm.memfd_noexec (6.3+)")
	}
	requireMemfd(t)
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount", "--mount-proc", "sh", "-c",
		`echo 1 >/proc/sys/vm/memfd_noexec && exec "$0" -test.run='^TestMemfdExecutableUnderNoexec$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "SEALFD_EXEC_COPY=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

// TestMemfdExecOnly: the copy is mode 0111 (read by its owner, root, by
// capability only) and sealed as Memfd's.
func TestMemfdExecOnly(t *testing.T) {
	requireMemfd(t)
	fd, err := MemfdExecOnly()
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o111 {
		t.Fatalf("mode %#o, want 0111", st.Mode&0o7777)
	}
	if os.Geteuid() == 0 && (st.Uid != 0 || st.Gid != ExecOnlyGid) {
		t.Fatalf("owner %d:%d, want 0:%d", st.Uid, st.Gid, uint32(ExecOnlyGid))
	}
	if seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0); err != nil || seals&sealAll != sealAll {
		t.Fatalf("seals %#x (%v)", seals, err)
	}
}

func requireMemfd(t *testing.T) {
	t.Helper()
	if sysMemfdCreate < 0 {
		t.Skip("memfd_create's number is not known here for " + runtime.GOARCH)
	}
}
