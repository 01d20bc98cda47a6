package libsandbox

import (
	"errors"
	"fmt"
	"os"
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
	// freezer is the one of v1 in the freezer hierarchy, if any: the
	// container may freeze a sub-cgroup of its own, which its own
	// freezer.state does not show (frozen).
	freezer *os.File
}

// frozen reports whether the freezer sub-cgroup is frozen or freezing
// (a v1 freezer.state says so of a cgroup below a frozen one too).
func (s *subCgroups) frozen() bool {
	if s.freezer == nil {
		return false
	}
	fd, err := unix.Openat(int(s.freezer.Fd()), "freezer.state", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	b := make([]byte, 16)
	n, _ := unix.Read(fd, b)
	if n < 0 {
		n = 0
	}
	return cgroups.V1Frozen(strings.TrimSpace(string(b[:n])))
}

func (s *subCgroups) Close() {
	if s.v2 != nil {
		s.v2.Close()
	}
	for _, f := range s.v1 {
		f.Close()
	}
}

// tasks opens the tasks file of every v1 directory, for the process's
// first child to write itself into (v1Tasks); the v2 one is clone3's.
func (s *subCgroups) tasks(above int) (*v1Tasks, error) {
	t := &v1Tasks{sub: true}
	for _, d := range s.v1 {
		fd, err := unix.Openat(int(d.Fd()), "tasks", unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			fd, err = moveAbove(fd, above)
		}
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("--cgroup: join %s: %w", d.Name(), &os.PathError{Op: "open", Path: d.Name() + "/tasks", Err: err})
		}
		t.fds, t.names = append(t.fds, fd), append(t.names, d.Name())
	}
	return t, nil
}

// v1Tasks are the tasks files of the v1 cgroups an exec'd process is
// born in: its first child writes "0", itself, into each before it
// joins anything (rawfork.Attr.CgroupTasks), where a write of its pid to
// cgroup.procs from the parent would wait for an RCU grace period
// (5-20 ms) whenever no other migration happened within about one.
//
// What the container can do meanwhile: nothing it could not before. The
// first child was already in these cgroups before its fork, moved there
// by us while it waited; it is now there a few system calls earlier, and
// still outside the container's pid namespace (no process of the
// container can name it), non-dumpable and tied to our life. A container
// allowed to freeze its cgroup (or a sub-cgroup of it) can stop it, as
// before, only for longer: the wait's check sees a frozen cgroup and
// fails the exec, and what it kills is first moved out of the freezer
// (rawfork.Attr.Unfreeze), since a frozen task ignores SIGKILL (a
// review found exec hanging there). The files are opened here, on the
// host, by their host paths (the container's cgroup namespace cannot
// rename its own root); the child closes them with every fd it does not
// hand on before it forks or execs.
type v1Tasks struct {
	fds   []int
	names []string // the cgroup directories, for errors
	sub   bool     // exec --cgroup's: errors say so
}

// openV1Tasks opens the tasks file of each v1 directory of st, at fds
// from above up.
func openV1Tasks(st *cgroups.State, above int) (*v1Tasks, error) {
	t := &v1Tasks{}
	for _, key := range sortedKeys(st.V1) {
		d := st.V1[key]
		// Through the fd checked against the inode create recorded
		// (cgroups.State.Open): by its path, the owner of a delegated
		// parent could have renamed another container's cgroup to it
		// (v1 renames a cgroup with processes in it), and the exec'd
		// process would run under that one's limits and device rules.
		fd, err := st.Open(d, "tasks", unix.O_WRONLY)
		if err == nil {
			fd, err = moveAbove(fd, above)
		}
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("cgroup %s: %w", d, err)
		}
		t.fds, t.names = append(t.fds, fd), append(t.names, d)
	}
	return t, nil
}

// moveAbove moves fd to the lowest free number from above up (closing
// fd): a tasks file opened by host root lets whoever holds it move any
// process they can name into the container's cgroup, and must never be
// one of the --preserve-fds numbers a caller did not fill (a review
// found them handed to the process then). The CLI refuses such numbers
// (inheritOnlyPreserved), so from there this never moves anything; it
// stays for the library's other callers, which Exec does not check.
func moveAbove(fd, above int) (int, error) {
	if fd >= above {
		return fd, nil
	}
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, above)
	unix.Close(fd)
	if err != nil {
		return -1, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err)
	}
	return nfd, nil
}

func (t *v1Tasks) Close() {
	for _, fd := range t.fds {
		unix.Close(fd)
	}
	t.fds = nil
}

// error words the first child's failure to write itself into the i-th
// tasks file (rawfork's stage "cgroup").
func (t *v1Tasks) error(i int, e error) string {
	if i < 0 || i >= len(t.names) {
		return fmt.Sprintf("join the container's cgroup: %v", e)
	}
	d := t.names[i]
	msg := fmt.Sprintf("cgroup %s: write 0 to %s/tasks: %v", d, d, e)
	if t.sub {
		msg = fmt.Sprintf("--cgroup: join %s: write 0 to tasks: %v", d, e)
	}
	if errors.Is(e, unix.ENOSPC) {
		msg += " (a v1 cpuset cgroup takes no process until its cpuset.cpus and cpuset.mems are set)"
	}
	return msg
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
		f, err := openBeneath(st, st.V1[key], p)
		if err != nil {
			return nil, err
		}
		s.v1 = append(s.v1, f)
		if key == st.V1Controllers["freezer"] {
			s.freezer = f
		}
	}
	if st.V2 != "" {
		p := ""
		if hasAll {
			p = all
		}
		f, err := openBeneath(st, st.V2, p)
		if err != nil {
			return nil, err
		}
		s.v2 = f
	}
	return s, nil
}

// openBeneath opens the directory sub of the cgroup directory base, one
// of st's (O_PATH): see subCgroups. base is reached as the drivers reach
// it (cgroups.State.Open).
func openBeneath(st *cgroups.State, base, sub string) (*os.File, error) {
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
	dir, err := st.Open(base, ".", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, fmt.Errorf("--cgroup: the container's cgroup: %w", err)
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
