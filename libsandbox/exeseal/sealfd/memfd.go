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

// MemfdExecOnly is Memfd with the copy's mode 0111 (owned by us): a
// process that may execute it but not read it. The kernel then makes
// the process that executes it non-dumpable and its memory's user
// namespace the nearest one privileged over the file's owner
// (fs/exec.c would_dump: BINPRM_FLAGS_ENFORCE_NONDUMP): executed in a
// user namespace that does not map our uid, ptrace and /proc/PID/fd
// need CAP_SYS_PTRACE over ours, not over that namespace.
func MemfdExecOnly() (int, error) { return memfd(0o111) }

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
