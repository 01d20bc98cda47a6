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
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

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

// OpenExecOnlyCached is OpenExecOnly without a copy per container: an
// exec-only copy of the running binary is kept in cacheDir, made once
// per binary, and each call returns it seen through a new read-only
// overlayfs attached nowhere, as Open does for the binary itself (~0.3
// ms, where the memfd copy of a 7.8 MB binary is ~3 ms). It falls back
// to OpenExecOnly's memfd when the cache cannot be used (no overlayfs, a
// filesystem overlayfs will not take as a lower layer); the string says
// which ("cached" or "memfd"). scratchDir is as for Open.
//
// The copy is shared by every later init, so what keeps it is, for
// each reader and writer:
//   - cacheDir is in the runtime's root, 0700: only the host's root
//     reaches it, and whoever may write there may rewrite any container's
//     state already (see seccompCacheDir's comment);
//   - a process of a container reaches the copy only as the file init
//     executes: through /proc/PID/exe (or map_files) of an init that is
//     non-dumpable with its memory in our user namespace, so only
//     CAP_SYS_PTRACE over ours (and CAP_SYS_ADMIN there for map_files)
//     opens them, and then the overlay refuses writes (EROFS, as for the
//     shared copy of Open; map_files leads to the file itself, for a
//     holder of host capabilities that owns the host anyway);
//   - it is made in a private directory and renamed into place whole,
//     and checked at every use: a regular file of the running binary's
//     size, mode 0111, owned by root:sealfd.ExecOnlyGid. A stale entry
//     of a replaced binary is never taken: the name is the binary's
//     identity (device, inode, size, modification and change times;
//     the change time moves with any write and cannot be set).
func OpenExecOnlyCached(cacheDir, scratchDir string) (*os.File, string, error) {
	f, err := openExecOnlyCached(cacheDir, scratchDir)
	if err == nil {
		return f, "cached", nil
	}
	f, merr := OpenExecOnly()
	if merr != nil {
		return nil, "", fmt.Errorf("%w (the cached copy: %v)", merr, err)
	}
	return f, "memfd", nil
}

// maxExeCache bounds the cache: a few binaries (an upgrade, a test's
// older build) share a root; the oldest entries go first.
const maxExeCache = 4

const cachedName = "sandbox-runtime"

func openExecOnlyCached(cacheDir, scratchDir string) (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var self unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &self); err != nil {
		return nil, &os.PathError{Op: "stat", Path: "/proc/self/exe", Err: err}
	}
	entry := filepath.Join(cacheDir, fmt.Sprintf("exe-%x-%x-%x-%d.%09d-%d.%09d",
		self.Dev, self.Ino, self.Size, self.Mtim.Sec, self.Mtim.Nsec, self.Ctim.Sec, self.Ctim.Nsec))
	if _, err := os.Lstat(entry); errors.Is(err, os.ErrNotExist) {
		if err := makeExecOnlyEntry(cacheDir, entry, src, self.Size); err != nil {
			return nil, err
		}
	}
	var fd int
	if !within(entry, scratchDir) && !within(scratchDir, entry) {
		fd, err = sealfd.OverlayFile(entry, cachedName, scratchDir)
	} else {
		err = errors.New("lower layers overlap")
	}
	if err != nil {
		mfd, terr := sealfd.EmptyTmpfs()
		if terr != nil {
			return nil, err
		}
		fd, err = sealfd.OverlayFile(entry, cachedName, sealfd.FdPath(mfd))
		unix.Close(mfd)
		if err != nil {
			return nil, err
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG ||
		st.Mode&0o7777 != 0o111 || st.Uid != 0 || st.Gid != sealfd.ExecOnlyGid || st.Size != self.Size {
		unix.Close(fd)
		os.RemoveAll(entry)
		return nil, fmt.Errorf("%s: not an exec-only copy of the running binary", entry)
	}
	return os.NewFile(uintptr(fd), "sealed:"+filepath.Join(entry, cachedName)), nil
}

// makeExecOnlyEntry copies src (size bytes) to entry/sandbox-runtime,
// mode 0111, root:sealfd.ExecOnlyGid: in a new directory of cacheDir
// that is renamed to entry when complete. Of two runtimes making the
// same entry at once, the second's rename fails and it uses the
// first's.
func makeExecOnlyEntry(cacheDir, entry string, src *os.File, size int64) error {
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(cacheDir, ".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone after the rename
	dst, err := os.OpenFile(filepath.Join(tmp, cachedName), os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	n, err := io.Copy(dst, io.NewSectionReader(src, 0, size))
	if err == nil && n != size {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = dst.Chown(0, sealfd.ExecOnlyGid)
	}
	if err == nil {
		err = dst.Chmod(0o111)
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy own binary to %s: %w", cacheDir, err)
	}
	if err := os.Rename(tmp, entry); err != nil {
		if _, serr := os.Lstat(entry); serr == nil {
			return nil // another runtime made it first
		}
		return err
	}
	evictExeCache(cacheDir, filepath.Base(entry))
	return nil
}

// evictExeCache removes the oldest entries beyond maxExeCache, keep
// aside, and leftovers of interrupted copies older than a minute. An
// init running from a removed entry keeps its file (the overlay holds
// it).
func evictExeCache(cacheDir, keep string) {
	ents, err := os.ReadDir(cacheDir)
	if err != nil {
		return
	}
	type aged struct {
		name string
		mod  int64
	}
	var old []aged
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || e.Name() == keep {
			continue
		}
		if strings.HasPrefix(e.Name(), ".new-") {
			if time.Since(info.ModTime()) > time.Minute {
				os.RemoveAll(filepath.Join(cacheDir, e.Name()))
			}
			continue
		}
		old = append(old, aged{e.Name(), info.ModTime().UnixNano()})
	}
	sort.Slice(old, func(i, j int) bool { return old[i].mod > old[j].mod })
	for _, a := range old[min(len(old), maxExeCache-1):] {
		os.RemoveAll(filepath.Join(cacheDir, a.name))
	}
}

// memfd seals with sealfd.Memfd (whose comment says how).
func memfd() (*os.File, error) {
	fd, err := sealfd.Memfd()
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "memfd:sandbox-runtime"), nil
}
