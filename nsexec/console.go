package nsexec

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// setupConsole makes a pty from the container's devpts (after the pivot),
// makes its peer the process's stdio and controlling terminal, and
// returns the master for the runtime. The peer is also bind-mounted onto
// /dev/console, which must be a plain file or absent: a symlink there
// would let the image redirect the bind mount anywhere in the container
// (CVE-2025-52565).
func setupConsole(mountConsole bool) (master *os.File, retErr error) {
	how := unix.OpenHow{Flags: unix.O_RDWR | unix.O_NOCTTY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	mfd, err := unix.Openat2(unix.AT_FDCWD, "/dev/ptmx", &how)
	if err != nil {
		return nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	master = os.NewFile(uintptr(mfd), "/dev/ptmx")
	defer func() {
		if retErr != nil {
			master.Close()
		}
	}()
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		return nil, fmt.Errorf("unlock pty: %w", err)
	}
	// TIOCGPTPEER opens the peer of exactly this master (its argument
	// is the open flags), with no path lookup a container could race.
	r1, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), uintptr(unix.TIOCGPTPEER), uintptr(unix.O_RDWR|unix.O_NOCTTY))
	if e != 0 {
		return nil, fmt.Errorf("open pty peer: %w", e)
	}
	sfd := int(r1)
	defer unix.Close(sfd)
	if err := clearONLCR(sfd); err != nil {
		return nil, err
	}
	if mountConsole {
		if err := bindConsole(sfd); err != nil {
			return nil, err
		}
	}
	for i := 0; i < 3; i++ {
		if err := unix.Dup3(sfd, i, 0); err != nil {
			return nil, fmt.Errorf("dup pty onto fd %d: %w", i, err)
		}
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return nil, fmt.Errorf("set controlling terminal: %w", err)
	}
	return master, nil
}

func bindConsole(sfd int) error {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	dev, err := unix.Openat2(unix.AT_FDCWD, "/dev", &how)
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer unix.Close(dev)
	var st unix.Stat_t
	err = unix.Fstatat(dev, "console", &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case errors.Is(err, unix.ENOENT):
		fd, err := unix.Openat(dev, "console", unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fmt.Errorf("create /dev/console: %w", err)
		}
		unix.Close(fd)
	case err != nil:
		return fmt.Errorf("stat /dev/console: %w", err)
	case st.Mode&unix.S_IFMT == unix.S_IFLNK || st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return errors.New("/dev/console is a symlink or directory; refusing to mount the console there")
	}
	target, err := unix.Openat(dev, "console", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/console: %w", err)
	}
	defer unix.Close(target)
	tree, err := unix.OpenTree(sfd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("open_tree pty: %w", err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind pty onto /dev/console: %w", err)
	}
	return nil
}

// clearONLCR turns off the pty's NL -> CR NL output mapping, as runc does
// on its console: the runtime's caller (a terminal of its own, or a
// client such as conmon) maps line ends itself, and with ONLCR on both
// sides every line would end in "\r\r\n".
func clearONLCR(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("pty: get termios: %w", err)
	}
	t.Oflag &^= unix.ONLCR
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("pty: clear ONLCR: %w", err)
	}
	return nil
}
