package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/mountinfo"
)

// Pivot makes the rootfs the root of the mount namespace and detaches the
// old root. With noPivot it moves the rootfs onto / and chroots instead
// (for a rootfs on a ramdisk, where pivot_root(2) fails).
func (r *Root) Pivot(noPivot bool) error {
	if noPivot {
		return r.moveRoot()
	}
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/", Err: err}
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(r.path, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: r.path, Err: err}
	}
	defer unix.Close(newroot)
	if err := unix.Fchdir(newroot); err != nil {
		return fmt.Errorf("chdir to rootfs: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one,
	// so no directory in the image is needed for it (runc, crun).
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Unmounts must not propagate to the host: slave first, then detach.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	r.path = "/"
	return r.reopen()
}

func (r *Root) moveRoot() error {
	if err := hideHostProcSys(r.path); err != nil {
		return fmt.Errorf("no-pivot: %w", err)
	}
	if err := unix.Chdir(r.path); err != nil {
		return fmt.Errorf("chdir to rootfs: %w", err)
	}
	if err := unix.Mount(r.path, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs onto /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	r.path = "/"
	return r.reopen()
}

// maxHidePasses bounds how many times hideHostProcSys reads the mount
// table: each pass removes or covers at least one mount, and it takes one
// pass per mount stacked at the same place.
const maxHidePasses = 16

// hideHostProcSys unmounts, before --no-pivot moves the rootfs onto "/"
// and chroots, the host's procfs and sysfs mounts. The kernel lets a user
// namespace mount a procfs or a sysfs only if its mount namespace holds
// an instance of it that is fully visible: the filesystem's root, with
// no locked mount over a non-empty directory of it (mount_too_revealing,
// mnt_already_visible in fs/namespace.c), so that a fresh mount cannot
// shed the masks a container got. pivot_root detaches the old root and
// the host's mounts with it; chroot leaves them in the mount namespace,
// out of reach of the container's paths but not of that check, and a
// container that makes a user namespace of its own could mount a procfs
// or a sysfs without masks. runc's msMoveRoot does the same
// (libcontainer/rootfs_linux.go).
//
// A mount that cannot be unmounted (locked: the container has a user
// namespace of its own) is covered with an empty read-only tmpfs, which
// a user namespace made in the container finds locked over it. Removing
// the top mount at a path may uncover another one: the mount table is
// read again until none is left. A mount that is out of reach by its
// path (under another mount) is an error: we cannot hide it, and a
// --no-pivot container would not be what the caller asked for.
//
// Preconditions: before the chroot; mount points are paths from our root.
func hideHostProcSys(rootfs string) error {
	// Opened once: the host's /proc is among what goes. Reading a
	// mountinfo file again from its start shows the table as it is then.
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	for pass := 0; ; pass++ {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		infos, err := mountinfo.Parse(f)
		if err != nil {
			return err
		}
		left := revealing(infos, rootfs)
		if len(left) == 0 {
			return nil
		}
		if pass == maxHidePasses {
			return fmt.Errorf("the host's %s at %s is still mounted after %d passes", left[0].FSType, left[0].Point, pass)
		}
		progress := false
		for _, in := range left {
			done, err := hideMount(in)
			if err != nil {
				return fmt.Errorf("hide the host's %s at %s: %w", in.FSType, in.Point, err)
			}
			progress = progress || done
		}
		if !progress {
			return fmt.Errorf("the host's %s at %s is under another mount, out of reach: it cannot be hidden from a --no-pivot container", left[0].FSType, left[0].Point)
		}
	}
}

// revealing returns the procfs and sysfs mounts of infos that would let
// a user namespace mount a fresh one: the filesystem's root is mounted
// (Root "/"), no mount is stacked on it (a stacked mount is locked in a
// user namespace's copy of the table, and hides it from the kernel's
// check already) and it is outside the rootfs (the container's own
// /proc and /sys have masks for that).
func revealing(infos []mountinfo.Info, rootfs string) []mountinfo.Info {
	type place struct {
		parent int
		point  string
	}
	stacked := map[place]bool{}
	for _, in := range infos {
		stacked[place{in.Parent, in.Point}] = true
	}
	var out []mountinfo.Info
	for _, in := range infos {
		if in.FSType != "proc" && in.FSType != "sysfs" || in.Root != "/" {
			continue
		}
		if in.Point == rootfs || strings.HasPrefix(in.Point, strings.TrimSuffix(rootfs, "/")+"/") {
			continue
		}
		if stacked[place{in.ID, in.Point}] {
			continue
		}
		out = append(out, in)
	}
	return out
}

// hideMount unmounts in, or covers it with an empty tmpfs if it cannot
// be unmounted. done is false if in is not the mount its path leads to
// now (gone with a parent unmounted before it, or under another mount).
func hideMount(in mountinfo.Info) (done bool, _ error) {
	fd, err := unix.Open(in.Point, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return false, nil
	}
	if err != nil {
		return false, &os.PathError{Op: "open", Path: in.Point, Err: err}
	}
	defer unix.Close(fd)
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx); err != nil {
		return false, &os.PathError{Op: "statx", Path: in.Point, Err: err}
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 || stx.Mnt_id != uint64(in.ID) {
		return false, nil
	}
	// Nothing we do here may reach the host: with rootfsPropagation
	// "shared" or "rshared" its mounts are still our peers.
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Propagation: unix.MS_SLAVE}); err != nil {
		return false, fmt.Errorf("make it rslave: %w", err)
	}
	err = unix.Unmount(in.Point, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
	if err == nil {
		return true, nil
	}
	// EINVAL: locked, it came with our user namespace's copy of the
	// host's mounts, and may be covered but not removed.
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
		return false, fmt.Errorf("unmount: %w", err)
	}
	if err := coverWithTmpfs(fd); err != nil {
		return false, err
	}
	return true, nil
}

// coverWithTmpfs mounts an empty read-only tmpfs onto the directory fd
// refers to.
func coverWithTmpfs(fd int) error {
	mnt, err := emptyTmpfs()
	if err != nil {
		return err
	}
	defer unix.Close(mnt)
	return moveMount(mnt, fd, "tmpfs")
}

// emptyTmpfs makes a detached, empty, read-only tmpfs mount. It is made
// with the new mount API: after the pivot there may be no /proc to name
// an fd by.
func emptyTmpfs() (int, error) {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("fsconfig create tmpfs: %w", err)
	}
	mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return -1, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	return mnt, nil
}

// moveMount attaches the mount tree onto the file fd refers to; what
// names the tree for errors.
func moveMount(tree, fd int, what string) error {
	if err := unix.MoveMount(tree, "", fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount %s: %w", what, err)
	}
	return nil
}

func (r *Root) reopen() error {
	unix.Close(r.fd)
	r.fd = -1
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/", Err: err}
	}
	r.fd = fd
	return nil
}

// Restrict applies linux.readonlyPaths and linux.maskedPaths. It runs
// after every mount and before the pivot, while the host's /dev/null is
// still in our mount namespace: null is an fd of it, opened and checked
// (major 1, minor 3) before any container mount was made, so a
// /dev/null in the container that is really a symlink cannot be used to
// mount something else over a masked path (CVE-2025-31133).
func (r *Root) Restrict(readonlyPaths, maskedPaths []string, null int) error {
	for _, p := range readonlyPaths {
		if err := r.readonlyPath(p); err != nil {
			return fmt.Errorf("linux.readonlyPaths %s: %w", p, err)
		}
	}
	m := &masks{null: null, dir: -1}
	defer m.close()
	// A path listed twice is masked once (runc 1.5, maskPaths).
	seen := map[string]bool{}
	for _, p := range maskedPaths {
		if seen[path.Clean(p)] {
			continue
		}
		seen[path.Clean(p)] = true
		if err := r.maskPath(p, m); err != nil {
			// runc's words: "can't mask path %q".
			return fmt.Errorf("linux.maskedPaths: can't mask path %q: %w", p, err)
		}
	}
	return nil
}

// masks are what maskPath mounts over a masked path: the null device
// over a file, and over a directory one empty read-only tmpfs, made for
// the first and cloned for the others, as runc 1.5 binds the first one
// over the others: a mask is nothing, and one is enough.
type masks struct {
	null int // the host's /dev/null, checked (OpenNull)
	dir  int // the tmpfs over the first masked directory, or -1
}

func (m *masks) close() {
	if m.dir >= 0 {
		unix.Close(m.dir)
	}
}

// Finish applies, after the pivot, what must come last: the read-only
// tmpfs and /dev mounts (see mount), the read-only root and the root's
// final propagation.
func (r *Root) Finish(readonly bool, propagation string) error {
	for len(r.lateRO) > 0 {
		l := r.lateRO[0]
		flags := uint(unix.AT_EMPTY_PATH)
		if l.rec {
			flags |= unix.AT_RECURSIVE
		}
		err := unix.MountSetattr(l.fd, "", flags, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
		unix.Close(l.fd)
		r.lateRO = r.lateRO[1:]
		if err != nil {
			return fmt.Errorf("%s: make read-only: %w", l.what, err)
		}
	}
	if readonly {
		if err := unix.MountSetattr(r.fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			return fmt.Errorf("root.readonly: remount / read-only: %w", err)
		}
	}
	if propagation != "" {
		flag, _ := PropagationFlags(propagation)
		// runc applies shared and private to the new root as well.
		// Unbindable can only be applied here: Prepare had to bind
		// the rootfs, which an unbindable mount forbids.
		if flag&(unix.MS_SHARED|unix.MS_PRIVATE|unix.MS_UNBINDABLE) != 0 {
			if err := unix.Mount("", "/", "", flag, ""); err != nil {
				return fmt.Errorf("linux.rootfsPropagation %s: %w", propagation, err)
			}
		}
	}
	return nil
}

func (r *Root) readonlyPath(p string) error {
	fd, err := openInRoot(r.fd, p, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	tree, err := unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	if err := unix.MoveMount(tree, "", fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

func (r *Root) maskPath(p string, m *masks) error {
	fd, err := openInRoot(r.fd, p, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("a symlink that loops or leads through a magic link (/proc/PID/fd/...), which is not followed: %w", err)
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	dir, err := isDir(fd)
	if err != nil {
		return err
	}
	if dir && m.dir < 0 {
		mnt, err := emptyTmpfs()
		if err != nil {
			return err
		}
		if err := moveMount(mnt, fd, "tmpfs"); err != nil {
			unix.Close(mnt)
			return err
		}
		// mnt now refers to the attached tmpfs: the source of the
		// clones over the other directories.
		m.dir = mnt
		return nil
	}
	src, what := m.null, "/dev/null"
	if dir {
		src, what = m.dir, "the masks' tmpfs"
	}
	tree, err := unix.OpenTree(src, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", what, err)
	}
	defer unix.Close(tree)
	return moveMount(tree, fd, what)
}

// OpenNull opens the host's /dev/null and checks it is the null device.
func OpenNull() (int, error) {
	fd, err := unix.Open("/dev/null", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/dev/null", Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		unix.Close(fd)
		return -1, errors.New("/dev/null is not the null device")
	}
	return fd, nil
}
