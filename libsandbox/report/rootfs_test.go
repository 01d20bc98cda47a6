package report

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hostileRoot makes a container root the way a hostile container would
// leave it, next to a directory "outside" that stands for the host.
// Device nodes need root (mknod).
func hostileRoot(t *testing.T, devLink bool) (root string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (mknod)")
	}
	dir := t.TempDir()
	root = filepath.Join(dir, "root")
	outside := filepath.Join(dir, "outside")
	for _, d := range []string{root, filepath.Join(outside, "dev"), filepath.Join(root, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mknod := func(name string, mode uint32, major, minor uint32) {
		if err := unix.Mknod(name, mode, int(unix.Mkdev(major, minor))); err != nil {
			t.Fatal(err)
		}
	}
	// The host's: must never be listed.
	mknod(filepath.Join(outside, "dev", "sda"), unix.S_IFBLK|0o600, 8, 0)
	if devLink {
		// /dev is a symlink climbing out of the root.
		if err := os.Symlink("../../../outside/dev", filepath.Join(root, "dev")); err != nil {
			t.Fatal(err)
		}
		return root
	}
	dev := filepath.Join(root, "dev")
	os.MkdirAll(filepath.Join(dev, "pts"), 0o755)
	mknod(filepath.Join(dev, "null"), unix.S_IFCHR|0o666, 1, 3)
	mknod(filepath.Join(dev, "mem"), unix.S_IFCHR|0o600, 1, 1)
	mknod(filepath.Join(dev, "pts", "0"), unix.S_IFCHR|0o600, 136, 0)
	// A FIFO: opened, it would block the walk for ever.
	mknod(filepath.Join(dev, "fifo"), unix.S_IFIFO|0o600, 0, 0)
	// Symlinks out: to the host's dev directory and to its disk.
	os.Symlink(filepath.Join(outside, "dev"), filepath.Join(dev, "hostdev"))
	os.Symlink(filepath.Join(outside, "dev", "sda"), filepath.Join(dev, "sda"))
	os.Symlink("../../outside/dev", filepath.Join(dev, "up"))
	return root
}

func TestWalkRootHostile(t *testing.T) {
	root := hostileRoot(t, false)
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *inRootResult, 1)
	go func() { done <- walkRoot(fd, []string{"/dev/sda/../../../outside/dev/sda", "/dev/fifo", "/etc"}) }()
	var res *inRootResult
	select {
	case res = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the walk hangs (opened the FIFO?)")
	}
	unix.Close(fd)
	want := []Device{
		{Path: "/dev/mem", Type: "c", Major: 1, Minor: 1},
		{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, Default: true},
		{Path: "/dev/pts/0", Type: "c", Major: 136, Minor: 0, Default: true},
	}
	if !reflect.DeepEqual(res.devices, want) {
		t.Errorf("devices: got %+v, want %+v", res.devices, want)
	}
	// Resolved in the root, a path that climbs out through a symlink
	// stays in: the host's sda is not found from there.
	wantExists := map[string]string{"/dev/sda/../../../outside/dev/sda": "no", "/dev/fifo": "yes", "/etc": "yes"}
	if !reflect.DeepEqual(res.exists, wantExists) {
		t.Errorf("exists: got %v, want %v", res.exists, wantExists)
	}
	if len(res.errs) != 0 {
		t.Errorf("errors: %v", res.errs)
	}
}

func TestWalkRootDevSymlinkOut(t *testing.T) {
	root := hostileRoot(t, true)
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	res := walkRoot(fd, nil)
	if len(res.devices) != 0 {
		t.Errorf("devices: got %+v, want none (the host's, through a symlink out)", res.devices)
	}
}
