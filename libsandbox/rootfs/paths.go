package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Every path inside the container is resolved with openat2(2)
// RESOLVE_IN_ROOT from an fd of the root filesystem: a symlink or ".." in
// the image is followed as if the rootfs were "/", so it can never lead a
// mount or a device node outside (CVE-2021-30465 and its relatives).
// Magic links (/proc/self/...) are refused. Mounts are then made onto the
// fd we resolved (/proc/thread-self/fd/N, or move_mount to the fd), never
// onto a path that could be swapped after the check.
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

func openat2(dirfd int, p string, flags uint64, resolve uint64) (int, error) {
	how := unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: resolve}
	for {
		fd, err := unix.Openat2(dirfd, p, &how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "openat2", Path: p, Err: err}
		}
		return fd, nil
	}
}

// rel turns a container path into one relative to the root ("" for "/").
func rel(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// openInRoot opens p inside root (O_PATH unless flags say otherwise).
func openInRoot(root int, p string, flags uint64) (int, error) {
	r := rel(p)
	if r == "" {
		r = "."
	}
	return openat2(root, r, flags|unix.O_PATH, inRoot)
}

// mkdirAllInRoot makes the directory p and its parents inside root and
// returns an O_PATH fd of it. Each missing component is made with
// mkdirat(2) on the fd of its resolved parent.
func mkdirAllInRoot(root int, p string, mode uint32) (int, error) {
	if fd, err := openInRoot(root, p, unix.O_DIRECTORY); err == nil {
		return fd, nil
	} else if !errors.Is(err, unix.ENOENT) {
		return -1, err
	}
	parts := strings.Split(rel(p), "/")
	dir, err := openInRoot(root, "/", unix.O_DIRECTORY)
	if err != nil {
		return -1, err
	}
	for i, part := range parts {
		sofar := strings.Join(parts[:i+1], "/")
		next, err := openInRoot(root, sofar, unix.O_DIRECTORY)
		if errors.Is(err, unix.ENOENT) {
			if err := unix.Mkdirat(dir, part, mode); err != nil && err != unix.EEXIST {
				unix.Close(dir)
				return -1, &os.PathError{Op: "mkdirat", Path: "/" + sofar, Err: err}
			}
			next, err = openInRoot(root, sofar, unix.O_DIRECTORY)
		}
		unix.Close(dir)
		if err != nil {
			return -1, err
		}
		dir = next
	}
	return dir, nil
}

// createFileInRoot makes sure a non-directory exists at p inside root (an
// empty file if nothing is there) and returns an O_PATH fd of it, for a
// file bind mount.
func createFileInRoot(root int, p string) (int, error) {
	if fd, err := openInRoot(root, p, 0); err == nil {
		return fd, nil
	} else if !errors.Is(err, unix.ENOENT) {
		return -1, err
	}
	parent, err := mkdirAllInRoot(root, path.Dir(path.Clean("/"+p)), 0o755)
	if err != nil {
		return -1, err
	}
	defer unix.Close(parent)
	name := path.Base(path.Clean("/" + p))
	fd, err := unix.Openat(parent, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil && err != unix.EEXIST {
		return -1, &os.PathError{Op: "create", Path: p, Err: err}
	}
	if err == nil {
		unix.Close(fd)
	}
	return openInRoot(root, p, 0)
}

// fdPath names an fd for system calls that take a path (mount(2)); the
// kernel follows the magic link to exactly the file we opened.
func fdPath(fd int) string {
	return "/proc/thread-self/fd/" + strconv.Itoa(fd)
}

func isDir(fd int) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, err
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

func wrap(op, p string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", op, p, err)
}
