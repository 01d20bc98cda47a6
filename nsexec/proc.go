package nsexec

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// procfs is an fd of a procfs that init made, or opened before the
// pivot and checked to be procfs. All of init's writes to /proc go
// through it, never through the container's /proc, which the image or a
// mount of the spec may have replaced by something else (CVE-2019-16884,
// CVE-2023-27561).
type procfs struct{ fd int }

// newProcfs makes a procfs instance of init's own pid namespace with
// fsopen(2), never attached anywhere: no mount of the container can
// stand in for it, and it shows only the processes the container sees
// anyway. init holds it until it execs the user process, all the time it
// waits for `start`; the host's /proc, which an fd opened before the
// pivot would be, would give whoever reaches init's fds every process of
// the host, and through /proc/PID/root their files (CVE-2016-9962 class).
// Needs CAP_SYS_ADMIN over the pid namespace: before the capabilities
// are dropped.
func newProcfs() (*procfs, error) {
	fsfd, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("fsopen proc", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, os.NewSyscallError("fsconfig create proc", err)
	}
	fd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("fsmount proc", err)
	}
	return &procfs{fd: fd}, nil
}

// open opens a file under the procfs. Plain symlinks (self, thread-self)
// are followed; the result stays on the procfs mount.
func (p *procfs) open(name string, flags int) (*os.File, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_XDEV}
	fd, err := unix.Openat2(p.fd, name, &how)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc/" + name, Err: err}
	}
	return os.NewFile(uintptr(fd), "/proc/"+name), nil
}

// reopen opens fd N of this thread through the procfs magic link
// (thread-self/fd/N), which the kernel follows to the file itself: the
// way to get a writable fd from an O_PATH one.
func (p *procfs) reopen(fd int, flags int) (*os.File, error) {
	name := fmt.Sprintf("thread-self/fd/%d", fd)
	nfd, err := unix.Openat(p.fd, name, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc/" + name, Err: err}
	}
	return os.NewFile(uintptr(nfd), "/proc/"+name), nil
}

func (p *procfs) write(name, value string) error {
	f, err := p.open(name, unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteString(value); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return nil
}

// sysctl writes one linux.sysctl entry. "a.b.c" and "a/b/c" both name
// /proc/sys/a/b/c; sysctls are per namespace, and this process is in the
// container's, so the value lands there.
func (p *procfs) sysctl(key, value string) error {
	return p.write("sys/"+strings.ReplaceAll(key, ".", "/"), value)
}

func (p *procfs) close() {
	if p != nil && p.fd >= 0 {
		unix.Close(p.fd)
		p.fd = -1
	}
}
