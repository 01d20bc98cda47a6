package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/mountinfo"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
)

// Source is what Gather reads. Every path is a parameter, so that tests
// run it over fixture trees.
type Source struct {
	// Proc is procfs ("/proc"). Gather reads Proc/PID for the
	// container, Proc/self for the runtime (its namespaces, and its
	// mountinfo as the host's mount table) and Proc/1 for the host.
	Proc string
	Pid  int
	// Alive reports whether init is still the process it was when
	// Gather began (nil: assumed). Called once, after the reading.
	Alive func() bool
	// Spec is the container's config (nil: the config checks are left
	// out).
	Spec *specs.Spec
	// Cgroup is the container's cgroup (nil: no limits to report).
	Cgroup cgroups.Manager
	// NamespaceMounts returns the mount IDs (mountinfo's) of every
	// mount in the mount namespace of the process whose /proc
	// directory is the fd procPid (nil: the root's method is unknown).
	NamespaceMounts func(procPid int) ([]int, error)
	// Created: init waits for start. It loads the config's seccomp
	// filter only then, as the last thing before the container's
	// process runs: a filter the config asks for is not missing yet.
	Created bool
	// Timeout bounds what is read inside the container's root: a FUSE
	// mount there can leave any lookup waiting for ever. Zero: 2 s.
	Timeout time.Duration
}

// ErrGone is returned when init is not there to be read at all.
var ErrGone = errors.New("init process has gone")

// nsTypes are the namespace types in the report's order: the runtime
// spec's name and /proc/PID/ns's.
var nsTypes = []struct{ spec, proc string }{
	{string(specs.CgroupNamespace), "cgroup"},
	{string(specs.IPCNamespace), "ipc"},
	{string(specs.MountNamespace), "mnt"},
	{string(specs.NetworkNamespace), "net"},
	{string(specs.PIDNamespace), "pid"},
	{string(specs.TimeNamespace), "time"},
	{string(specs.UserNamespace), "user"},
	{string(specs.UTSNamespace), "uts"},
}

// Gather reads the report of src.Pid. Only a process that cannot be
// found at all is an error; whatever else cannot be read is named in
// Errors and the report is Partial.
func Gather(src Source) (*Report, error) {
	dir, err := unix.Open(filepath.Join(src.Proc, strconv.Itoa(src.Pid)), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT || err == unix.ESRCH {
			return nil, ErrGone
		}
		return nil, fmt.Errorf("open /proc/%d: %w", src.Pid, err)
	}
	defer unix.Close(dir)
	if src.Timeout == 0 {
		src.Timeout = 2 * time.Second
	}
	r := &Report{
		Version:    Version,
		Pid:        src.Pid,
		Errors:     []string{},
		Namespaces: []Namespace{},
		Findings:   []Finding{},
	}
	g := &gatherer{src: src, dir: dir, r: r}
	g.namespaces()
	g.status()
	g.lsm()
	mounts := g.mounts()
	g.inRoot(mounts)
	g.resources()
	if src.Alive != nil && !src.Alive() {
		r.InitExited = true
	}
	r.Partial = len(r.Errors) > 0 || r.InitExited
	r.Findings = findings(r, src.Spec, src.Created)
	return r, nil
}

type gatherer struct {
	src Source
	dir int // /proc/PID
	r   *Report
}

// fail records that a section could not be read.
func (g *gatherer) fail(section string, err error) {
	g.r.Errors = append(g.r.Errors, section+": "+err.Error())
}

func (g *gatherer) namespaces() {
	config := map[string]string{}
	if s := g.src.Spec; s != nil && s.Linux != nil {
		for _, ns := range s.Linux.Namespaces {
			config[string(ns.Type)] = "new"
			if ns.Path != "" {
				config[string(ns.Type)] = "path"
			}
		}
	}
	for _, t := range nsTypes {
		self, err := os.Readlink(filepath.Join(g.src.Proc, "self", "ns", t.proc))
		if errors.Is(err, os.ErrNotExist) {
			continue // a namespace type this kernel does not have
		}
		ns := Namespace{Type: t.spec, Config: config[t.spec]}
		if ns.Config == "" {
			ns.Config = "none"
		}
		link, err := readlinkAt(g.dir, "ns/"+t.proc)
		if err == nil {
			ns.Inode, err = nsInode(link)
		}
		if err != nil {
			g.fail("namespaces", err)
			g.r.Namespaces = append(g.r.Namespaces, ns)
			continue
		}
		host, _ := os.Readlink(filepath.Join(g.src.Proc, "1", "ns", t.proc))
		ns.Host = host == link
		ns.Runtime = self == link
		ns.New = !ns.Host && !ns.Runtime
		g.r.Namespaces = append(g.r.Namespaces, ns)
	}
}

// status reads the ids, capabilities, no_new_privs and seccomp.
func (g *gatherer) status() {
	r := g.r
	r.User.UIDMap, r.User.GIDMap = []IDMap{}, []IDMap{}
	for _, m := range []struct {
		file string
		dst  *[]IDMap
	}{{"uid_map", &r.User.UIDMap}, {"gid_map", &r.User.GIDMap}} {
		b, err := readAt(g.dir, m.file)
		if err == nil {
			*m.dst, err = parseIDMap(b)
		}
		if err != nil {
			g.fail("user", err)
		}
	}
	r.Capabilities = Capabilities{Over: "host", Effective: []string{}, Permitted: []string{}, Inheritable: []string{}, Bounding: []string{}, Ambient: []string{}}
	for _, ns := range r.Namespaces {
		if ns.Type == string(specs.UserNamespace) && ns.New {
			r.Capabilities.Over = "container"
		}
	}
	r.Security.Seccomp = Seccomp{Mode: "unknown", Filters: -1}
	b, err := readAt(g.dir, "status")
	if err != nil {
		g.fail("status", err)
		return
	}
	st := parseStatus(b)
	for _, id := range []struct {
		key string
		dst *IDs
	}{{"Uid", &r.User.UID}, {"Gid", &r.User.GID}} {
		ids, err := parseIDs(st[id.key])
		if err != nil {
			g.fail("user", err)
			continue
		}
		id.dst.Host = ids
		if id.key == "Uid" {
			r.uidRead = true
		}
		m := r.User.UIDMap
		if id.key == "Gid" {
			m = r.User.GIDMap
		}
		id.dst.Container = toContainer(m, ids)
	}
	for _, c := range []struct {
		key string
		dst *[]string
	}{
		{"CapEff", &r.Capabilities.Effective},
		{"CapPrm", &r.Capabilities.Permitted},
		{"CapInh", &r.Capabilities.Inheritable},
		{"CapBnd", &r.Capabilities.Bounding},
		{"CapAmb", &r.Capabilities.Ambient},
	} {
		v, ok := st[c.key]
		if !ok {
			if c.key == "CapAmb" {
				continue // before Linux 4.3
			}
			g.fail("capabilities", fmt.Errorf("status has no %s", c.key))
			continue
		}
		names, err := capNames(v)
		if err != nil {
			g.fail("capabilities", err)
			continue
		}
		*c.dst = names
	}
	r.Security.NoNewPrivs = st["NoNewPrivs"] == "1"
	switch st["Seccomp"] {
	case "0":
		r.Security.Seccomp.Mode = "disabled"
	case "1":
		r.Security.Seccomp.Mode = "strict"
	case "2":
		r.Security.Seccomp.Mode = "filter"
	default:
		g.fail("security", fmt.Errorf("status: unknown Seccomp %q", st["Seccomp"]))
	}
	if n, err := strconv.Atoi(st["Seccomp_filters"]); err == nil {
		r.Security.Seccomp.Filters = n
	}
}

// lsm reads the process's LSM label, where an LSM gives one.
func (g *gatherer) lsm() {
	b, err := readAt(g.dir, "attr/current")
	if err != nil {
		// EINVAL: no LSM implements the file.
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			g.fail("lsm", err)
		}
		return
	}
	g.r.Security.LSMLabel = strings.TrimRight(string(bytes.TrimRight(b, "\x00")), "\n")
}

// mounts reads the container's mount table and the host's, and
// classifies each mount of the container; it returns the container's
// table for inRoot.
func (g *gatherer) mounts() []mountinfo.Info {
	fs := &g.r.Filesystem
	fs.Mounts, fs.MaskedPaths, fs.ReadonlyPaths, fs.Devices = []Mount{}, []PathCheck{}, []PathCheck{}, []Device{}
	fs.Root = Root{Method: "unknown", HiddenMounts: -1}
	read := func() ([]mountinfo.Info, error) {
		b, err := readAt(g.dir, "mountinfo")
		if err != nil {
			return nil, err
		}
		return mountinfo.Parse(bytes.NewReader(b))
	}
	mi, err := read()
	if err != nil {
		g.fail("mounts", err)
		return nil
	}
	hostMi, err := hostMounts(g.src.Proc)
	if err != nil {
		g.fail("mounts", fmt.Errorf("the host's mounts: %w", err))
	}
	classify(fs, mi, hostMi)
	if fs.Root.Source == "" {
		// No mount on "/": the root is a directory inside a mount, as
		// only a chroot (or a pivot_root then a chroot) leaves it.
		fs.Root.Method = "chroot"
	}
	if g.src.NamespaceMounts == nil {
		return mi
	}
	ids, err := g.src.NamespaceMounts(g.dir)
	if errors.Is(err, ErrNoNamespaceMounts) {
		return mi
	}
	if err != nil {
		g.fail("root", err)
		return mi
	}
	// A mount made or removed by the container between the two reads
	// must not count as hidden: what it has in either is visible.
	again, err := read()
	if err != nil {
		g.fail("root", err)
		return mi
	}
	visible := map[int]bool{}
	for _, m := range append(mi, again...) {
		visible[m.ID] = true
	}
	hidden := 0
	for _, id := range ids {
		if !visible[id] {
			hidden++
		}
	}
	fs.Root.HiddenMounts = hidden
	switch {
	case hidden > 0:
		fs.Root.Method = "chroot"
	case fs.Root.Source != "":
		fs.Root.Method = "pivot_root"
	}
	return mi
}

func hostMounts(proc string) ([]mountinfo.Info, error) {
	f, err := os.Open(filepath.Join(proc, "self", "mountinfo"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return mountinfo.Parse(f)
}

// classify fills fs.Root and fs.Mounts from the container's mount table
// mi and the host's, hostMi.
//
// A mount is the host's when its file system is one the host has
// mounted too (same device) and it is not a part of the container's own
// rootfs (a bind of a directory of the rootfs onto another). Device
// numbers are the kernel's: the container cannot choose them.
func classify(fs *Filesystem, mi, hostMi []mountinfo.Info) {
	hostDevs := map[string]bool{}
	hostPeers := map[string]bool{}
	for _, m := range hostMi {
		hostDevs[m.Dev] = true
		for _, o := range m.Optional {
			if strings.HasPrefix(o, "shared:") {
				hostPeers[strings.TrimPrefix(o, "shared:")] = true
			}
		}
	}
	var root *mountinfo.Info
	for i := range mi {
		if mi[i].Point == "/" {
			root = &mi[i] // the last one: a mount stacked on "/" hides those below
		}
	}
	if root != nil {
		fs.Root.Source = root.Root
		fs.Root.FSType = root.FSType
		fs.Root.ReadOnly = readOnly(*root)
	}
	for _, m := range mi {
		if root != nil && m.ID == root.ID {
			continue
		}
		out := Mount{
			Destination: m.Point,
			FSType:      m.FSType,
			Source:      m.Source,
			Root:        m.Root,
			ReadOnly:    readOnly(m),
			Propagation: "private",
		}
		out.Host = hostDevs[m.Dev] && !(root != nil && m.Dev == root.Dev && within(m.Root, root.Root))
		if len(m.Optional) > 0 {
			out.Propagation = strings.Join(m.Optional, " ")
		}
		for _, o := range m.Optional {
			if strings.HasPrefix(o, "shared:") && hostPeers[strings.TrimPrefix(o, "shared:")] {
				out.SharedWithHost = true
			}
		}
		fs.Mounts = append(fs.Mounts, out)
	}
}

// readOnly: the mount, or its whole file system, is read-only.
func readOnly(m mountinfo.Info) bool {
	return hasOpt(m.Options, "ro") || hasOpt(m.SuperOptions, "ro")
}

func hasOpt(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

// within reports whether path p is dir or below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// resources reads the cgroup init is in and the limits of the
// container's cgroup.
func (g *gatherer) resources() {
	res := &g.r.Resources
	switch {
	case g.src.Cgroup == nil:
		res.Driver = "none"
	case g.src.Cgroup.State().Systemd != nil:
		res.Driver = "systemd"
	default:
		res.Driver = "cgroupfs"
	}
	b, err := readAt(g.dir, "cgroup")
	if err != nil {
		g.fail("resources", err)
	} else if own, err := cgroups.ParseProcCgroup(bytes.NewReader(b)); err != nil {
		g.fail("resources", err)
	} else {
		res.Cgroup = procCgroupPath(own)
	}
	if g.src.Cgroup == nil {
		// Not a failure: a runtime without root may run a container
		// in its own cgroup when it could make none and no limit was
		// asked (as runc's rootless mode): there are none to read.
		return
	}
	res.Version = g.src.Cgroup.Version()
	st, err := g.src.Cgroup.Stats()
	if err != nil {
		g.fail("resources", err)
		return
	}
	if l := st.Memory.Usage.Limit; l != 0 && !unlimitedMemory(l) {
		res.Memory.Limit = &l
	}
	res.Memory.Usage = st.Memory.Usage.Usage
	if l := st.Pids.Limit; l != 0 && l != ^uint64(0) {
		res.Pids.Limit = &l
	}
	res.Pids.Usage = st.Pids.Current
	res.CPU.Usage = st.CPU.Usage.Total
	quota, period, err := cgroups.CPULimit(g.src.Cgroup)
	if err != nil {
		g.fail("resources", err)
		return
	}
	if quota >= 0 {
		res.CPU.Quota = &quota
	}
	res.CPU.Period = period
}

// unlimitedMemory: v2 writes "max" (read as the largest uint64), v1 the
// largest page-aligned int64, 9223372036854771712.
func unlimitedMemory(l uint64) bool { return l >= 1<<62 }

// procCgroupPath picks the path to show from /proc/PID/cgroup: the v2
// one on a v2 host, else the memory hierarchy's.
func procCgroupPath(own map[string]string) string {
	for k, p := range own {
		for _, c := range strings.Split(k, ",") {
			if c == "memory" {
				return p
			}
		}
	}
	return own[""]
}
