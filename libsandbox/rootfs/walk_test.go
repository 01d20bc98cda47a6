package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fdTarget returns where fd is, relative to root.
func fdTarget(t *testing.T, root string, fd int) string {
	t.Helper()
	got, err := os.Readlink(fdPath(fd))
	if err != nil {
		t.Fatal(err)
	}
	r, err := filepath.Rel(root, got)
	if err != nil {
		t.Fatal(err)
	}
	return "/" + filepath.ToSlash(r)
}

// TestMkdirAllInRootSymlinks checks that missing directories behind
// symlinks, dangling ones included, are made inside the root, where the
// container will see the path, and never outside it.
func TestMkdirAllInRootSymlinks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		links map[string]string // link -> target, made before the call
		path  string
		want  string // where the result is, inside root
		err   error
	}{
		{name: "plain", path: "/a/b/c", want: "/a/b/c"},
		{name: "dot dot stays in root", path: "/../../a", want: "/a"},
		// $OUT is a directory outside the root.
		{name: "dangling absolute", links: map[string]string{"evil": "$OUT/dir"}, path: "/evil", want: "$OUT/dir"},
		{name: "dangling relative escape", links: map[string]string{"evil": "../../../../../../../..$OUT"}, path: "/evil/sub", want: "$OUT/sub"},
		{name: "link in the middle", links: map[string]string{"d/l": "../x"}, path: "/d/l/y", want: "/x/y"},
		{name: "chain", links: map[string]string{"l1": "l2", "l2": "/z"}, path: "/l1/w", want: "/z/w"},
		{name: "loop", links: map[string]string{"l1": "l2", "l2": "l1"}, path: "/l1", err: unix.ELOOP},
		// The parent exists (mkdirInParent): through a symlink, p is
		// made where the link leads inside the root.
		{name: "parent through a link", links: map[string]string{"d/up": "/", "e/x": "y"}, path: "/d/up/e/new", want: "/e/new"},
		{name: "parent through an escaping link", links: map[string]string{"d/up": "../../../../..", "d/x": "y"}, path: "/d/up/d/new", want: "/d/new"},
		{name: "dangling link at p, parent there", links: map[string]string{"d/l": "/made/here"}, path: "/d/l", want: "/made/here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			outside := t.TempDir()
			for l, target := range tc.links {
				p := filepath.Join(root, l)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(strings.ReplaceAll(target, "$OUT", outside), p); err != nil {
					t.Fatal(err)
				}
			}
			rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(rfd)
			fd, err := mkdirAllInRoot(rfd, tc.path, 0o755)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("mkdirAllInRoot(%q) = %v, want %v", tc.path, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("mkdirAllInRoot(%q): %v", tc.path, err)
			}
			defer unix.Close(fd)
			if got, want := fdTarget(t, root, fd), strings.ReplaceAll(tc.want, "$OUT", outside); got != want {
				t.Errorf("mkdirAllInRoot(%q) made %s, want %s", tc.path, got, want)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Errorf("something was made outside the root")
			}
		})
	}
}

func TestCreateFileInRootSymlink(t *testing.T) {
	root := t.TempDir()
	if err := os.Symlink("/etc/../some/file", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	fd, err := createFileInRoot(rfd, "/link")
	if err != nil {
		t.Fatalf("createFileInRoot: %v", err)
	}
	defer unix.Close(fd)
	if got, want := fdTarget(t, root, fd), "/some/file"; got != want {
		t.Errorf("createFileInRoot made %s, want %s", got, want)
	}
	if fi, err := os.Lstat(filepath.Join(root, "some/file")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("want a regular file at /some/file: %v %v", fi, err)
	}
}

// TestWalkerRefusesProcfsLinks checks that no link on procfs is followed:
// the text of a magic link (/proc/self/fd/N) is not where it leads.
func TestWalkerRefusesProcfsLinks(t *testing.T) {
	fdDir, err := unix.Open("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no procfs: %v", err)
	}
	w := &walker{stack: []int{fdDir}}
	defer w.close()
	target, err := w.follow("0", "/proc/self/fd/0")
	if !errors.Is(err, unix.ELOOP) {
		t.Errorf("follow(/proc/self/fd/0) = %q, %v; want ELOOP", target, err)
	}
}
