package libsandbox

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
)

// subCgroups are the directories an exec'd process joins when the caller
// names sub-cgroups of the container's cgroup (exec --cgroup): one per v1
// hierarchy, and the v2 one (for clone3 CLONE_INTO_CGROUP).
//
// The container owns its cgroup and everything below it: it may make,
// remove and rename sub-cgroups at any time (with a writable cgroupfs).
// A sub-cgroup is therefore resolved from an fd of the container's own
// directory, with openat2 RESOLVE_BENEATH, never climbing out of it
// whatever the path says or what the container did to the tree, and
// used through the fd it gave: the pid is written into that directory's
// cgroup.procs, and clone3 gets that fd, so a rename after the lookup
// moves nothing outside (cgroupfs has no symlinks nor mount points of the
// container's, and renames stay within one parent; this is the belt to
// those braces).
type subCgroups struct {
	v2 *os.File
	v1 []*os.File
}

func (s *subCgroups) Close() {
	if s.v2 != nil {
		s.v2.Close()
	}
	for _, f := range s.v1 {
		f.Close()
	}
}

// enter moves pid into every v1 directory, and into the v2 one unless
// clone3 placed it there (cloned).
func (s *subCgroups) enter(pid int, cloned bool) error {
	dirs := s.v1
	if s.v2 != nil && !cloned {
		dirs = append(dirs[:len(dirs):len(dirs)], s.v2)
	}
	for _, d := range dirs {
		fd, err := unix.Openat(int(d.Fd()), "cgroup.procs", unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("--cgroup: join %s: %w", d.Name(), &os.PathError{Op: "open", Path: d.Name() + "/cgroup.procs", Err: err})
		}
		_, err = unix.Write(fd, []byte(strconv.Itoa(pid)))
		unix.Close(fd)
		if err == unix.ENOSPC {
			return fmt.Errorf("--cgroup: join %s: write %d to cgroup.procs: %w (a v1 cpuset cgroup takes no process until its cpuset.cpus and cpuset.mems are set)", d.Name(), pid, err)
		}
		if err != nil {
			return fmt.Errorf("--cgroup: join %s: write %d to cgroup.procs: %w", d.Name(), pid, err)
		}
	}
	return nil
}

// openSubCgroups opens the directories of the sub-cgroups that sub names
// in the container's cgroup st. sub maps a v1 controller to a path, or ""
// to the path for every hierarchy (the only key on a cgroup v2 host);
// paths are relative to the container's cgroup ("/x" is "x"; "" and "/"
// are the container's cgroup itself) and must exist. A hierarchy sub
// does not name is the container's cgroup.
func openSubCgroups(st *cgroups.State, sub map[string]string) (_ *subCgroups, retErr error) {
	s := &subCgroups{}
	defer func() {
		if retErr != nil {
			s.Close()
		}
	}()
	all, hasAll := sub[""]
	if len(st.V1) == 0 {
		for ctrl := range sub {
			if ctrl != "" {
				return nil, fmt.Errorf("--cgroup %s:%s: this host is cgroup v2, which has one hierarchy: give the path alone", ctrl, sub[ctrl])
			}
		}
	}
	// Each v1 hierarchy's path: "" for all, or its controllers' (which
	// must agree: they share the directory).
	paths := map[string]string{}
	named := map[string]string{} // hierarchy key -> controller that set it
	for ctrl, p := range sub {
		if ctrl == "" {
			continue
		}
		key, ok := st.V1Controllers[ctrl]
		if !ok {
			return nil, fmt.Errorf("--cgroup %s:%s: unknown controller %q (this host's v1 controllers: %s)", ctrl, p, ctrl, strings.Join(sortedKeys(st.V1Controllers), ", "))
		}
		if other, ok := named[key]; ok && paths[key] != p {
			return nil, fmt.Errorf("--cgroup: controllers %s and %s share a hierarchy and cannot be given different paths (%q, %q)", other, ctrl, paths[key], p)
		}
		named[key], paths[key] = ctrl, p
	}
	for _, key := range sortedKeys(st.V1) {
		p := paths[key]
		if hasAll {
			p = all
		}
		f, err := openBeneath(st.V1[key], p)
		if err != nil {
			return nil, err
		}
		s.v1 = append(s.v1, f)
	}
	if st.V2 != "" {
		p := ""
		if hasAll {
			p = all
		}
		f, err := openBeneath(st.V2, p)
		if err != nil {
			return nil, err
		}
		s.v2 = f
	}
	return s, nil
}

// openBeneath opens the directory sub of the cgroup directory base
// (O_PATH): see subCgroups.
func openBeneath(base, sub string) (*os.File, error) {
	rel := strings.Trim(sub, "/")
	for _, c := range strings.Split(rel, "/") {
		if c == ".." {
			// runc's words.
			return nil, fmt.Errorf("--cgroup: bad sub cgroup path: %s (it must stay inside the container's cgroup)", sub)
		}
	}
	if rel == "" {
		rel = "."
	}
	dir, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("--cgroup: the container's cgroup: %w", &os.PathError{Op: "open", Path: base, Err: err})
	}
	defer unix.Close(dir)
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	var fd int
	for {
		fd, err = unix.Openat2(dir, rel, &how)
		if err != unix.EINTR && err != unix.EAGAIN {
			break
		}
	}
	name := strings.TrimSuffix(base+"/"+rel, "/.")
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, fmt.Errorf("--cgroup %s: sub-cgroup %s does not exist (it must be made first)", sub, name)
	case errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ELOOP):
		return nil, fmt.Errorf("--cgroup: bad sub cgroup path: %s: %s leaves the container's cgroup: %w", sub, name, err)
	case err != nil:
		return nil, fmt.Errorf("--cgroup %s: %w", sub, &os.PathError{Op: "openat2", Path: name, Err: err})
	}
	return os.NewFile(uintptr(fd), name), nil
}
