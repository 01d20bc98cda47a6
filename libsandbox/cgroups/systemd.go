package cgroups

// The systemd driver (--systemd-cgroup): the container's cgroup is a
// transient scope unit that systemd makes, on pure cgroup v2 hosts. What
// systemd can say about the resources goes into the unit's properties, so
// that systemd, which rewrites a unit's cgroup files from its properties
// (at a daemon-reload, for one), keeps the limits instead of lifting
// them; all of them are also written to the cgroup's files by the fs2
// driver, which knows what systemd cannot express. runc's systemd v2
// manager does the same (vendor/github.com/opencontainers/cgroups/
// systemd/v2.go: Apply starts the unit, Set sets properties then calls
// fs2's Set).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	dbus "github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Unit is the systemd unit of a container's cgroup, in its state.
type Unit struct {
	// Name is the scope's unit name, <prefix>-<name>.scope.
	Name string `json:"name"`
	// Slice is the slice unit it is in (system.slice by default).
	Slice string `json:"slice"`
	// User: the unit is the user's systemd instance's (the runtime
	// runs without root), reached over the user's session bus; its
	// default slice is user.slice, as runc's rootless mode.
	User bool `json:"user,omitempty"`
}

// The defaults of an empty cgroupsPath, runc's
// (libcontainer/specconv/spec_linux.go createCgroupConfig, and
// UnifiedManager.Apply's slice): runc-<id>.scope in system.slice.
const (
	defaultSlice       = "system.slice"
	defaultUserSlice   = "user.slice"
	defaultScopePrefix = "runc"
)

// parseSystemdPath reads linux.cgroupsPath as the systemd driver takes
// it, "slice:prefix:name" (runc's format; "system.slice:docker:1234" is
// docker-1234.scope in system.slice), empty parts defaulted as runc
// does (slice: system.slice, or user.slice for the user's instance).
// It returns the unit and slice names and the slice's directory
// below the v2 root.
func parseSystemdPath(path, id, slice string) (u Unit, sliceDir string, err error) {
	u.Slice = slice
	prefix, name := defaultScopePrefix, id
	if path != "" {
		parts := strings.Split(path, ":")
		if len(parts) != 3 {
			return u, "", fmt.Errorf("linux.cgroupsPath %q: with --systemd-cgroup it must be slice:prefix:name (e.g. system.slice:docker:1234)", path)
		}
		if parts[0] != "" {
			u.Slice = parts[0]
		}
		prefix, name = parts[1], parts[2]
	}
	if name == "" {
		return u, "", fmt.Errorf("linux.cgroupsPath %q: the name (after the second colon) is empty", path)
	}
	if strings.HasSuffix(name, ".slice") {
		// runc makes a slice unit then (kubelet's pod slices), which
		// cannot hold processes: a container needs a scope.
		return u, "", fmt.Errorf("linux.cgroupsPath %q: %s is a slice, and a container's processes need a scope (slice:prefix:name)", path, name)
	}
	if strings.ContainsAny(prefix+name, "/\x00") {
		return u, "", fmt.Errorf("linux.cgroupsPath %q: a unit name cannot contain /", path)
	}
	u.Name = prefix + "-" + name + ".scope"
	sliceDir, err = expandSlice(u.Slice)
	if err != nil {
		return u, "", fmt.Errorf("linux.cgroupsPath %q: %w", path, err)
	}
	return u, sliceDir, nil
}

// expandSlice turns a slice name into its cgroup path as systemd nests
// slices, by the dashes in the name: a-b-c.slice is
// /a.slice/a-b.slice/a-b-c.slice, and -.slice the root (systemd.slice(5);
// runc's ExpandSlice).
func expandSlice(slice string) (string, error) {
	base, ok := strings.CutSuffix(slice, ".slice")
	if !ok || base == "" || strings.Contains(slice, "/") {
		return "", fmt.Errorf("invalid slice name %q (want NAME.slice)", slice)
	}
	if base == "-" {
		return "/", nil
	}
	var path, prefix string
	for _, part := range strings.Split(base, "-") {
		if part == "" {
			// "a--b.slice", "-a.slice", "a-.slice"
			return "", fmt.Errorf("invalid slice name %q (an empty part between dashes)", slice)
		}
		path += "/" + prefix + part + ".slice"
		prefix += part + "-"
	}
	return path, nil
}

// newSystemd returns the systemd manager of a new container's cgroup.
func newSystemd(h *Host, cfg Config) (Manager, error) {
	if !h.systemdBooted() {
		return nil, errors.New("--systemd-cgroup: this host does not run systemd (no /run/systemd/system): drop --systemd-cgroup to use the cgroupfs driver")
	}
	if h.Mode != Unified {
		return nil, fmt.Errorf("--systemd-cgroup: only pure cgroup v2 hosts are supported, this one is %s: drop --systemd-cgroup to use the cgroupfs driver", h.Mode)
	}
	slice := defaultSlice
	if cfg.UserInstance {
		slice = defaultUserSlice
	}
	u, sliceDir, err := parseSystemdPath(cfg.Path, cfg.ID, slice)
	if err != nil {
		return nil, err
	}
	extra, err := annotationProps(cfg.Annotations)
	if err != nil {
		return nil, err
	}
	u.User = cfg.UserInstance
	st := &State{V2: filepath.Join(h.V2, sliceDir, u.Name), Systemd: &u}
	m := loadSystemd(st, cfg.Devices, h.fs, h.dial)
	m.started = false
	m.id, m.extra = cfg.ID, extra
	if u.User {
		// The user's manager keeps its units below its own cgroup
		// (user@UID.service's), which only it can tell.
		root, err := m.managerCgroup()
		if err != nil {
			return nil, err
		}
		m.dir = filepath.Join(h.V2, root, sliceDir, u.Name)
		st.V2 = m.dir
	}
	return m, nil
}

// managerCgroup returns the cgroup of the systemd instance m talks to
// (its ControlGroup property), below the v2 root.
func (m *systemd) managerCgroup() (string, error) {
	c, err := m.bus()
	if err != nil {
		return "", err
	}
	v, err := c.GetManagerProperty("ControlGroup")
	if err != nil {
		return "", fmt.Errorf("--systemd-cgroup: ask the user's systemd for its cgroup: %w", err)
	}
	root := strings.Trim(v, `"`)
	if !strings.HasPrefix(root, "/") || strings.Contains(root, "..") {
		return "", fmt.Errorf("--systemd-cgroup: the user's systemd says its cgroup is %q", v)
	}
	return root, nil
}

func loadSystemd(st *State, devices []Rule, fs *fsys, dial func() (bus, error)) *systemd {
	if dial == nil {
		dial = dialSystemd
		if st.Systemd.User {
			dial = dialUserSystemd
		}
	}
	return &systemd{
		fs2:     &fs2{dir: st.V2, st: st, devices: devices, fs: fs},
		unit:    *st.Systemd,
		dial:    dial,
		started: true,
	}
}

// systemd is a container's cgroup as a transient scope. It is an fs2
// manager of the scope's directory for everything systemd leaves to the
// cgroup's files (freezing, signals, stats, what the properties cannot
// say), with the unit's life (start, properties, stop) over D-Bus.
type systemd struct {
	*fs2
	unit Unit
	dial func() (bus, error)
	conn bus
	ver  int // systemd's version, 0 until asked

	id    string        // the container's, in the unit's description
	extra []sd.Property // from org.systemd.property.* annotations
	res   *specs.LinuxResources
	// started: the scope exists, made by this container (a loaded
	// state's). A new manager starts it in Enter, with init's pid.
	started bool
	// notOurs: starting it found a unit of that name already there,
	// which is not this container's to stop.
	notOurs bool
}

func (m *systemd) Version() string { return "v2" }

// Create checks what it can before init exists; the scope itself can
// only be made with a process in it (systemd refuses an empty scope), so
// Enter makes it with init's pid, as runc's Apply does.
func (m *systemd) Create(r *specs.LinuxResources) error {
	if err := checkTaken(m.st); err != nil {
		return err
	}
	m.res = r
	if _, _, err := m.resourceProps(r, m.devices, false); err != nil {
		return err
	}
	_, err := m.bus()
	return err
}

func (m *systemd) CloneFD() (*os.File, error) {
	if !m.started {
		return nil, nil
	}
	return m.fs2.CloneFD()
}

func (m *systemd) NeedsEnter() bool { return !m.started }

// Enter starts the scope with pid (create's init, not yet running
// anything of the user's) as its process, then writes what systemd does
// not (and everything else again, so that the files say exactly what
// the fs2 driver would have written) and attaches the device filter.
// Once started, processes are cloned into the scope (CloneFD) and Enter
// only moves one that was not.
func (m *systemd) Enter(pid int, cloned bool) error {
	if m.started {
		if cloned {
			return nil
		}
		return m.fs.enter(m.dir, pid)
	}
	props, r, err := m.resourceProps(m.res, m.devices, false)
	if err != nil {
		return err
	}
	unitProps := []sd.Property{
		sd.PropDescription("sandbox-runtime container " + m.id),
		sd.PropSlice(m.unit.Slice),
		newProp("Delegate", true),
		newProp("PIDs", []uint32{uint32(pid)}),
		// Accounting on, as runc does: the controllers are enabled for
		// the scope whatever the host's defaults.
		newProp("MemoryAccounting", true),
		newProp("CPUAccounting", true),
		newProp("IOAccounting", true),
		newProp("TasksAccounting", true),
		// Not ordered after basic.target nor stopped at shutdown by
		// conflicts: the container is its manager's, not systemd's.
		newProp("DefaultDependencies", false),
	}
	props = append(append(unitProps, props...), m.extra...)
	if err := m.start(props); err != nil {
		return err
	}
	m.started = true
	// Nothing else of this create needs systemd but a cleanup, which
	// connects again: a foreground run would hold the connection (two
	// sockets) for the container's life.
	defer m.Close()
	if err := m.fs2.set(r, false); err != nil {
		return err
	}
	if m.devices != nil {
		return attachDeviceFilter(m.dir, m.devices)
	}
	return nil
}

// start starts the transient unit and waits for systemd's job to end.
// A unit of that name that is loaded but failed (a container's that was
// OOM-killed, say, not yet garbage-collected) is reset and the start
// tried once more, as runc's startUnit does; one that is active is
// another's, and an error.
func (m *systemd) start(props []sd.Property) error {
	c, err := m.bus()
	if err != nil {
		return err
	}
	t0 := time.Now()
	for try := 0; ; try++ {
		ch := make(chan string, 1)
		ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
		_, err = c.StartTransientUnitContext(ctx, m.unit.Name, "replace", props, ch)
		cancel()
		if isDbusError(err, "org.freedesktop.systemd1.UnitExists") {
			if try == 0 {
				_ = c.ResetFailedUnitContext(context.Background(), m.unit.Name)
				continue
			}
			m.notOurs = true
			return fmt.Errorf("linux.cgroupsPath: systemd unit %s already exists; a container gets a scope of its own", m.unit.Name)
		}
		if err != nil {
			return fmt.Errorf("--systemd-cgroup: start unit %s: %w", m.unit.Name, err)
		}
		err = waitJob(ch, "start", m.unit.Name)
		logrus.Debugf("systemd: started %s (call and job) in %v", m.unit.Name, time.Since(t0))
		return err
	}
}

// busTimeout bounds every call to systemd and every job wait.
const busTimeout = 30 * time.Second

func waitJob(ch <-chan string, what, unit string) error {
	select {
	case res := <-ch:
		if res != "done" {
			return fmt.Errorf("--systemd-cgroup: %s unit %s: job %s", what, unit, res)
		}
		return nil
	case <-time.After(busTimeout):
		return fmt.Errorf("--systemd-cgroup: %s unit %s: timed out after %v", what, unit, busTimeout)
	}
}

// Update sets the unit's properties, then the files. The memory limit is
// checked against the usage first: systemd would apply a lower one at
// once, and the OOM killer act on it, before the files are written.
func (m *systemd) Update(r *specs.LinuxResources, devs []specs.LinuxDevice) error {
	if r == nil {
		return nil
	}
	if err := m.checkMemoryUsage(r.Memory); err != nil {
		return err
	}
	var rules []Rule
	if len(r.Devices) > 0 {
		var err error
		if rules, err = Rules(r.Devices, devs); err != nil {
			return err
		}
	}
	props, r, err := m.resourceProps(r, rules, true)
	if err != nil {
		return err
	}
	if len(props) > 0 {
		c, err := m.bus()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
		defer cancel()
		if err := c.SetUnitPropertiesContext(ctx, m.unit.Name, true, props...); err != nil {
			return fmt.Errorf("--systemd-cgroup: set properties of unit %s: %w", m.unit.Name, err)
		}
	}
	if err := m.fs2.set(r, true); err != nil {
		return err
	}
	if rules != nil {
		return attachDeviceFilter(m.dir, rules)
	}
	return nil
}

// Pids lists nothing once the scope is gone: systemd removes a scope
// and its cgroup when its last process exits, where the fs drivers'
// cgroup stays until delete (ps of a stopped container is no error).
func (m *systemd) Pids() ([]int, error) {
	if !m.Exists() {
		return nil, nil
	}
	return m.fs2.Pids()
}

func (m *systemd) Signal(sig unix.Signal) error {
	if !m.Exists() {
		return nil
	}
	return m.fs2.Signal(sig)
}

// Destroy kills what is left in the scope, stops the unit and waits for
// it to go, lets systemd forget it if it failed, and removes what is
// left of the cgroup (systemd before v240 left delegated sub-cgroups;
// runc's Destroy does the same). A unit that was there before this
// container is left alone.
func (m *systemd) Destroy() error {
	if m.notOurs {
		return nil
	}
	if m.Exists() {
		if pids, _ := m.fs2.Pids(); len(pids) > 0 {
			m.fs2.Signal(unix.SIGKILL)
		}
	}
	c, err := m.bus()
	if err != nil {
		return err
	}
	t0 := time.Now()
	ch := make(chan string, 1)
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	_, err = c.StopUnitContext(ctx, m.unit.Name, "replace", ch)
	cancel()
	switch {
	case isDbusError(err, "org.freedesktop.systemd1.NoSuchUnit"):
		// Gone with its last process.
	case err != nil:
		return fmt.Errorf("--systemd-cgroup: stop unit %s: %w", m.unit.Name, err)
	default:
		if err := waitJob(ch, "stop", m.unit.Name); err != nil {
			logrus.Warn(err)
		}
	}
	_ = c.ResetFailedUnitContext(context.Background(), m.unit.Name)
	logrus.Debugf("systemd: stopped %s (call, job, reset-failed) in %v", m.unit.Name, time.Since(t0))
	return removeTree(m.dir)
}

// Undo is Destroy: the systemd driver makes no parent directories (the
// slice is systemd's).
func (m *systemd) Undo() error { return m.Destroy() }

// removeTree removes dir and the cgroups below it, deepest first.
//
// A cgroup without sub-cgroups, as nearly every container's is, goes
// with one rmdir: delete removes one in each v1 hierarchy, and reading
// each directory first (a cgroup's dozens of files) cost more than the
// rmdirs. Any failure (EBUSY for sub-cgroups or tasks on their way
// out) takes the walk, which ends in rmdir's retries.
func removeTree(dir string) error {
	if err := unix.Rmdir(dir); err == nil || err == unix.ENOENT {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return rmdir(dir)
}

// bus connects to systemd once per manager.
func (m *systemd) bus() (bus, error) {
	if m.conn != nil {
		return m.conn, nil
	}
	t0 := time.Now()
	c, err := m.dial()
	if err != nil {
		return nil, fmt.Errorf("--systemd-cgroup: connect to systemd over D-Bus: %w", err)
	}
	logrus.Debugf("systemd: connected in %v", time.Since(t0))
	m.conn = c
	return c, nil
}

// version is systemd's version (a property asked for once, only when a
// property needs a newer systemd than the oldest supported), or 0 when
// it cannot be told.
func (m *systemd) version() int {
	if m.ver != 0 {
		return m.ver
	}
	m.ver = -1
	c, err := m.bus()
	if err != nil {
		return 0
	}
	s, err := c.GetManagerProperty("Version")
	if err != nil {
		logrus.Warnf("--systemd-cgroup: systemd's version: %v", err)
		return 0
	}
	m.ver = parseSystemdVersion(s)
	return m.ver
}

// parseSystemdVersion reads the leading number of systemd's Version
// property ("\"252.39-1~deb12u2\"", "v245.4-1.fc32"); 0 if there is none.
func parseSystemdVersion(s string) int {
	s = strings.TrimLeft(s, "\"v")
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func isDbusError(err error, name string) bool {
	var e dbus.Error
	return errors.As(err, &e) && e.Name == name
}

// Close releases the D-Bus connection, if one was made.
func (m *systemd) Close() {
	if m.conn != nil {
		m.conn.Close()
		m.conn = nil
	}
}
