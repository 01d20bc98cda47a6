package cgroups

// A container's cgroup is named by its path in the state, and a path can
// come to name another cgroup. Whoever may write the directory above it
// (the owner of a delegated parent: a user given a subtree, a rootless
// manager's slice) may remove the container's cgroup once it is empty (a
// stopped container not yet deleted, a create that was killed) and put
// another in its place: on v1 rename another container's cgroup to its
// name (cgroup1_rename allows a rename within the parent), on v2 make
// the directory again and move another container's processes into it
// (cgroup_procs_write_permission asks write access to the common
// ancestor's cgroup.procs, nothing of the processes moved). delete, kill
// --all, pause, update and exec of the first container then acted on the
// second: a review killed another container with `delete` that way.
//
// So create records the inode of each directory it makes as the
// container's own (State.Inodes), and a manager reaches an own directory
// only through an fd it opened and checked against that inode once
// (State.at): a directory renamed, removed or made again after the check
// is not the one the fd names, so there is no window between the check
// and the write. A directory whose inode differs is left alone, with a
// warning, as if it were gone. kernfs gives a cgroup's directory the id
// of its kernfs_node as its inode number, which on a 64-bit kernel
// carries a generation in its upper 32 bits (kernfs_id_ino): within one
// boot a number is never given to another cgroup.
//
// The time between create's mkdir and its first look at the new
// directory is covered by record. Not covered: a state saved by a
// version that did not record inodes (its directories are reached by
// path, as before); the systemd driver (systemd names the scope; its
// directory is systemd's); the parents a container made (only empty ones
// are removed, and the parent's owner could remove them anyway);
// and the reads by path that only decide whether to wait or fail
// (frozenAt, HeldFrozen, HoldsV1), which a swap can only make fail or
// wait. CRIU, which restore enters into the new cgroup through the fd,
// takes only paths: restore gives it a cgroup yard of its own, bind
// mounts cloned from the pinned fds (libsandbox/criuyard.go), which CRIU
// works below for everything it does with cgroups, and the cgroup mounts
// it binds into the container come from the same clones. Where the
// restored processes went, their cgroup namespace's root and those
// mounts are checked again before they run (libsandbox/restore.go,
// checkPlacement; CheckMembers). Checkpoint's freezer CRIU gets through
// ForChild.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// fdDir is where a pinned directory is reached: /proc/self/fd/N names
// the directory the fd was opened on, wherever it has moved since, and a
// path below it resolves inside that directory (proc_fd_link). The
// trailing "/." makes Lstat follow the link, as filepath.WalkDir needs.
const fdDir = "/proc/self/fd/"

// pinNames maps the fd part of a pinned path ("/proc/self/fd/N") to the
// directory's path in the state, for messages. An fd stays open, and its
// entry stays, as long as the process runs: a loaded manager is used for
// one verb.
var pinNames sync.Map

// gone counts the paths handed out for directories that are missing or
// not the container's: "/proc/self/fd/-N", which no fd has.
var gone atomic.Int64

// newOwnMode is the mode of the container's own directory from its
// mkdir until record has checked it: the sticky bit marks it. No cgroup
// directory has that bit at rest: the runtime's own get ownMode (less
// the umask) once checked, and nothing else sets it on a cgroup. Only
// the owner can chmod a cgroup directory, so the parent's owner cannot
// put it on one of root's, and the umask does not touch it. (The first
// guard was a mode of 0700, which is what 0755 gives under umask 077: a
// review had a root parent made that way renamed in. A mode with no
// owner read, tried next, is one an unprivileged owner, a rootless
// runtime in a delegated subtree, cannot open to check.)
const (
	newOwnMode = os.ModeSticky | 0o700
	ownMode    = 0o755
)

// record notes the inode of d, a directory mkdirAll has just made as
// the container's own, and pins it: the fd is opened right after the
// mkdir. Between the two, the owner of a parent could put another
// directory at d (a review won that race in 2 to 15 tries of 60 with
// inotify): on v1 another container's cgroup, renamed, which the state
// would then record as this container's; on cgroup2 (no rename) one it
// makes itself. So the directory must be one we made (our uid: the
// parent's owner cannot make a directory ours) and still be marked as
// one between its mkdir and this check (newOwnMode's sticky bit). The
// flock, taken before the look and held as long as the fd, keeps two
// creates from both taking one directory in the instant between one's
// look and its chmod: the second's flock fails. (The parent's owner
// cannot open a directory that has no bits for others to lock it
// first.) The directory then gets ownMode less the umask, what the
// mkdir used to give it.
func (st *State) record(d string) error {
	fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", d, err)
	}
	var s unix.Stat_t
	err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		err = unix.Fstat(fd, &s)
	}
	if err == nil && (s.Uid != uint32(os.Geteuid()) || s.Mode&0o7077 != unix.S_ISVTX) {
		err = fmt.Errorf("it is not the directory create made (uid %d, mode %#o): replaced since by the owner of a parent?", s.Uid, s.Mode&0o7777)
	} else if err == unix.EWOULDBLOCK {
		err = errors.New("it is not the directory create made: another process holds it")
	}
	if err == nil {
		err = unix.Fchmod(fd, restMode())
	}
	if err != nil {
		unix.Close(fd)
		return fmt.Errorf("linux.cgroupsPath: cgroup %s: %w", d, err)
	}
	if st.Inodes == nil {
		st.Inodes = map[string]uint64{}
	}
	st.Inodes[d] = s.Ino
	st.keep(d, fmt.Sprintf("%s%d", fdDir, fd))
	return nil
}

// restMode is ownMode less the process's umask (what a mkdir with
// ownMode gives), with the owner's bits kept. The umask is read from
// /proc/self/status: setting it to read it would change it for every
// thread meanwhile. 022 if it cannot be read.
var restMode = sync.OnceValue(func() uint32 {
	umask := uint32(0o022)
	if b, err := readRaw("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "Umask:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					umask = uint32(n)
				}
			}
		}
	}
	return ownMode&^umask | 0o700
})

// at returns the path through which the driver reaches d. For one of the
// container's own directories whose inode create recorded, that is the
// directory the recorded inode is, pinned by an fd on first use; a path
// that does not resolve when it is missing or is another directory now.
// Any other path (a parent, a state without inodes) is d itself.
func (st *State) at(d string) string {
	if st == nil {
		return d
	}
	want, ok := st.Inodes[d]
	if !ok {
		return d
	}
	if p, ok := st.pins[d]; ok {
		return p
	}
	if want == 0 {
		// Claimed, not yet made when the state was saved: nothing
		// of the container has been in it, and what is there now is
		// not known to be ours.
		return st.keep(d, fmt.Sprintf("%s-%d", fdDir, gone.Add(1)))
	}
	return st.keep(d, pin(d, want))
}

// keep makes p, an fd path, the path d is reached by, and returns it.
func (st *State) keep(d, p string) string {
	pinNames.Store(p, d)
	p += "/."
	if st.pins == nil {
		st.pins = map[string]string{}
	}
	st.pins[d] = p
	return p
}

// pin opens d and checks that it is the directory whose inode is want;
// it returns the fd's path, or one no fd has.
func pin(d string, want uint64) string {
	// O_PATH: no read access needed, nothing a cgroupfs file's open
	// would do; O_NOFOLLOW: a symlink put at the path is not followed
	// (cgroupfs has none).
	fd, err := unix.Open(d, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == nil {
		var s unix.Stat_t
		if err = unix.Fstat(fd, &s); err == nil && s.Ino != want {
			logrus.Warnf("cgroup %s is not the container's any more (inode %d, create made %d): it was removed or replaced since, and is left alone", d, s.Ino, want)
			err = unix.ENOENT
		}
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		return fmt.Sprintf("%s-%d", fdDir, gone.Add(1))
	}
	return fmt.Sprintf("%s%d", fdDir, fd)
}

// shown returns p with a pinned directory's fd path replaced by the
// directory's path in the state, for messages.
func shown(p string) string {
	if !strings.HasPrefix(p, fdDir) {
		return p
	}
	end := strings.IndexByte(p[len(fdDir):], '/')
	if end < 0 {
		end = len(p)
	} else {
		end += len(fdDir)
	}
	if d, ok := pinNames.Load(p[:end]); ok {
		rest := p[end:]
		if rest == "/." {
			rest = ""
		}
		return d.(string) + rest
	}
	return p
}

// removeOwnDir removes d, one of the container's own directories, and
// the cgroups its processes made below it, if d is still the directory
// create made.
func (st *State) removeOwnDir(d string) error {
	want, ok := st.Inodes[d]
	if !ok {
		return removeTree(d)
	}
	// By its path first, as removeTree does: it costs no check in the
	// common case (an empty cgroup), and rmdir removes only an empty
	// cgroup (one with processes or children is EBUSY), which, should
	// d have been replaced since, the parent's owner, the only one who
	// could replace it, may remove as well.
	err := unix.Rmdir(d)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if want == 0 {
		// Claimed, maybe made, never entered: what is in it now is
		// not the container's.
		return fmt.Errorf("remove cgroup %s: %w", d, err)
	}
	p := st.at(d)
	ents, err := os.ReadDir(p)
	if err != nil {
		return nil // missing, or not the container's (at warned)
	}
	// Below d through the fd: a rename cannot move a cgroup to
	// another parent (cgroup1_rename; v2 has no rename).
	for _, e := range ents {
		if e.IsDir() {
			if err := removeTree(filepath.Join(p, e.Name())); err != nil {
				return err
			}
		}
	}
	return rmdir(d)
}

// goneDir reports whether p is below the path at handed out for a
// directory that is missing or not the container's, and which that is.
func goneDir(p string) (string, bool) {
	if !strings.HasPrefix(p, fdDir+"-") {
		return "", false
	}
	d := shown(p)
	return strings.TrimSuffix(d, "/"+filepath.Base(p)), d != p
}

// pinnedAt splits p, a path below a pinned directory's fd path, into
// the fd and the rest, for openat (openRaw): the same file as p, without
// the walk through procfs, on the forty cgroup files a create writes. A
// path below a directory found missing or not the container's ("-N")
// is opened by its path, which fails with ENOENT. The fds are never
// closed while the process runs, so a number never comes to name
// another file (the runtime only ever marks fds close-on-exec in bulk).
func pinnedAt(p string) (int, string, bool) {
	if !strings.HasPrefix(p, fdDir) {
		return 0, "", false
	}
	n, rest, ok := strings.Cut(p[len(fdDir):], "/")
	if !ok || rest == "" {
		return 0, "", false
	}
	fd, err := strconv.Atoi(n)
	if err != nil || fd < 0 {
		return 0, "", false
	}
	return fd, rest, true
}

// Open opens name (a file or a directory below it; "." for itself) in
// d, one of st's directories, the way the drivers reach it (at): for
// the container's own directory, through the fd checked against the
// inode create recorded. For exec's process, which libsandbox places in
// the cgroup itself. Its errors name d by its path in the state.
func (st *State) Open(d, name string, flags int) (int, error) {
	p := st.at(d)
	if name != "." {
		p = filepath.Join(p, name)
	}
	return openRaw(p, flags)
}

// present reports whether d, one of st's directories, is there and, for
// the container's own, still the one create made.
func (st *State) present(d string) bool {
	p := st.at(d)
	if fd, _, ok := pinnedAt(p); ok {
		// Not "." itself: an fd of a removed cgroup still stats; its
		// files are gone.
		var s unix.Stat_t
		return unix.Fstatat(fd, "cgroup.procs", &s, 0) == nil
	}
	_, err := os.Stat(p)
	return err == nil
}

// sortedDirs returns the values of m, sorted.
func sortedDirs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, d := range m {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// ForChild returns a path by which a child of ours that is handed no fd
// (CRIU's freezer) reaches d, one of st's directories, as the drivers
// reach it: for the container's own, /proc/<our pid>/fd/N, the checked
// directory wherever it is now, for as long as we live. It fails, naming
// d, when d is missing or is not the container's any more. Not for a
// mount's source: from another mount namespace the kernel refuses a
// bind of it (check_mnt).
func (st *State) ForChild(d string) (string, error) {
	p := st.at(d)
	if p == d {
		return d, nil
	}
	fd, _, ok := pinnedAt(p)
	if !ok {
		return "", fmt.Errorf("cgroup %s was removed, or is not the container's any more", d)
	}
	return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), fd), nil
}
