package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
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

func (r *Root) reopen() error {
	r.Close()
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
	for _, p := range maskedPaths {
		if err := r.maskPath(p, null); err != nil {
			return fmt.Errorf("linux.maskedPaths %s: %w", p, err)
		}
	}
	return nil
}

// Finish applies, after the pivot, what must come last: the read-only
// root and the root's final propagation.
func (r *Root) Finish(readonly bool, propagation string) error {
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

func (r *Root) maskPath(p string, null int) error {
	fd, err := openInRoot(r.fd, p, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	dir, err := isDir(fd)
	if err != nil {
		return err
	}
	if dir {
		// A read-only empty tmpfs, made with the new mount API: after
		// the pivot there may be no /proc to name fd by.
		fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
		if err != nil {
			return fmt.Errorf("fsopen tmpfs: %w", err)
		}
		defer unix.Close(fsfd)
		if err := unix.FsconfigCreate(fsfd); err != nil {
			return fmt.Errorf("fsconfig create tmpfs: %w", err)
		}
		mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY)
		if err != nil {
			return fmt.Errorf("fsmount tmpfs: %w", err)
		}
		defer unix.Close(mnt)
		if err := unix.MoveMount(mnt, "", fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
			return fmt.Errorf("move_mount tmpfs: %w", err)
		}
		return nil
	}
	tree, err := unix.OpenTree(null, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("open_tree /dev/null: %w", err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind /dev/null: %w", err)
	}
	return nil
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
