package sealfd

import (
	"syscall"
	"unsafe"
)

// Memfd returns an fd of a copy of the running binary in a memfd sealed
// against every change (F_SEAL_WRITE, _GROW, _SHRINK, and _SEAL so that
// the seals stay): the fallback where no overlayfs can be made (no
// privilege, or a root filesystem overlayfs will not take as a lower
// layer, as the 9p root of the test VM). The copy is of the file that
// /proc/self/exe opens, the running binary's inode even if its path was
// replaced since.
func Memfd() (int, error) { return memfd(0) }

// MemfdExecOnly is Memfd with the copy's mode 0111, its owner root and
// its group ExecOnlyGid: a process in a user namespace may execute it
// but not read it. The kernel then makes the process that executes it
// non-dumpable and its memory's user namespace the nearest one
// privileged over the file (fs/exec.c would_dump:
// BINPRM_FLAGS_ENFORCE_NONDUMP), so ptrace and /proc/PID/fd need
// CAP_SYS_PTRACE over ours, not over that namespace. Privileged over the
// file means mapping both its uid and its gid (privileged_wrt_inode_uidgid):
// a namespace that maps host root (0 0 65536) would map a group 0 too,
// and root there could read the copy (CAP_DAC_OVERRIDE); nothing maps
// ExecOnlyGid.
func MemfdExecOnly() (int, error) { return memfd(0o111) }

// ExecOnlyGid is the group of MemfdExecOnly's copy: (gid_t)-2, never in
// an id map (-1 cannot be: it means "unchanged" to chown).
const ExecOnlyGid = 0xfffffffe

func memfd(mode uint32) (int, error) {
	if sysMemfdCreate < 0 {
		return -1, fail("memfd_create", syscall.ENOSYS)
	}
	src, err := syscall.Open("/proc/self/exe", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, fail("open /proc/self/exe", err)
	}
	defer syscall.Close(src)
	var st syscall.Stat_t
	if err := syscall.Fstat(src, &st); err != nil {
		return -1, fail("stat /proc/self/exe", err)
	}
	name := [...]byte{'s', 'a', 'n', 'd', 'b', 'o', 'x', '-', 'r', 'u', 'n', 't', 'i', 'm', 'e', 0}
	// MFD_EXEC: with vm.memfd_noexec set, a memfd is not executable
	// unless asked for (6.3+); older kernels refuse the flag (EINVAL).
	r, _, errno := syscall.Syscall(uintptr(sysMemfdCreate), uintptr(unsafe.Pointer(&name[0])), mfdCloexec|mfdAllowSealing|mfdExec, 0)
	if errno == syscall.EINVAL {
		r, _, errno = syscall.Syscall(uintptr(sysMemfdCreate), uintptr(unsafe.Pointer(&name[0])), mfdCloexec|mfdAllowSealing, 0)
	}
	if errno == syscall.EACCES && mode != 0 {
		return -1, fail("memfd_create MFD_EXEC (vm.memfd_noexec=2 forbids an executable memfd)", errno)
	}
	if errno != 0 {
		return -1, fail("memfd_create", errno)
	}
	fd := int(r)
	for left := st.Size; left > 0; {
		n, err := syscall.Sendfile(fd, src, nil, int(min(left, 1<<30)))
		if err == syscall.EINTR {
			continue
		}
		if err == nil && n == 0 {
			err = errMismatch // the file is shorter than it was
		}
		if err != nil {
			syscall.Close(fd)
			return -1, fail("copy own binary", err)
		}
		left -= int64(n)
	}
	if mode != 0 {
		if err := syscall.Fchown(fd, 0, ExecOnlyGid); err != nil {
			syscall.Close(fd)
			return -1, fail("fchown memfd", err)
		}
		if err := syscall.Fchmod(fd, mode); err != nil {
			syscall.Close(fd)
			return -1, fail("fchmod memfd", err)
		}
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), fAddSeals, sealAll); errno != 0 {
		syscall.Close(fd)
		return -1, fail("fcntl F_ADD_SEALS", errno)
	}
	return fd, nil
}

const (
	mfdCloexec      = 0x1
	mfdAllowSealing = 0x2
	mfdExec         = 0x10
	fAddSeals       = 1033
	// F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE
	sealAll = 0x1 | 0x2 | 0x4 | 0x8
)
