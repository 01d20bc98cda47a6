package nsexec

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// reopenDevNull replaces, among fds 0-2, those that are the host's null
// device (conmon and shims give a container without stdin /dev/null) by
// the container's own /dev/null, as runc does (reOpenDevNull): otherwise
// the process holds a file of a mount outside its mount namespace, which
// CRIU cannot dump ("Can't lookup mount ... path=/dev/null"), and a
// checkpoint fails. After the pivot, so "/dev/null" is the container's;
// what is opened must be the null device itself (a symlink, or another
// node under that name in a /dev bound from elsewhere, is left alone).
func reopenDevNull() error {
	var null unix.Stat_t
	isNull := func(st *unix.Stat_t) bool {
		return st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 3
	}
	var fds []int
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && isNull(&st) {
			fds = append(fds, fd)
		}
	}
	if len(fds) == 0 {
		return nil
	}
	how := unix.OpenHow{Flags: unix.O_RDWR | unix.O_NOCTTY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS}
	f, err := unix.Openat2(unix.AT_FDCWD, "/dev/null", &how)
	if err != nil {
		// No /dev/null in the container: the host's stays.
		return nil
	}
	defer unix.Close(f)
	if err := unix.Fstat(f, &null); err != nil || !isNull(&null) {
		return nil
	}
	for _, fd := range fds {
		if err := unix.Dup3(f, fd, 0); err != nil {
			return fmt.Errorf("reopen /dev/null as fd %d: %w", fd, err)
		}
	}
	return nil
}
