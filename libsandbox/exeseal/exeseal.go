// Package exeseal opens a copy of the runtime's own binary that nothing can
// write to, for re-executing it as the container's init.
//
// CVE-2019-5736: a process in the container could open /proc/PID/exe of a
// runtime process that entered the container and write through it,
// replacing the runtime binary on the host. So the init is never executed
// from the binary's own path: it is executed from a file that cannot be
// opened for writing at all, whatever the container does.
//
// The cheap way (runc 1.2 measured it at no cost, against +60% start time
// for a memfd copy): a private overlayfs mount with two lower layers and no
// upper layer is read-only for good (unlike a read-only bind mount, it
// cannot be remounted read-write), and it serves the binary's own page
// cache, so nothing is copied. The mount is made with fsmount(2) and never
// attached anywhere: it is reachable only through the fd we hold, and is
// gone when the last user closes it. A write through /proc/PID/exe then
// fails with EROFS.
//
// Where overlayfs cannot be used (no overlay support, not privileged), we
// fall back to a memfd copy sealed against writes (F_SEAL_WRITE...).
//
// Sealing the init is not enough when the runtime itself enters the
// container: exec's child (rawfork) and create's child in a pid namespace
// given by path are forks of the runtime, in the container's pid
// namespace before their execve, and their /proc/PID/exe is the binary
// the runtime runs from. A container with CAP_SYS_PTRACE (which lets it
// follow the link of a process with more capabilities) catches one and
// writes the binary once the runtime has exited. So the verbs that enter
// containers first re-execute the runtime itself from a sealed copy
// (Reexec): every process they fork then runs from it.
package exeseal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal/sealfd"
)

// sealedEnv marks the environment of a process that Reexec (or package
// early) re-executed: its value is the pid, which execve keeps, so that
// a variable inherited from the caller is not taken for the mark.
const sealedEnv = sealfd.SealedEnv

// runningSealed is set by Reexec in the re-executed process: the running
// binary is the sealed copy, and Open returns it rather than sealing a
// copy of it again.
var runningSealed bool

// Reexec replaces the calling process with a sealed copy of its binary
// (see Open), with the same arguments and environment, and returns only
// on error, or at once in the re-executed process. scratchDir is as for
// Open.
func Reexec(scratchDir string) error {
	self := strconv.Itoa(os.Getpid())
	mark := os.Getenv(sealedEnv)
	os.Unsetenv(sealedEnv)
	if mark == self {
		// Check what we run from, and never re-execute twice.
		f, err := openSelfSealed()
		if err != nil {
			return fmt.Errorf("re-executed from the sealed copy, but: %w", err)
		}
		f.Close()
		runningSealed = true
		return nil
	}
	f, _, err := Open(scratchDir)
	if err != nil {
		return err
	}
	defer f.Close()
	// Through the magic link, not execveat: syscall.Exec restores the
	// RLIMIT_NOFILE that the Go runtime raised at start-up, which the
	// container must inherit. The fd is close-on-exec, but the path is
	// resolved before the fds are closed.
	err = syscall.Exec("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.Args, append(os.Environ(), sealedEnv+"="+self))
	return fmt.Errorf("re-execute from the sealed copy: %w", err)
}

// openSelfSealed opens the running binary if it cannot be written: on a
// read-only overlayfs, or a memfd sealed against writes.
func openSelfSealed() (*os.File, error) {
	fd, err := unix.Open("/proc/self/exe", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/proc/self/exe", Err: err}
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err == nil && fs.Type == unix.OVERLAYFS_SUPER_MAGIC && fs.Flags&unix.ST_RDONLY != 0 {
		return os.NewFile(uintptr(fd), "sealed:/proc/self/exe"), nil
	}
	if seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0); err == nil && seals&unix.F_SEAL_WRITE != 0 {
		return os.NewFile(uintptr(fd), "sealed:/proc/self/exe"), nil
	}
	unix.Close(fd)
	return nil, fmt.Errorf("the running binary is not a sealed copy")
}

// Open returns an fd of a sealed copy of the running binary and the
// method used ("overlayfs", "memfd", or "running" when Reexec has made
// the running binary the sealed copy). scratchDir is an empty directory
// that does not contain the binary, used as the second, empty lower layer
// (an overlay without upper layer needs two).
func Open(scratchDir string) (*os.File, string, error) {
	if runningSealed {
		if f, err := openSelfSealed(); err == nil {
			return f, "running", nil
		}
	}
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, "", fmt.Errorf("find own binary: %w", err)
	}
	// The two lower layers must not overlap (ELOOP): when the binary
	// lives above the scratch directory (a runtime in /tmp with its
	// state in /tmp/...), an empty detached tmpfs is the second layer.
	var f *os.File
	var oerr error
	if dir := filepath.Dir(exe); !within(dir, scratchDir) && !within(scratchDir, dir) {
		f, oerr = overlay(exe, scratchDir)
	} else {
		oerr = errors.New("lower layers overlap")
	}
	if oerr != nil {
		f, oerr = overlayEmptyTmpfs(exe)
	}
	if oerr == nil {
		return f, "overlayfs", nil
	}
	f, merr := memfd()
	if merr != nil {
		return nil, "", fmt.Errorf("seal own binary: overlayfs: %v; memfd: %w", oerr, merr)
	}
	return f, "memfd", nil
}

func within(parent, p string) bool {
	return p == parent || strings.HasPrefix(p, strings.TrimSuffix(parent, "/")+"/")
}

// overlayEmptyTmpfs seals with an empty, detached tmpfs as the second
// lower layer, named through our fd of it.
func overlayEmptyTmpfs(exe string) (*os.File, error) {
	mfd, err := sealfd.EmptyTmpfs()
	if err != nil {
		return nil, err
	}
	defer unix.Close(mfd)
	return overlay(exe, sealfd.FdPath(mfd))
}

// overlay seals with sealfd.Overlay (whose comment says how).
func overlay(exe, scratchDir string) (*os.File, error) {
	fd, err := sealfd.Overlay(exe, scratchDir)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "sealed:"+exe), nil
}

// OpenExecOnly returns an fd of a sealed copy of the running binary that
// only its owner, root, may read (sealfd.MemfdExecOnly): for an init
// executed inside a user namespace the container controls.
func OpenExecOnly() (*os.File, error) {
	fd, err := sealfd.MemfdExecOnly()
	if err != nil {
		return nil, fmt.Errorf("seal own binary, exec-only: %w", err)
	}
	return os.NewFile(uintptr(fd), "memfd:sandbox-runtime"), nil
}

// memfd seals with sealfd.Memfd (whose comment says how).
func memfd() (*os.File, error) {
	fd, err := sealfd.Memfd()
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "memfd:sandbox-runtime"), nil
}
