package report

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// NamespaceMounts is Source.NamespaceMounts on Linux 6.11 and later: the
// mountinfo IDs of every mount in the mount namespace of the process
// whose /proc directory is procPid, listed by listmount(2) from the
// namespace's root, whatever the process's root is. /proc/PID/mountinfo
// shows only the mounts under the process's root; the difference is
// what a chroot leaves above it.
//
// Reading the namespace does not enter it: the namespace id comes from
// an ioctl on its /proc/PID/ns/mnt file, and the kernel answers for any
// namespace whose owner we have CAP_SYS_ADMIN over.
func NamespaceMounts(procPid int) ([]int, error) {
	fd, err := unix.Openat(procPid, "ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "ns/mnt", Err: err}
	}
	defer unix.Close(fd)
	var nsID uint64
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.NS_GET_MNTNS_ID, uintptr(unsafe.Pointer(&nsID))); e != 0 {
		if unsupported(e) {
			return nil, ErrNoNamespaceMounts
		}
		return nil, fmt.Errorf("mount namespace id (NS_GET_MNTNS_ID): %w", e)
	}
	ids, err := listMounts(nsID)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		old, err := oldMountID(id, nsID)
		if err == unix.ENOENT {
			continue // unmounted since the list
		}
		if err != nil {
			return nil, fmt.Errorf("statmount: %w", err)
		}
		out = append(out, int(old))
	}
	return out, nil
}

// ErrNoNamespaceMounts: this kernel cannot list another namespace's
// mounts (before Linux 6.11); the root's method is then unknown, which
// is no error of the report.
var ErrNoNamespaceMounts = errors.New("the kernel cannot list a mount namespace's mounts")

// unsupported: the errors of a kernel without the ioctl or the syscall.
func unsupported(e unix.Errno) bool {
	return e == unix.ENOTTY || e == unix.ENOSYS || e == unix.EINVAL
}

// mntIDReq is struct mnt_id_req (MNT_ID_REQ_SIZE_VER1).
type mntIDReq struct {
	Size    uint32
	Spare   uint32
	MntID   uint64
	Param   uint64
	MntNsID uint64
}

const lsmtRoot = ^uint64(0) // LSMT_ROOT: from the namespace's root

// listMounts lists the unique mount IDs of the namespace, in batches.
func listMounts(nsID uint64) ([]uint64, error) {
	var out []uint64
	buf := make([]uint64, 512)
	req := mntIDReq{Size: uint32(unsafe.Sizeof(mntIDReq{})), MntID: lsmtRoot, MntNsID: nsID}
	for {
		n, _, e := unix.Syscall6(unix.SYS_LISTMOUNT, uintptr(unsafe.Pointer(&req)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		if e != 0 {
			if unsupported(e) && len(out) == 0 {
				return nil, ErrNoNamespaceMounts
			}
			return nil, fmt.Errorf("listmount: %w", e)
		}
		out = append(out, buf[:n]...)
		if int(n) < len(buf) {
			return out, nil
		}
		if len(out) > 1<<20 {
			return nil, fmt.Errorf("listmount: more than %d mounts", 1<<20)
		}
		req.Param = buf[n-1] // continue after the last one
	}
}

// oldMountID returns the mountinfo ID of a mount (struct statmount's
// mnt_id_old, at byte 56, with STATMOUNT_MNT_BASIC).
func oldMountID(id, nsID uint64) (uint32, error) {
	const statmountMntBasic = 0x2
	buf := make([]byte, 512)
	req := mntIDReq{Size: uint32(unsafe.Sizeof(mntIDReq{})), MntID: id, Param: statmountMntBasic, MntNsID: nsID}
	_, _, e := unix.Syscall6(unix.SYS_STATMOUNT, uintptr(unsafe.Pointer(&req)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	if mask := binary.NativeEndian.Uint64(buf[8:]); mask&statmountMntBasic == 0 {
		return 0, fmt.Errorf("statmount did not fill STATMOUNT_MNT_BASIC")
	}
	return binary.NativeEndian.Uint32(buf[56:]), nil
}
