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

// OpenInRoot opens p, a path of the container, O_PATH inside root, an fd
// of its root: for a look from outside (restore's check of its cgroup
// mounts) under the same rules as every path of the container.
func OpenInRoot(root int, p string) (int, error) {
	return openInRoot(root, p, 0)
}

// maxSymlinks is how many symlinks one lookup may follow (the kernel's
// MAXSYMLINKS).
const maxSymlinks = 40

// walker resolves a path inside root one component at a time, the way
// the kernel would with root as "/": each component is opened beneath its
// parent with no symlink followed; a symlink is read and its target
// spliced into the rest of the path (from the root when absolute); ".."
// goes back up the directories walked so far and stops at the root. It
// is for paths whose last directories may not exist yet, even behind a
// dangling symlink, which openat2(RESOLVE_IN_ROOT) cannot create
// (runc's securejoin.MkdirAll does the same walk).
type walker struct {
	stack []int // O_PATH fds from the root down; stack[0] is the root
	links int
}

func newWalker(root int) (*walker, error) {
	fd, err := openInRoot(root, "/", unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	return &walker{stack: []int{fd}}, nil
}

func (w *walker) dir() int { return w.stack[len(w.stack)-1] }

func (w *walker) up(toRoot bool) {
	for len(w.stack) > 1 {
		unix.Close(w.stack[len(w.stack)-1])
		w.stack = w.stack[:len(w.stack)-1]
		if !toRoot {
			return
		}
	}
}

func (w *walker) close() {
	for _, fd := range w.stack {
		unix.Close(fd)
	}
	w.stack = nil
}

// take hands the current directory's fd to the caller.
func (w *walker) take() int {
	fd := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	return fd
}

// follow reads the symlink name in the current directory and returns its
// target's components, having gone back to the root for an absolute one.
func (w *walker) follow(name, p string) ([]string, error) {
	w.links++
	if w.links > maxSymlinks {
		return nil, &os.PathError{Op: "resolve", Path: p, Err: unix.ELOOP}
	}
	// A link on procfs may be a magic link (/proc/self/fd/N), whose
	// text is a host path or "socket:[...]", not where it leads: never
	// follow one (openat2 RESOLVE_NO_MAGICLINKS refuses them too).
	var fs unix.Statfs_t
	if err := unix.Fstatfs(w.dir(), &fs); err != nil {
		return nil, &os.PathError{Op: "statfs", Path: p, Err: err}
	}
	if fs.Type == unix.PROC_SUPER_MAGIC {
		return nil, &os.PathError{Op: "resolve", Path: p, Err: unix.ELOOP}
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(w.dir(), name, buf)
	if err != nil {
		return nil, &os.PathError{Op: "readlinkat", Path: name, Err: err}
	}
	target := string(buf[:n])
	if strings.HasPrefix(target, "/") {
		w.up(true)
	}
	return strings.Split(target, "/"), nil
}

// walk descends through the directories parts, making missing ones with
// mode when mkdir is set. p is for errors.
func (w *walker) walk(parts []string, p string, mkdir bool, mode uint32) error {
	made := false
	for len(parts) > 0 {
		part := parts[0]
		switch part {
		case "", ".":
			parts = parts[1:]
			continue
		case "..":
			w.up(false)
			parts = parts[1:]
			continue
		}
		fd, err := openat2(w.dir(), part, unix.O_PATH|unix.O_DIRECTORY, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
		switch {
		case err == nil:
			w.stack = append(w.stack, fd)
			parts, made = parts[1:], false
		case errors.Is(err, unix.ELOOP):
			target, err := w.follow(part, p)
			if err != nil {
				return err
			}
			parts = append(target, parts[1:]...)
		case errors.Is(err, unix.ENOENT) && mkdir && !made:
			if err := unix.Mkdirat(w.dir(), part, mode); err != nil && err != unix.EEXIST {
				return &os.PathError{Op: "mkdirat", Path: p, Err: err}
			}
			made = true // open it again, once
		default:
			return fmt.Errorf("resolve %s: %w", p, err)
		}
	}
	return nil
}

// mkdirAllInRoot makes the directory p and its parents inside root and
// returns an O_PATH fd of it. A symlink on the way, dangling or not, is
// followed inside root: the directories made are where the container
// will see p.
func mkdirAllInRoot(root int, p string, mode uint32) (int, error) {
	if fd, err := openInRoot(root, p, unix.O_DIRECTORY); err == nil {
		return fd, nil
	} else if !errors.Is(err, unix.ENOENT) {
		return -1, err
	}
	if fd, ok := mkdirInParent(root, p, mode); ok {
		return fd, nil
	}
	w, err := newWalker(root)
	if err != nil {
		return -1, err
	}
	defer w.close()
	if err := w.walk(strings.Split(rel(p), "/"), p, true, mode); err != nil {
		return -1, err
	}
	return w.take(), nil
}

// mkdirInParent is mkdirAllInRoot's common case, taken before the walk:
// p's parent exists and p does not (a mount point such as /dev/pts, or
// each hierarchy's under the tmpfs of a v1 /sys/fs/cgroup). The parent is
// resolved as openInRoot resolves any path, symlinks followed inside
// root, and p is made beneath it and opened with no symlink followed. It
// gives up (ok false, nothing to close) on anything else, for the walk to
// decide: no parent, a symlink at p, dangling or made meanwhile (the
// mkdir's EEXIST, then the open's ELOOP), or an error. What it makes is
// where the walk would have made it: the walk resolves the same parent
// (but through a plain symlink on procfs, /proc/self, which the walk
// refuses; procfs takes no mkdir, so such a path goes to the walk too, a
// review checked). One openat2 of the parent's path, where the walk
// opens every component (~7 system calls fewer per hierarchy of a v1
// cgroup mount).
func mkdirInParent(root int, p string, mode uint32) (int, bool) {
	dir, name := path.Split(rel(p))
	if name == "" || name == "." || name == ".." {
		return -1, false
	}
	parent, err := openInRoot(root, dir, unix.O_DIRECTORY)
	if err != nil {
		return -1, false
	}
	defer unix.Close(parent)
	if err := unix.Mkdirat(parent, name, mode); err != nil && err != unix.EEXIST {
		return -1, false
	}
	fd, err := openat2(parent, name, unix.O_PATH|unix.O_DIRECTORY, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return -1, false
	}
	return fd, true
}

// createFileInRoot makes sure a non-directory exists at p inside root (an
// empty file if nothing is there, made where a symlink at p points) and
// returns an O_PATH fd of it, for a file bind mount.
func createFileInRoot(root int, p string) (int, error) {
	if fd, err := openInRoot(root, p, 0); err == nil {
		return fd, nil
	} else if !errors.Is(err, unix.ENOENT) {
		return -1, err
	}
	w, err := newWalker(root)
	if err != nil {
		return -1, err
	}
	defer w.close()
	parts := strings.Split(rel(p), "/")
	for {
		dirs, name := parts[:len(parts)-1], parts[len(parts)-1]
		if err := w.walk(dirs, p, true, 0o755); err != nil {
			return -1, err
		}
		if name == "" || name == "." || name == ".." {
			return -1, &os.PathError{Op: "create", Path: p, Err: unix.EISDIR}
		}
		var st unix.Stat_t
		err := unix.Fstatat(w.dir(), name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			if parts, err = w.follow(name, p); err != nil {
				return -1, err
			}
			continue
		}
		if errors.Is(err, unix.ENOENT) {
			fd, err := unix.Openat(w.dir(), name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
			if err != nil && err != unix.EEXIST {
				return -1, &os.PathError{Op: "create", Path: p, Err: err}
			}
			if err == nil {
				unix.Close(fd)
			}
		} else if err != nil {
			return -1, &os.PathError{Op: "stat", Path: p, Err: err}
		}
		return openat2(w.dir(), name, unix.O_PATH|unix.O_NOFOLLOW, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
	}
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
