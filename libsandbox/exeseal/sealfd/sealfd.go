// Package sealfd makes the read-only overlayfs copy of a binary that
// package exeseal describes, with package syscall alone: it is used by
// package early, which runs before the other packages' initialisers and
// so must not import them (see early's comment).
package sealfd

import (
	"strconv"
	"syscall"
	"unsafe"
)

// SealedEnv marks the environment of a process re-executed from the
// sealed copy (package exeseal's Reexec, package early): its value is
// the pid, which execve keeps, so that a variable inherited from the
// caller is not taken for the mark.
const SealedEnv = "_SANDBOX_RUNTIME_SEALED"

// The new mount API's system call numbers are one for all the
// architectures since 5.1 (x86_64's table took the asm-generic ones;
// only mips and alpha add an offset). TestConstants holds these to
// golang.org/x/sys/unix's for the architecture built.
const (
	sysFsopen   = 430
	sysFsconfig = 431
	sysFsmount  = 432

	fsopenCloexec     = 0x1
	fsconfigSetString = 1
	fsconfigCmdCreate = 6
	fsmountCloexec    = 0x1
	mountAttrRdonly   = 0x1
	mountAttrNosuid   = 0x2
	mountAttrNodev    = 0x4
	oPath             = 0x200000
)

// Error is a failed step: which system call, on what, and its errno.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func fail(op string, err error) error { return &Error{Op: op, Err: err} }

func fsopen(name string) (int, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return -1, err
	}
	fd, _, errno := syscall.Syscall(sysFsopen, uintptr(unsafe.Pointer(p)), fsopenCloexec, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func fsconfig(fd int, cmd int, key, value string) error {
	var k, v *byte
	var err error
	if key != "" {
		if k, err = syscall.BytePtrFromString(key); err != nil {
			return err
		}
	}
	if value != "" {
		if v, err = syscall.BytePtrFromString(value); err != nil {
			return err
		}
	}
	_, _, errno := syscall.Syscall6(sysFsconfig, uintptr(fd), uintptr(cmd), uintptr(unsafe.Pointer(k)), uintptr(unsafe.Pointer(v)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func fsmount(fd int, attrs uintptr) (int, error) {
	mfd, _, errno := syscall.Syscall(sysFsmount, uintptr(fd), fsmountCloexec, attrs)
	if errno != 0 {
		return -1, errno
	}
	return int(mfd), nil
}

// EmptyTmpfs returns the fd of a new, empty, read-only tmpfs that is
// attached nowhere: a second lower layer that cannot overlap anything.
func EmptyTmpfs() (int, error) {
	fsfd, err := fsopen("tmpfs")
	if err != nil {
		return -1, fail("fsopen tmpfs", err)
	}
	defer syscall.Close(fsfd)
	if err := fsconfig(fsfd, fsconfigCmdCreate, "", ""); err != nil {
		return -1, fail("fsconfig create tmpfs", err)
	}
	mfd, err := fsmount(fsfd, mountAttrRdonly)
	if err != nil {
		return -1, fail("fsmount tmpfs", err)
	}
	return mfd, nil
}

// escapeLowerDir escapes what the "lowerdir" list form gives a
// meaning: the separator ':', the option separator ',' and '\\'.
func escapeLowerDir(p string) string {
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '\\' || c == ':' || c == ',' {
			b = append(b, '\\')
		}
		b = append(b, p[i])
	}
	return string(b)
}

// Dir and Base split a clean absolute path as path/filepath would
// (which this package cannot import).
func Dir(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "/"
}

func Base(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// Overlay returns an O_PATH fd of exe seen through a new overlayfs
// whose lower layers are exe's directory and lower2 (an empty directory
// that does not overlap it), with no upper layer: read-only for good.
// The mount is attached nowhere, and is gone with the last fd of it.
//
// exe is what /proc/self/exe names; if the binary was replaced since we
// started, the path names the new file and we would seal that one, so
// its inode is compared with the running binary's first.
func Overlay(exe, lower2 string) (int, error) {
	var self, named syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &self); err != nil {
		return -1, fail("stat /proc/self/exe", err)
	}
	if err := syscall.Stat(exe, &named); err != nil {
		return -1, fail("stat "+exe, err)
	}
	if self.Dev != named.Dev || self.Ino != named.Ino {
		return -1, fail("seal "+exe, errReplaced)
	}
	fd, err := OverlayFile(Dir(exe), Base(exe), lower2)
	if err != nil {
		return -1, err
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Size != self.Size {
		syscall.Close(fd)
		return -1, fail("seal "+exe, errMismatch)
	}
	return fd, nil
}

// OverlayFile returns an O_PATH fd of the file name in dir, seen through
// a new overlayfs whose lower layers are dir and lower2 (which must not
// overlap dir), with no upper layer: read-only for good, attached
// nowhere, gone with the last fd of it. What the file is, the caller
// checks.
func OverlayFile(dir, name, lower2 string) (int, error) {
	fsfd, err := fsopen("overlay")
	if err != nil {
		return -1, fail("fsopen overlay", err)
	}
	defer syscall.Close(fsfd)
	if err := fsconfig(fsfd, fsconfigSetString, "lowerdir+", dir); err == nil {
		err = fsconfig(fsfd, fsconfigSetString, "lowerdir+", lower2)
		if err != nil {
			return -1, fail("fsconfig lowerdir+", err)
		}
	} else if err := fsconfig(fsfd, fsconfigSetString, "lowerdir", escapeLowerDir(dir)+":"+escapeLowerDir(lower2)); err != nil {
		// Kernels before 6.8 lack "lowerdir+"; the list form above.
		return -1, fail("fsconfig lowerdir", err)
	}
	if err := fsconfig(fsfd, fsconfigCmdCreate, "", ""); err != nil {
		return -1, fail("fsconfig create overlay", err)
	}
	mfd, err := fsmount(fsfd, mountAttrNodev|mountAttrNosuid|mountAttrRdonly)
	if err != nil {
		return -1, fail("fsmount overlay", err)
	}
	defer syscall.Close(mfd)
	fd, err := syscall.Openat(mfd, name, oPath|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return -1, fail("open sealed "+name, err)
	}
	return fd, nil
}

// FdPath names fd in /proc/self/fd.
func FdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

type constError string

func (e constError) Error() string { return string(e) }

const (
	errReplaced = constError("no longer the running binary")
	errMismatch = constError("the sealed copy does not match the running binary")
)
