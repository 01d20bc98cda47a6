package libsandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu/rpc"
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
// the yard lacks by itself (a controller of the image's that this host
// does not have): the yard is a read-only tmpfs, so that it cannot, and
// the restore fails (Read-only file system) rather than reach a cgroup
// by path.
//
// Who holds what: the yard is mounted in CRIU's mount namespace only
// (spawnInRoot's), by a thread of ours that joins it for that and ends;
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
// hierarchy's root "/", and the cgroup mounts' sources (ExtMnt) in it.
// The hierarchies are CRIU's own (its /proc/PID/cgroup, in the kernel's
// order of co-mounted controllers, as CRIU names them in the image).
func (rs *restoration) makeCgroupYard(pid int, opts *rpc.CriuOpts) error {
	st := rs.cg.State()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return err
	}
	hier, err := cgroups.ParseProcCgroup(f)
	f.Close()
	if err != nil {
		return err
	}
	y := &cgroupYard{dir: filepath.Join(rs.dir, "criu-yard"), names: map[string]string{}}
	var (
		names []string
		trees []int
	)
	defer func() {
		for _, t := range trees {
			unix.Close(t)
		}
	}()
	opts.CgRoot = nil
	for _, ctrls := range sortedKeys(hier) {
		d := st.V2
		if ctrls != "" {
			d = st.V1[sortedCtrls(ctrls)]
		}
		if d == "" {
			return fmt.Errorf("cgroup hierarchy %q: the container has no cgroup there for CRIU", ctrls)
		}
		tree, err := cloneDir(st, d)
		if err != nil {
			return fmt.Errorf("cgroup %s: clone it for CRIU: %w", d, err)
		}
		trees = append(trees, tree)
		n := yardName(ctrls)
		names = append(names, n)
		y.names[d] = n
		opts.CgRoot = append(opts.CgRoot, &rpc.CgroupRoot{Ctrl: rpc.String(ctrls), Path: rpc.String("/")})
	}
	if err := os.Mkdir(y.dir, 0o700); err != nil {
		return fmt.Errorf("cgroup yard: %w", err)
	}
	if err := mountYard(pid, y.dir, names, trees); err != nil {
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
	rs.yard = y
	return nil
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
// dir with the trees attached as names, then makes the tmpfs read-only.
// It runs on a thread of ours locked for it and never unlocked: the
// thread ends with the goroutine, and so does its place in CRIU's
// namespace. CRIU runs no code of the container's yet (it waits for its
// request), and dir is in the runtime's state directory, root's.
func mountYard(pid int, dir string, names []string, trees []int) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
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
			for i, n := range names {
				at := filepath.Join(dir, n)
				if err := unix.Mkdir(at, 0o700); err != nil {
					return &os.PathError{Op: "mkdir", Path: at, Err: err}
				}
				if err := unix.MoveMount(trees[i], "", unix.AT_FDCWD, at, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
					return fmt.Errorf("attach the cgroup to %s: %w", at, os.NewSyscallError("move_mount", err))
				}
			}
			if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|flags, ""); err != nil {
				return fmt.Errorf("make %s read-only: %w", dir, err)
			}
			return nil
		}()
	}()
	return <-errc
}

// sortedCtrls is a controller list as the hierarchies' keys have it
// ("cpuacct,cpu" -> "cpu,cpuacct").
func sortedCtrls(ctrls string) string {
	cs := strings.Split(ctrls, ",")
	sort.Strings(cs)
	return strings.Join(cs, ",")
}
