package libsandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu/rpc"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/osthread"
)

// A cgroup yard is where CRIU reaches the cgroups it restores into: a
// directory with one entry per hierarchy, named as CRIU names them
// (cgroup.c, ctrl_dir_and_opt), that it opens once and works below with
// openat (its CGROUP_YARD service fd): the mkdirs of the image's
// sub-cgroups, their owner and mode, the image's limits and freezer state
// in full mode, the moves of the restored processes, the root of a
// restored cgroup namespace (prepare_cgns, move_in_cgroup, cgroupd).
// Without one, CRIU mounts every hierarchy whole and walks down to the
// container's cgroup by the paths we give it (CgRoot): a path the owner
// of a delegated parent can point elsewhere on v1 by renaming the new
// cgroup away and another to its name (libsandbox/cgroups/identity.go).
//
// So restore gives CRIU a yard of its own (CriuOpts.cgroup_yard, CRIU
// 3.14+): each entry is a bind mount of the container's own directory,
// cloned (open_tree) from the fd checked against the inode restore
// recorded, and every hierarchy's root is "/" there (CgRoot). A bind
// mount holds the directory itself, not its name: a rename afterwards
// moves nothing CRIU reaches, and what CRIU binds into the container as
// its cgroup mounts comes from the same clones. CRIU mounts a hierarchy
// the yard lacks by itself, and would then walk it by path: the yard is
// a read-only tmpfs, so that it cannot, and a restore whose image has a
// hierarchy this host has not (or names one otherwise) fails (yardError)
// rather than reach a cgroup by path.
//
// Who holds what: the yard is mounted in CRIU's mount namespace only
// (spawnInRoot's), by a thread of ours that joins it for that and is
// thrown away (osthread.Discard);
// nothing is mounted on the host, and the clones go with CRIU's
// namespace. It is made once CRIU runs in the container's cgroup, before
// it gets its request, while it waits for that: the systemd driver's
// scope exists only then (Enter).
type cgroupYard struct {
	// dir is the yard's mount point, in the state directory.
	dir string
	// names maps a directory of the container's (its path in the
	// state) to its entry in the yard.
	names map[string]string
	// entries are the yard's entries, for messages.
	entries []string
}

// yardName is CRIU's name for the yard entry of a hierarchy, given as
// its controller list in /proc/PID/cgroup: "name=" dropped, "unified"
// for the v2 hierarchy (ctrl_dir_and_opt).
func yardName(ctrls string) string {
	if ctrls == "" {
		return "unified"
	}
	cs := strings.Split(ctrls, ",")
	for i, c := range cs {
		cs[i] = strings.TrimPrefix(c, "name=")
	}
	return strings.Join(cs, ",")
}

// makeCgroupYard makes the yard for CRIU (pid), which runs in the
// container's cgroup, and points opts at it: cgroup_yard, every
// hierarchy's root, and the cgroup mounts' sources (ExtMnt) in it. The
// hierarchies are CRIU's own (its /proc/PID/cgroup, in the kernel's
// order of co-mounted controllers, as CRIU names them in the image).
//
// A hierarchy the container has no cgroup in is mounted whole
// (yardEntries).
func (rs *restoration) makeCgroupYard(pid int, opts *rpc.CriuOpts) error {
	st := rs.cg.State()
	hier, err := procCgroup("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return err
	}
	own, err := procCgroup("/proc/self/cgroup")
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(rs.dir)
	if err != nil {
		return err
	}
	y := &cgroupYard{dir: filepath.Join(dir, "criu-yard"), names: map[string]string{}}
	var entries []yardEntry
	defer func() {
		for _, e := range entries {
			if e.tree >= 0 {
				unix.Close(e.tree)
			}
		}
	}()
	entries, err = yardEntries(hier, own, st)
	if err != nil {
		return err
	}
	opts.CgRoot = nil
	for i := range entries {
		e := &entries[i]
		if e.dir != "" {
			if e.tree, err = cloneDir(st, e.dir); err != nil {
				return fmt.Errorf("cgroup %s: clone it for CRIU: %w", e.dir, err)
			}
			y.names[e.dir] = e.name
		}
		y.entries = append(y.entries, e.name)
		opts.CgRoot = append(opts.CgRoot, &rpc.CgroupRoot{Ctrl: rpc.String(e.ctrls), Path: rpc.String(e.root)})
	}
	if err := os.Mkdir(y.dir, 0o700); err != nil {
		return fmt.Errorf("cgroup yard: %w", err)
	}
	rs.yard = y
	if err := mountYard(pid, y.dir, entries); err != nil {
		return fmt.Errorf("cgroup yard for criu: %w", err)
	}
	opts.CgroupYard = rpc.String(y.dir)
	// The cgroup mounts are bound from the clones: in CRIU's
	// namespace, where a bind from them passes the kernel's check that
	// a source is in the caller's namespace (check_mnt), which our own
	// fd of the directory would not.
	for _, m := range rs.cgMounts {
		n, ok := y.names[m.path]
		if !ok {
			return fmt.Errorf("cgroup mount %s: %s is in no hierarchy CRIU runs in", m.dest, m.path)
		}
		for _, e := range opts.ExtMnt {
			if e.Key != nil && *e.Key == m.key {
				e.Val = rpc.String(filepath.Join(y.dir, n))
			}
		}
	}
	return nil
}

// yardEntry is one entry of the yard, for the hierarchy ctrls (as
// /proc/PID/cgroup lists it): the clone (tree) of the container's
// directory dir, or, where it has none, the hierarchy mounted whole
// (fstype, data); root is the hierarchy's root for CRIU (CgRoot).
type yardEntry struct {
	ctrls, name  string
	dir, root    string
	tree         int
	fstype, data string
}

// yardEntries decides the yard's entries for the hierarchies CRIU is in
// (hier: its /proc/PID/cgroup), the container's cgroup st and the
// runtime's own cgroups (own: /proc/self/cgroup, keyed alike). A
// hierarchy the container has no directory in (a name= one mounted
// outside /sys/fs/cgroup, a v1 controller mounted on a v2 host, cgroup2
// on a v1 host) is mounted whole, as CRIU mounted it before the yard,
// with CRIU's cgroup there as its root: restore did not move CRIU there,
// so it is the runtime's own, and nothing of the container's is in it.
// Had CRIU a path there that is not the runtime's, restore did move it
// (the container's own hierarchy under a key the runtime reads otherwise:
// a review's seclabel case), and CRIU would reach the container's cgroup
// by path: restore fails instead.
func yardEntries(hier, own map[string]string, st *cgroups.State) ([]yardEntry, error) {
	var out []yardEntry
	for _, ctrls := range sortedKeys(hier) {
		e := yardEntry{ctrls: ctrls, name: yardName(ctrls), root: "/", tree: -1}
		if ctrls == "" {
			e.dir = st.V2
		} else {
			e.dir = st.V1[cgroups.SortKey(ctrls)]
		}
		if e.dir == "" {
			if p, ok := own[ctrls]; !ok || p != hier[ctrls] {
				return nil, fmt.Errorf("cgroup hierarchy %q: CRIU is in %s there, neither the container's cgroup nor the runtime's (%s; moved by another process meanwhile, a classifier daemon?)", ctrls, hier[ctrls], own[ctrls])
			}
			// A cgroup outside our cgroup namespace's root reads
			// "/../x": a root that would climb out of its entry.
			if p := hier[ctrls]; p == "/.." || strings.HasPrefix(p, "/../") {
				return nil, fmt.Errorf("cgroup hierarchy %q: the runtime's cgroup there, %s, is outside its cgroup namespace", ctrls, p)
			}
			e.root = hier[ctrls]
			e.fstype, e.data = "cgroup2", ""
			if ctrls != "" {
				e.fstype, e.data = "cgroup", ctrls
				if noControllers(ctrls) {
					e.data = "none," + ctrls
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// procCgroup reads a /proc/.../cgroup file, its keys as the kernel
// writes them.
func procCgroup(p string) (map[string]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return cgroups.ParseProcCgroup(f)
}

// noControllers reports whether a hierarchy has no controller: cgroup2
// (""), or name= ones only.
func noControllers(ctrls string) bool {
	if ctrls == "" {
		return true
	}
	for _, c := range strings.Split(ctrls, ",") {
		if !strings.HasPrefix(c, "name=") {
			return false
		}
	}
	return true
}

// yardError says what CRIU's failure in the yard means: a hierarchy of
// the image's that this host has not (CRIU finds no entry for it and
// cannot make one in the read-only yard).
func (rs *restoration) yardError(err error) error {
	if rs.yard == nil || !strings.Contains(err.Error(), rs.yard.dir+"/") || !strings.Contains(err.Error(), "Read-only file system") {
		return err
	}
	return fmt.Errorf("the image has a cgroup hierarchy this host has not (CRIU restores only into the container's own cgroups here, in %s): %w", strings.Join(rs.yard.entries, " "), err)
}

// cloneDir clones d, one of the container's own directories, as a
// detached bind mount (open_tree), through the fd checked against the
// inode restore recorded. The clone is made here, in our mount
// namespace: the kernel clones only a mount of the caller's namespace.
func cloneDir(st *cgroups.State, d string) (int, error) {
	fd, err := st.Open(d, ".", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	tree, err := unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return -1, os.NewSyscallError("open_tree", err)
	}
	return tree, nil
}

// mountYard mounts, in the mount namespace of pid (CRIU's), a tmpfs at
// dir with the entries in it, then makes the tmpfs read-only. It runs on
// a thread of ours that ends once it has (osthread.Discard), and so
// does its place in CRIU's namespace. CRIU runs no code of the
// container's yet (it waits for its request), and dir is in the
// runtime's state directory, root's.
func mountYard(pid int, dir string, entries []yardEntry) error {
	errc := make(chan error, 1)
	osthread.Discard(func() {
		errc <- func() error {
			p := "/proc/" + strconv.Itoa(pid) + "/ns/mnt"
			ns, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return &os.PathError{Op: "open", Path: p, Err: err}
			}
			defer unix.Close(ns)
			// A thread that joins another mount namespace must not
			// share its root and cwd with ours (setns(2)).
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				return os.NewSyscallError("unshare", err)
			}
			if err := unix.Setns(ns, unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("join criu's mount namespace: %w", err)
			}
			const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
			if err := unix.Mount("tmpfs", dir, "tmpfs", flags, "mode=0700"); err != nil {
				return fmt.Errorf("mount a tmpfs on %s: %w", dir, err)
			}
			for _, e := range entries {
				at := filepath.Join(dir, e.name)
				if err := unix.Mkdir(at, 0o700); err != nil {
					return &os.PathError{Op: "mkdir", Path: at, Err: err}
				}
				if e.dir == "" {
					if err := unix.Mount("none", at, e.fstype, flags, e.data); err != nil {
						return fmt.Errorf("mount the %s hierarchy (%s) on %s: %w", e.fstype, e.data, at, err)
					}
					continue
				}
				if err := unix.MoveMount(e.tree, "", unix.AT_FDCWD, at, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
					return fmt.Errorf("attach the cgroup to %s: %w", at, os.NewSyscallError("move_mount", err))
				}
			}
			if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|flags, ""); err != nil {
				return fmt.Errorf("make %s read-only: %w", dir, err)
			}
			return nil
		}()
	})
	return <-errc
}
