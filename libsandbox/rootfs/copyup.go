package rootfs

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// tmpcopyup (runc's extension, which podman uses for --read-only's tmpfs
// on /tmp, /var/tmp and /run, and for --tmpfs) gives a tmpfs the content
// of the directory it covers. We open that directory before mounting: the
// fd still reaches the covered tree afterwards, so the copy goes from fd to
// fd with *at calls, never through a path the image could redirect, and no
// temporary mount point is needed (runc mounts on a directory under /tmp
// and moves the mount).

// copyTree copies what is in the directory src into the directory dst:
// directories, regular files, symlinks and device, fifo and socket nodes,
// with their modes and owners (as runc's CopyDirectory). dst itself keeps
// the mode and owner the tmpfs gave it. Hard links become copies.
// Preconditions: src and dst are O_RDONLY|O_DIRECTORY fds, the umask is 0.
func copyTree(src, dst int) error {
	// A new open file description: dup(2) would share (and move) the
	// caller's directory offset.
	fd, err := unix.Openat(src, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), "tmpcopyup")
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read directory: %w", err)
	}
	for _, name := range names {
		if err := copyEntry(src, dst, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func copyEntry(src, dst int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	perm := st.Mode & 0o7777
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dst, name, 0o700); err != nil {
			return err
		}
		const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
		s, err := unix.Openat(src, name, dirFlags, 0)
		if err != nil {
			return err
		}
		defer unix.Close(s)
		t, err := unix.Openat(dst, name, dirFlags, 0)
		if err != nil {
			return err
		}
		defer unix.Close(t)
		if err := copyTree(s, t); err != nil {
			return err
		}
		// chown clears set-id bits: the mode comes last.
		if err := unix.Fchown(t, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
		return unix.Fchmod(t, perm)
	case unix.S_IFREG:
		s, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		in := os.NewFile(uintptr(s), name)
		defer in.Close()
		t, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		out := os.NewFile(uintptr(t), name)
		defer out.Close()
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		if err := unix.Fchown(t, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
		return unix.Fchmod(t, perm)
	case unix.S_IFLNK:
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(src, name, buf)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(string(buf[:n]), dst, name); err != nil {
			return err
		}
		return unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW)
	default:
		// Device, fifo and socket nodes.
		if err := unix.Mknodat(dst, name, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
		if err := unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		return unix.Fchmodat(dst, name, perm, 0)
	}
}
