package cgroups

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// What libsandbox asks of a container's cgroup, one small interface per
// need, so that a verb (and a test of it) depends on the part it uses.
// Manager is all of them: what New and Load return, and what a driver
// (fs2 for v2, fs1 for v1 and hybrid hosts, systemd) implements.
type Manager interface {
	Resourcer
	Placer
	Freezer
	Signaller
	Stater
	Destroyer
	// State is what Load needs later.
	State() *State
	// Version is "v1" or "v2".
	Version() string
}

// Resourcer applies resources: create and update.
type Resourcer interface {
	// Create makes the cgroup and applies the resources; on error it
	// removes what it made.
	Create(r *specs.LinuxResources) error
	// Update applies changed resources to an existing cgroup; devs are
	// the container's linux.devices, which stay allowed whatever new
	// device rules say.
	Update(r *specs.LinuxResources, devs []specs.LinuxDevice) error
}

// Placer places a new process (create's init, exec's process) in the
// cgroup before it runs anything of the user's.
type Placer interface {
	// CloneFD returns an fd of the v2 cgroup for clone3
	// CLONE_INTO_CGROUP, or nil when there is none to clone into (no
	// v2 cgroup, or not yet: systemd makes it when it gets a pid).
	CloneFD() (*os.File, error)
	// NeedsEnter reports whether a new process must still be placed
	// with Enter after clone (v1 hierarchies cannot be cloned into).
	NeedsEnter() bool
	// Enter moves pid into every hierarchy that clone did not.
	Enter(pid int, cloned bool) error
}

// Freezer is pause and resume, and the status that tells a paused
// container.
type Freezer interface {
	Freeze() error
	Thaw() error
	Frozen() bool
}

// Signaller is kill --all and ps.
type Signaller interface {
	// Pids lists the processes in the cgroup.
	Pids() ([]int, error)
	// Signal sends sig to every process in the cgroup.
	Signal(sig unix.Signal) error
}

// Stater is events and stats.
type Stater interface {
	Stats() (*Stats, error)
	// OOMKills returns how many processes the OOM killer has killed in
	// the cgroup so far.
	OOMKills() (uint64, error)
}

// Destroyer is delete.
type Destroyer interface {
	// Exists reports whether the cgroup is still there.
	Exists() bool
	// Destroy kills what is left in the cgroup and removes it; a
	// cgroup the runtime did not make it neither empties nor removes.
	// The parents this container made stay, as runc and crun leave
	// them (see removeOwn).
	Destroy() error
	// Undo is Destroy for a create that failed: it also removes the
	// parents this container made, so that a failed create leaves
	// nothing behind.
	Undo() error
}

// State is persisted in the container's state.json.
type State struct {
	// V2 is the cgroup's directory on the v2 hierarchy.
	V2 string `json:"v2,omitempty"`
	// V1 maps a v1 hierarchy (its controller list) to the directory.
	V1 map[string]string `json:"v1,omitempty"`
	// Systemd is the unit of the systemd driver's cgroup (V2 is its
	// directory); nil for the cgroupfs drivers.
	Systemd *Unit `json:"systemd,omitempty"`
	// Created are the directories this container made, parents first;
	// Destroy removes them in reverse.
	Created []string `json:"created,omitempty"`
	// V1Controllers maps a controller to its hierarchy key.
	V1Controllers map[string]string `json:"v1Controllers,omitempty"`
	// Inodes are the inodes of the container's own directories (V2 and
	// V1's) as create made them: a manager acts on a directory only
	// while it is still that one (identity.go).
	Inodes map[string]uint64 `json:"inodes,omitempty"`

	// claimed are the directories of Created that Claim recorded and
	// mkdirAll has not made yet.
	claimed map[string]bool
	// pins maps an own directory to the path it is reached by (at).
	pins map[string]string
}

// Config names a container's cgroup and its device rules.
type Config struct {
	// Path is linux.cgroupsPath; ID is used when it is empty.
	Path, ID string
	// Devices are the device rules (see Rules) Create applies.
	Devices []Rule
	// Systemd: the cgroup is a systemd scope (--systemd-cgroup), Path
	// is slice:prefix:name, and Annotations may set unit properties
	// (org.systemd.property.NAME).
	Systemd     bool
	Annotations map[string]string
	// UserInstance: with Systemd, the scope is made by the user's
	// systemd instance over the session bus, not by the system's (the
	// runtime runs without root: libsandbox decides).
	UserInstance bool
}

// New returns a manager for a container's cgroup on host h. Errors name
// linux.cgroupsPath or --systemd-cgroup.
func New(h *Host, cfg Config) (Manager, error) {
	if cfg.Systemd {
		return newSystemd(h, cfg)
	}
	path := cfg.Path
	if path == "" {
		path = cfg.ID
	}
	st := &State{}
	if h.V2 != "" {
		st.V2 = h.v2Dir(path)
	}
	if h.Mode != Unified {
		st.V1 = map[string]string{}
		st.V1Controllers = map[string]string{}
		for _, m := range h.V1 {
			st.V1[m.Key()] = h.v1Dir(m, path)
			for _, c := range m.Controllers {
				st.V1Controllers[c] = m.Key()
			}
		}
	}
	return load(st, cfg.Devices, h.fs), nil
}

// Load returns the manager of an existing cgroup.
func Load(st *State) Manager { return load(st, nil, nil) }

// load picks the driver st was saved by; devices are the rules Create
// applies (none for a cgroup that exists).
func load(st *State, devices []Rule, fs *fsys) Manager {
	if st.Systemd != nil {
		return loadSystemd(st, devices, fs, nil)
	}
	if len(st.V1) == 0 {
		return &fs2{dir: st.V2, st: st, devices: devices, fs: fs}
	}
	m := &fs1{st: st, devices: devices, fs: fs}
	if st.V2 != "" {
		m.v2 = &fs2{dir: st.V2, st: st, hybrid: true, fs: fs}
	}
	return m
}

// fsys is the cgroup filesystem as the drivers reach it. A nil *fsys is
// the kernel's. This package's tests pass one whose hooks do over a fake
// cgroupfs in a temp dir what the kernel does in a real one
// (fake_test.go): it reaches the drivers through Host (New) and load,
// never through a package variable, so that production code has no
// test switch to read and tests over different fakes do not share one.
type fsys struct {
	// mkdirHook fills a directory mkdirAll has just made with the
	// control files the kernel would create in a new cgroup.
	mkdirHook func(dir string)
	// writeHook sees every control-file write before it is made (even
	// to a missing file), by its path in the state (not the checked
	// fd's, identity.go), and may refuse it, as the kernel refuses a
	// value with EINVAL.
	writeHook func(path, value string) error
	// v2Root is the cgroup2 mount point that fs2.mountRoot otherwise
	// finds with statfs (a temp dir is never cgroup2).
	v2Root string
}

// Claim records in st.Created, before Create runs, the directories it
// will make: the container's directory in each hierarchy and the parents
// of it that do not exist yet. create saves the state once before making
// anything on the host, so that a create killed half-way can be cleaned
// up by delete --force; without the claim that saved state named no
// directory as the container's (Created was filled in memory, by
// Create), and delete --force after a create killed anywhere before its
// last state write left the whole cgroup behind (faults.bats). A claimed
// directory that was never made costs Destroy an rmdir that fails with
// ENOENT, which it ignores.
func (st *State) Claim() error {
	if st.Systemd != nil {
		// systemd makes (and removes) the scope's directories; the
		// unit's name, in the state already, is the claim.
		return nil
	}
	dirs := make([]string, 0, len(st.V1)+1)
	for _, d := range st.V1 {
		dirs = append(dirs, d)
	}
	if st.V2 != "" {
		dirs = append(dirs, st.V2)
	}
	for _, dir := range dirs {
		missing, err := missingDirs(dir)
		if err != nil {
			return err
		}
		if len(missing) > 0 && missing[0] == dir {
			// Its inode is not known until mkdirAll makes it: 0
			// says so (State.at).
			if st.Inodes == nil {
				st.Inodes = map[string]uint64{}
			}
			st.Inodes[dir] = 0
		}
		for i := len(missing) - 1; i >= 0; i-- {
			if !st.made(missing[i]) {
				st.claim(missing[i])
				if st.claimed == nil {
					st.claimed = map[string]bool{}
				}
				st.claimed[missing[i]] = true
			}
		}
	}
	return nil
}

// claim adds d to st.Created unless it is there already.
func (st *State) claim(d string) {
	if !st.made(d) {
		st.Created = append(st.Created, d)
	}
}

// unclaim takes d off st.Created.
func (st *State) unclaim(d string) {
	delete(st.claimed, d)
	for i, x := range st.Created {
		if x == d {
			st.Created = append(st.Created[:i], st.Created[i+1:]...)
			return
		}
	}
}

// missingDirs returns dir and those of its parents that do not exist,
// deepest first.
func missingDirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if d == "/" {
			break
		}
	}
	return missing, nil
}

// mkdirAll makes dir, the container's cgroup in one hierarchy, and its
// missing parents, recording each one made so that Destroy removes
// exactly those (and no more: a directory that existed before is never
// recorded). dir itself must not exist: the container's cgroup is always
// one the runtime makes (see checkTaken), and its mkdir is the atomic
// test of that, should another process have made it since the check. A
// directory Claim recorded that another process has made since (a
// parent, or dir) is taken off the record; made is called only for
// directories made here.
func (fs *fsys) mkdirAll(st *State, dir string, made func(string) error) error {
	missing, err := missingDirs(dir)
	if err != nil {
		return err
	}
	isMissing := map[string]bool{}
	for _, d := range missing {
		isMissing[d] = true
	}
	for d := range st.claimed {
		if within(dir, d) && !isMissing[d] {
			st.unclaim(d)
		}
	}
	if len(missing) == 0 {
		return fmt.Errorf("linux.cgroupsPath: cgroup %s already exists", dir)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		mode := os.FileMode(0o755)
		if d == dir {
			mode = newOwnMode // see record
		}
		if err := os.Mkdir(d, mode); err != nil {
			if !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("create cgroup %s: %w", d, err)
			}
			st.unclaim(d)
			if d == dir {
				return fmt.Errorf("linux.cgroupsPath: cgroup %s already exists (made by another process meanwhile)", d)
			}
			continue
		}
		if fs != nil && fs.mkdirHook != nil {
			fs.mkdirHook(d)
		}
		st.claim(d)
		delete(st.claimed, d)
		if d == dir {
			if err := st.record(d); err != nil {
				return err
			}
		}
		if made != nil {
			if err := made(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeOwn removes the container's own cgroup directories (and the
// cgroups its processes made below them), not the parents made for it:
// delete leaves those, as runc and crun do. A parent that goes with its
// last container is one every next container under it makes again: on
// v1 that is a mkdir in each hierarchy, and a memory cgroup's costs
// 0.6-0.9 ms here (mem_cgroup_alloc), what `run` and `create` paid back
// to back under a parent of their own (~0.9 ms a `run`, docs/bench.md).
// A parent left is also one whose settings an administrator may have
// made since: removing it with the last container would drop them.
func removeOwn(st *State) error {
	var firstErr error
	for i := len(st.Created) - 1; i >= 0; i-- {
		d := st.Created[i]
		if !st.isOwn(d) {
			continue
		}
		if err := st.removeOwnDir(d); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// removeCreated removes the directories a container made, deepest first.
// A cgroup can only be removed once its processes are gone (EBUSY until
// the last exiting task is reaped), so it retries briefly.
func removeCreated(st *State) error {
	var firstErr error
	for i := len(st.Created) - 1; i >= 0; i-- {
		d := st.Created[i]
		if isParentOf(d, st.Created[i+1:]) && hasSubdirs(d) {
			// A parent made for this container that now holds other
			// cgroups too (another container's, under the same new
			// parent): rmdir would fail with EBUSY. Leave it.
			continue
		}
		var err error
		if st.isOwn(d) {
			// The container's own cgroup may hold cgroups its processes
			// made (a container with its own cgroup namespace and a
			// writable cgroupfs may mkdir freely): remove them too, as
			// runc does, deepest first, or rmdir fails with EBUSY and
			// delete --force leaves the cgroup behind.
			err = st.removeOwnDir(d)
		} else {
			err = rmdir(d)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// isOwn reports whether d is the container's cgroup itself (on v2 or
// on one of the v1 hierarchies) rather than a parent made for it.
func (st *State) isOwn(d string) bool {
	if d == st.V2 {
		return true
	}
	for _, x := range st.V1 {
		if d == x {
			return true
		}
	}
	return false
}

func isParentOf(d string, dirs []string) bool {
	for _, x := range dirs {
		if strings.HasPrefix(x, d+"/") {
			return true
		}
	}
	return false
}

func hasSubdirs(d string) bool {
	ents, _ := os.ReadDir(d)
	for _, e := range ents {
		if e.IsDir() {
			return true
		}
	}
	return false
}

func rmdir(d string) error {
	for i := 0; ; i++ {
		err := unix.Rmdir(d)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY || i >= 200 {
			return fmt.Errorf("remove cgroup %s: %w", shown(d), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// write writes one cgroup file; the error names the resource field.
func (fs *fsys) write(dir, file, value, field string) error {
	p := filepath.Join(dir, file)
	// Before the open: O_TRUNC, a no-op on cgroupfs, empties a fake's
	// file even when the hook refuses the value.
	if fs != nil && fs.writeHook != nil {
		if err := fs.writeHook(shown(p), value); err != nil {
			return fmt.Errorf("%s: write %q to %s: %w", field, value, shown(p), err)
		}
	}
	fd, err := openRaw(p, unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if d, ok := goneDir(p); ok {
				return fmt.Errorf("%s: cgroup %s was removed, or is not the container's any more", field, d)
			}
			return fmt.Errorf("%s: %s does not exist (controller not available?)", field, shown(p))
		}
		return fmt.Errorf("%s: %w", field, err)
	}
	defer unix.Close(fd)
	n, err := retryEINTR(func() (int, error) { return unix.Write(fd, []byte(value)) })
	if err == nil && n < len(value) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("%s: write %q to %s: %w", field, value, shown(p), &os.PathError{Op: "write", Path: shown(p), Err: err})
	}
	return nil
}

// Cgroup files are read and written with raw system calls, not os.File:
// kernfs files can be polled, so os.File registers each with the
// netpoller, four more system calls per file (fcntl twice, epoll_ctl
// twice) where the work is three (open, read or write, close), and a
// create on cgroup v1 reads and writes some forty of them.

// openRaw opens p (O_CLOEXEC added); its error is os.OpenFile's.
func openRaw(p string, flags int) (int, error) {
	fd, err := retryEINTR(func() (int, error) {
		if dirfd, rel, ok := pinnedAt(p); ok {
			return unix.Openat(dirfd, rel, flags|unix.O_CLOEXEC, 0)
		}
		return unix.Open(p, flags|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: shown(p), Err: err}
	}
	return fd, nil
}

func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// readRaw returns the content of the file p (os.ReadFile's errors).
func readRaw(p string) ([]byte, error) {
	fd, err := openRaw(p, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	b := make([]byte, 0, 512)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := retryEINTR(func() (int, error) { return unix.Read(fd, b[len(b):cap(b)]) })
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: shown(p), Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

func read(dir, file string) (string, error) {
	b, err := readRaw(filepath.Join(dir, file))
	return strings.TrimSpace(string(b)), err
}

func readUint(dir, file string) (uint64, error) {
	s, err := read(dir, file)
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return ^uint64(0), nil
	}
	return strconv.ParseUint(s, 10, 64)
}

func exists(dir, file string) bool {
	_, err := os.Stat(filepath.Join(dir, file))
	return err == nil
}

// readPids reads a cgroup.procs file.
func readPids(dir string) ([]int, error) {
	b, err := readRaw(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

func (fs *fsys) enter(dir string, pid int) error {
	return fs.write(dir, "cgroup.procs", strconv.Itoa(pid), "cgroup "+shown(dir))
}
