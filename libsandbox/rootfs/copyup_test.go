package rootfs

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCopyTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	old := unix.Umask(0)
	defer unix.Umask(old)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "a/b"), 0o750))
	must(unix.Chmod(filepath.Join(src, "a"), 0o1777))
	must(os.WriteFile(filepath.Join(src, "a/b/file"), []byte("content"), 0o640))
	must(unix.Chmod(filepath.Join(src, "a/b/file"), 0o4750))
	must(os.Symlink("../outside", filepath.Join(src, "a/link")))
	must(unix.Mkfifo(filepath.Join(src, "fifo"), 0o600))
	must(os.WriteFile(filepath.Join(src, "top"), nil, 0o444))

	s, err := unix.Open(src, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(err)
	defer unix.Close(s)
	d, err := unix.Open(dst, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(err)
	defer unix.Close(d)
	must(copyTree(s, d))

	for _, tc := range []struct {
		path string
		mode os.FileMode
	}{
		{"a", os.ModeDir | os.ModeSticky | 0o777},
		{"a/b", os.ModeDir | 0o750},
		{"a/b/file", os.ModeSetuid | 0o750},
		{"a/link", os.ModeSymlink | 0o777},
		{"fifo", os.ModeNamedPipe | 0o600},
		{"top", 0o444},
	} {
		fi, err := os.Lstat(filepath.Join(dst, tc.path))
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if fi.Mode() != tc.mode {
			t.Errorf("%s: got mode %v, want %v", tc.path, fi.Mode(), tc.mode)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dst, "a/b/file")); err != nil || string(b) != "content" {
		t.Errorf("a/b/file: got %q, %v; want %q", b, err, "content")
	}
	if l, err := os.Readlink(filepath.Join(dst, "a/link")); err != nil || l != "../outside" {
		t.Errorf("a/link: got %q, %v; want %q", l, err, "../outside")
	}
	// A second copy into the same place fails rather than overwriting.
	if err := copyTree(s, d); err == nil {
		t.Errorf("copyTree into a non-empty directory: got nil error, want EEXIST")
	}
}
