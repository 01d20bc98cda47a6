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
	"encoding/binary"
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
// per build, and each call returns it seen through a new read-only
// overlayfs attached nowhere, as Open does for the binary itself (~0.3
// ms, where the memfd copy of a 7.8 MB binary is ~3 ms). It falls back
// to OpenExecOnly's memfd when the cache cannot be used (no overlayfs, a
// filesystem overlayfs will not take as a lower layer, a binary without
// a Go build ID); how says which: "cached", or "memfd" and why.
// scratchDir is as for Open. warn is set when an entry was found that
// was not what the cache makes (changed by someone else): it is removed.
//
// The copy is shared by every later init, so what keeps it is, for
// each reader and writer:
//   - cacheDir is in the runtime's root, 0700: only the host's root
//     reaches it, and whoever may write there may rewrite any container's
//     state already (see seccompCacheDir's comment);
//   - a process of a container reaches the copy only as the file init
//     executes: through /proc/PID/exe or /proc/PID/map_files of an init
//     that is non-dumpable with its memory in our user namespace, so
//     only CAP_SYS_PTRACE over ours opens them (and map_files needs
//     CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in the initial user
//     namespace besides); both lead to the overlay's file, which refuses
//     writes (EROFS), whoever asks;
//   - an entry is named by the binary's Go build ID, whose last part is
//     a hash of the linked binary's contents: a rebuild, an upgrade, a
//     binary replaced by another of the same size, inode and times, or
//     a process running from a sealed copy of the same binary all name
//     the entry of their own contents (a review made a stale entry of
//     an older build pass for a newer one when the name was the
//     file's inode and times);
//   - it is made in a private directory, synced, and renamed into place
//     whole, and checked at every use: a regular file of the running
//     binary's size and build ID, mode 0111, owned by
//     root:sealfd.ExecOnlyGid.
func OpenExecOnlyCached(cacheDir, scratchDir string) (f *os.File, how string, warn, err error) {
	f, warn, cerr := openExecOnlyCached(cacheDir, scratchDir)
	if cerr == nil {
		return f, "cached", warn, nil
	}
	f, err = OpenExecOnly()
	if err != nil {
		return nil, "", warn, fmt.Errorf("%w (the cached copy: %v)", err, cerr)
	}
	return f, "memfd (the cached copy: " + cerr.Error() + ")", warn, nil
}

// maxExeCache bounds the cache: a few builds (an upgrade, a test's
// older build) share a root; the least recently used go first.
const maxExeCache = 4

const cachedName = "sandbox-runtime"

func openExecOnlyCached(cacheDir, scratchDir string) (_ *os.File, warn, err error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	var self unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &self); err != nil {
		return nil, nil, &os.PathError{Op: "stat", Path: "/proc/self/exe", Err: err}
	}
	id, err := goBuildID(src)
	if err != nil {
		return nil, nil, fmt.Errorf("/proc/self/exe: %w", err)
	}
	entry := filepath.Join(cacheDir, "exe-"+strings.ReplaceAll(id, "/", "."))
	for try := 0; ; try++ {
		if _, err := os.Lstat(entry); errors.Is(err, os.ErrNotExist) {
			if err := makeExecOnlyEntry(cacheDir, entry, src, self.Size); err != nil {
				return nil, nil, err
			}
		}
		f, bad, err := sealEntry(entry, scratchDir, id, self.Size)
		if err == nil {
			// Its time orders the eviction: least recently used.
			now := time.Now()
			os.Chtimes(entry, now, now)
			return f, warn, nil
		}
		if !bad || try > 0 {
			return nil, warn, err
		}
		// Not what we make (a file gone, changed, or left half
		// written by a crash): made again, once.
		if !errors.Is(err, os.ErrNotExist) {
			warn = err
		}
		if err := os.RemoveAll(entry); err != nil {
			return nil, warn, err
		}
	}
}

// sealEntry opens entry's copy through a new read-only overlayfs and
// checks it; bad reports that the entry itself is wrong (and not, say,
// overlayfs unusable here).
func sealEntry(entry, scratchDir, id string, size int64) (_ *os.File, bad bool, _ error) {
	copyPath := filepath.Join(entry, cachedName)
	c, err := os.Open(copyPath) // root reads the 0111 copy (CAP_DAC_OVERRIDE)
	if err != nil {
		return nil, true, err
	}
	var st unix.Stat_t
	err = unix.Fstat(int(c.Fd()), &st)
	cid, ierr := goBuildID(c)
	c.Close()
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o7777 != 0o111 ||
		st.Uid != 0 || st.Gid != sealfd.ExecOnlyGid || st.Size != size || ierr != nil || cid != id {
		return nil, true, fmt.Errorf("%s: not an exec-only copy of the running binary", copyPath)
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
			return nil, false, err
		}
		fd, err = sealfd.OverlayFile(entry, cachedName, sealfd.FdPath(mfd))
		unix.Close(mfd)
		if err != nil {
			return nil, false, err
		}
	}
	// What the overlay shows is the file checked above: only root
	// writes the entry, and the overlay takes it as it finds it.
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&0o7777 != 0o111 || st.Gid != sealfd.ExecOnlyGid || st.Size != size {
		unix.Close(fd)
		return nil, true, fmt.Errorf("%s: not an exec-only copy of the running binary", copyPath)
	}
	return os.NewFile(uintptr(fd), "sealed:"+copyPath), false, nil
}

// makeExecOnlyEntry copies src (size bytes) to entry/sandbox-runtime,
// mode 0111, root:sealfd.ExecOnlyGid: in a new directory of cacheDir
// that is synced and renamed to entry when complete. Of two runtimes
// making the same entry at once, the second's rename fails and it uses
// the first's.
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
	if err == nil {
		err = dst.Sync()
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
	if d, err := os.Open(cacheDir); err == nil {
		d.Sync()
		d.Close()
	}
	evictExeCache(cacheDir, filepath.Base(entry))
	return nil
}

// goBuildID returns the Go build ID of the ELF binary f (the
// ".note.go.buildid" note, which `go tool buildid` prints): its last
// part is a hash of the linked binary's contents. A binary linked with
// an empty -buildid has none: an error.
func goBuildID(f *os.File) (string, error) {
	var eh [64]byte
	if _, err := f.ReadAt(eh[:], 0); err != nil {
		return "", fmt.Errorf("read ELF header: %w", err)
	}
	if string(eh[:4]) != "\x7fELF" || eh[4] != 2 {
		return "", errors.New("not a 64-bit ELF binary")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if eh[5] == 2 {
		bo = binary.BigEndian
	}
	phoff, phentsize, phnum := int64(bo.Uint64(eh[32:])), int64(bo.Uint16(eh[54:])), int64(bo.Uint16(eh[56:]))
	if phentsize < 56 || phnum > 64 {
		return "", errors.New("unexpected ELF program headers")
	}
	ph := make([]byte, phentsize*phnum)
	if _, err := f.ReadAt(ph, phoff); err != nil {
		return "", fmt.Errorf("read ELF program headers: %w", err)
	}
	for i := int64(0); i < phnum; i++ {
		p := ph[i*phentsize:]
		if bo.Uint32(p) != 4 { // PT_NOTE
			continue
		}
		off, size := int64(bo.Uint64(p[8:])), int64(bo.Uint64(p[32:]))
		if size > 4096 {
			continue
		}
		notes := make([]byte, size)
		if _, err := f.ReadAt(notes, off); err != nil {
			return "", fmt.Errorf("read ELF notes: %w", err)
		}
		for len(notes) >= 12 {
			namesz, descsz, typ := int(bo.Uint32(notes)), int(bo.Uint32(notes[4:])), bo.Uint32(notes[8:])
			name := 12 + (namesz+3)&^3
			end := name + (descsz+3)&^3
			if namesz < 0 || descsz < 0 || end > len(notes) {
				break
			}
			if typ == 4 && string(notes[12:12+namesz]) == "Go\x00\x00" && descsz > 0 {
				return string(notes[name : name+descsz]), nil
			}
			notes = notes[end:]
		}
	}
	return "", errors.New("no Go build ID")
}

// evictExeCache removes the least recently used entries beyond
// maxExeCache, keep aside, and leftovers of interrupted copies older
// than a minute. An init running from a removed entry keeps its file
// (the overlay holds it).
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
