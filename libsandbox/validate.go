package libsandbox

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/selinux/go-selinux"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/internal/procattr"
	"github.com/sandbox-runtime/sandbox-runtime/internal/rlimit"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/caps"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// plan is a validated spec and what the runtime worked out from it.
type plan struct {
	spec     *specs.Spec
	bundle   string
	rootfs   string
	ns       *nsPlan
	mounts   []rootfs.Mount // resolved once: sources absolute, options parsed
	lastCap  int
	warnings []string
	// cgroupMount: the spec mounts a cgroup filesystem.
	cgroupMount bool
	seccomp     *initcfg.Seccomp
	// idmapped: some mount is idmapped (idmap.go).
	idmapped bool
	// idMaps: how a new user namespace's maps are written.
	idMaps *mapPlan
}

// resolve checks the whole spec before anything is made on the host and
// resolves it, once, into the plan create acts on: paths made absolute,
// mount options parsed (init gets them parsed: initcfg), the namespaces
// to make and the namespace files to join opened (the plan's ns holds
// those fds: close them), the seccomp filter compiled. Every error names
// the field at fault. Things that are fine but imperfect (a capability
// this kernel lacks) come back as warnings.
func resolve(spec *specs.Spec, bundle string) (*plan, error) {
	return resolveCached(spec, bundle, "")
}

// resolveCached is resolve with compiled seccomp filters kept in
// seccompCache (compileSeccompCached; "": none).
func resolveCached(spec *specs.Spec, bundle, seccompCache string) (_ *plan, retErr error) {
	p := &plan{spec: spec, bundle: bundle, lastCap: caps.LastCap()}
	if err := checkVersion(spec.Version); err != nil {
		return nil, err
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return nil, errors.New("root.path: missing")
	}
	p.rootfs = spec.Root.Path
	if !filepath.IsAbs(p.rootfs) {
		p.rootfs = filepath.Join(bundle, p.rootfs)
	}
	if fi, err := os.Stat(p.rootfs); err != nil {
		return nil, fmt.Errorf("root.path: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("root.path: %s is not a directory", p.rootfs)
	}
	// pivot_root and mount targets want the real path of the rootfs.
	real, err := filepath.EvalSymlinks(p.rootfs)
	if err != nil {
		return nil, fmt.Errorf("root.path: %w", err)
	}
	p.rootfs = real

	if spec.Process == nil {
		return nil, errors.New("process: missing")
	}
	if err := p.checkProcess(spec.Process); err != nil {
		return nil, err
	}
	if spec.Linux == nil {
		return nil, errors.New("linux: missing")
	}
	if err := checkUnsupported(spec); err != nil {
		return nil, err
	}
	ns, err := planNamespaces(spec.Linux.Namespaces)
	if err != nil {
		return nil, err
	}
	p.ns = ns
	defer func() {
		if retErr != nil {
			ns.close()
		}
	}()
	if err := p.checkLinux(spec); err != nil {
		return nil, err
	}
	if err := p.checkMounts(spec); err != nil {
		return nil, err
	}
	if err := checkHooks(spec.Hooks); err != nil {
		return nil, err
	}
	if spec.Linux.Seccomp != nil {
		if p.seccomp, err = compileSeccompCached(seccompCache, spec.Linux.Seccomp); err != nil {
			return nil, err
		}
	}
	if Rootless() {
		if err := p.checkRootless(spec); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func checkVersion(v string) error {
	if v == "" {
		return errors.New("ociVersion: missing")
	}
	major, _, _ := strings.Cut(v, ".")
	if major != "1" {
		return fmt.Errorf("ociVersion %q: unsupported, this runtime implements 1.x (up to %s)", v, specs.Version)
	}
	return nil
}

func (p *plan) checkProcess(proc *specs.Process) error {
	if len(proc.Args) == 0 && proc.CommandLine == "" {
		return errors.New("process.args: must not be empty")
	}
	if proc.CommandLine != "" {
		return errors.New("process.commandLine: is for Windows; use process.args")
	}
	if proc.Args[0] == "" {
		return errors.New("process.args[0]: must not be empty")
	}
	if proc.Cwd == "" {
		return errors.New("process.cwd: missing")
	}
	if !path.IsAbs(proc.Cwd) {
		return fmt.Errorf("process.cwd %q: must be an absolute path", proc.Cwd)
	}
	for i, kv := range proc.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" || strings.ContainsRune(kv, 0) {
			return fmt.Errorf("process.env[%d] %q: must be NAME=value", i, kv)
		}
	}
	seen := map[string]bool{}
	for i, r := range proc.Rlimits {
		if _, ok := rlimit.Resource(r.Type); !ok {
			return fmt.Errorf("process.rlimits[%d].type: unknown rlimit %q", i, r.Type)
		}
		if seen[r.Type] {
			return fmt.Errorf("process.rlimits[%d].type: duplicate rlimit %q", i, r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return fmt.Errorf("process.rlimits[%d]: %s soft limit %d is above the hard limit %d", i, r.Type, r.Soft, r.Hard)
		}
	}
	_, warnings, err := caps.Resolve(proc.Capabilities, p.lastCap)
	if err != nil {
		return err
	}
	p.warnings = append(p.warnings, warnings...)
	if proc.OOMScoreAdj != nil && (*proc.OOMScoreAdj < -1000 || *proc.OOMScoreAdj > 1000) {
		return fmt.Errorf("process.oomScoreAdj %d: must be between -1000 and 1000", *proc.OOMScoreAdj)
	}
	if proc.ApparmorProfile != "" && !apparmorEnabled() {
		return fmt.Errorf("process.apparmorProfile %q: AppArmor is not enabled on this host", proc.ApparmorProfile)
	}
	if proc.SelinuxLabel != "" && !selinux.GetEnabled() {
		return fmt.Errorf("process.selinuxLabel %q: SELinux is not enabled on this host", proc.SelinuxLabel)
	}
	if proc.Scheduler != nil {
		if _, err := procattr.Scheduler(proc.Scheduler); err != nil {
			return err
		}
	}
	if proc.IOPriority != nil {
		if _, err := procattr.IOPriority(proc.IOPriority); err != nil {
			return err
		}
	}
	if a := proc.ExecCPUAffinity; a != nil {
		if _, err := procattr.List(a.Initial); err != nil {
			return fmt.Errorf("process.execCPUAffinity.initial %q: %w", a.Initial, err)
		}
		if _, err := procattr.List(a.Final); err != nil {
			return fmt.Errorf("process.execCPUAffinity.final %q: %w", a.Final, err)
		}
	}
	return nil
}

// nodeDir is where the host's NUMA nodes are listed (possible, online).
var nodeDir = "/sys/devices/system/node"

// checkProcessLinux checks linux.personality and linux.memoryPolicy, which
// apply to the container's process and to exec'd ones (as in runc).
func checkProcessLinux(l *specs.Linux) error {
	if l.Personality != nil {
		if _, err := procattr.Personality(l.Personality); err != nil {
			return err
		}
	}
	if l.MemoryPolicy != nil {
		mp, err := procattr.MemoryPolicy(l.MemoryPolicy)
		if err != nil {
			return err
		}
		if err := procattr.CheckNodes(mp, nodeDir); err != nil {
			return err
		}
	}
	return nil
}

func apparmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}

// checkUnsupported refuses fields we do not implement: an ignored field
// would be a silent surprise.
func checkUnsupported(spec *specs.Spec) error {
	switch {
	case spec.Windows != nil:
		return errors.New("windows: not supported on Linux")
	case spec.Solaris != nil:
		return errors.New("solaris: not supported on Linux")
	case spec.VM != nil:
		return errors.New("vm: not supported (this is not a VM runtime)")
	case spec.ZOS != nil:
		return errors.New("zos: not supported on Linux")
	}
	return nil
}

// Sysctls that belong to the IPC namespace (ipc_sysctls.c, mq_sysctl.c).
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true,
	"kernel.sem": true, "kernel.shmall": true, "kernel.shmmax": true,
	"kernel.shmmni": true, "kernel.shm_rmid_forced": true,
	"kernel.msg_next_id": true, "kernel.sem_next_id": true, "kernel.shm_next_id": true,
}

func (p *plan) checkLinux(spec *specs.Spec) error {
	l := spec.Linux
	ns := p.ns
	newUser := ns.create&nsFlags[specs.UserNamespace] != 0
	if len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0 {
		if !newUser {
			return errors.New("linux.uidMappings: id mappings need a new user namespace")
		}
	} else if newUser {
		return errors.New("linux.uidMappings: a new user namespace needs uidMappings and gidMappings")
	}
	if newUser && (len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0) {
		return errors.New("linux.gidMappings: a new user namespace needs uidMappings and gidMappings")
	}
	if err := checkIDMappings("linux.uidMappings", l.UIDMappings); err != nil {
		return err
	}
	if err := checkIDMappings("linux.gidMappings", l.GIDMappings); err != nil {
		return err
	}
	if newUser {
		pv, err := currentPrivilege()
		if err != nil {
			return fmt.Errorf("linux.uidMappings: %w", err)
		}
		if p.idMaps, err = planIDMaps(l.UIDMappings, l.GIDMappings, pv); err != nil {
			return err
		}
	}
	if err := checkSuidDumpable(ns); err != nil {
		return err
	}
	if spec.Hostname != "" && !ns.has(specs.UTSNamespace) {
		return errors.New("hostname: unable to set hostname without a private UTS namespace")
	}
	if spec.Domainname != "" && !ns.has(specs.UTSNamespace) {
		return errors.New("domainname: unable to set domainname without a private UTS namespace")
	}
	if len(l.TimeOffsets) > 0 {
		if ns.create&nsFlags[specs.TimeNamespace] == 0 {
			return errors.New("linux.timeOffsets: offsets need a new time namespace")
		}
		for k := range l.TimeOffsets {
			if k != "monotonic" && k != "boottime" {
				return fmt.Errorf("linux.timeOffsets: unknown clock %q (monotonic or boottime)", k)
			}
		}
	}
	if l.RootfsPropagation != "" {
		if _, ok := rootfs.PropagationFlags(l.RootfsPropagation); !ok {
			return fmt.Errorf("linux.rootfsPropagation: unknown value %q", l.RootfsPropagation)
		}
	}
	// Without a mount namespace, whatever the rootfs set-up mounts would
	// be mounted in the host's, and stay there: runc makes the mounts
	// anyway (and refuses masked and read-only paths, with the words we
	// keep for them); we refuse them all, a deliberate difference
	// (README "Differences from runc").
	if !ns.has(specs.MountNamespace) {
		const fix = `add {"type": "mount"} to linux.namespaces`
		switch {
		case len(spec.Mounts) > 0:
			return fmt.Errorf("mounts: need a mount namespace, or they would be made in the host's and left there: %s, or remove them", fix)
		case len(l.MaskedPaths) > 0:
			return fmt.Errorf("linux.maskedPaths: unable to restrict sys entries without a private MNT namespace: %s", fix)
		case len(l.ReadonlyPaths) > 0:
			return fmt.Errorf("linux.readonlyPaths: unable to restrict sys entries without a private MNT namespace: %s", fix)
		case spec.Root.Readonly:
			return fmt.Errorf("root.readonly: needs a mount namespace: %s", fix)
		case len(l.Devices) > 0:
			return fmt.Errorf("linux.devices: need a mount namespace: %s", fix)
		}
	}
	for _, list := range []struct {
		field string
		paths []string
	}{{"maskedPaths", l.MaskedPaths}, {"readonlyPaths", l.ReadonlyPaths}} {
		for i, p := range list.paths {
			if !path.IsAbs(p) {
				return fmt.Errorf("linux.%s[%d] %q: must be an absolute path", list.field, i, p)
			}
		}
	}
	for i, d := range l.Devices {
		if !path.IsAbs(d.Path) {
			return fmt.Errorf("linux.devices[%d].path %q: must be an absolute path", i, d.Path)
		}
		if _, ok := rootfs.DeviceType(d.Type); !ok {
			return fmt.Errorf("linux.devices[%d].type %q: must be c, b, u or p", i, d.Type)
		}
	}
	for k := range l.Sysctl {
		if err := checkSysctl(k, ns); err != nil {
			return fmt.Errorf("linux.sysctl %q: %w", k, err)
		}
	}
	if l.MountLabel != "" && !selinux.GetEnabled() {
		return fmt.Errorf("linux.mountLabel %q: SELinux is not enabled on this host", l.MountLabel)
	}
	if err := checkNetDevices(l, ns); err != nil {
		return err
	}
	if err := checkIntelRdt(l.IntelRdt); err != nil {
		return err
	}
	return checkProcessLinux(l)
}

// checkSysctl allows only sysctls of a namespace the container owns, as
// runc does: anything else would change the host.
func checkSysctl(key string, ns *nsPlan) error {
	k := strings.ReplaceAll(key, "/", ".")
	switch {
	case ipcSysctls[k] || strings.HasPrefix(k, "fs.mqueue."):
		if !ns.has(specs.IPCNamespace) {
			return errors.New("needs a private IPC namespace")
		}
		return nil
	case strings.HasPrefix(k, "net."):
		if !ns.has(specs.NetworkNamespace) {
			return errors.New("needs a private network namespace")
		}
		if joinsOwnNetNS(ns) {
			return errors.New("not allowed in the runtime's own (host) network namespace")
		}
		return nil
	case k == "kernel.hostname" || k == "kernel.domainname":
		if !ns.has(specs.UTSNamespace) {
			return errors.New("needs a private UTS namespace")
		}
		return nil
	}
	return errors.New("not in a separate kernel namespace: it would change the host")
}

// joinsOwnNetNS reports whether the network namespace joined by path is
// the runtime's own, as runc's isHostNetNS does: a net.* sysctl written
// there would change the host.
func joinsOwnNetNS(ns *nsPlan) bool {
	var own unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &own); err != nil {
		return false
	}
	for _, j := range ns.joins {
		var st unix.Stat_t
		if j.typ == specs.NetworkNamespace && j.f != nil && unix.Fstat(int(j.f.Fd()), &st) == nil &&
			st.Dev == own.Dev && st.Ino == own.Ino {
			return true
		}
	}
	return false
}

func (p *plan) checkMounts(spec *specs.Spec) error {
	for i, m := range spec.Mounts {
		if m.Destination == "" {
			return fmt.Errorf("mounts[%d].destination: missing", i)
		}
		if !path.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d].destination %q: must be an absolute path", i, m.Destination)
		}
		o, err := rootfs.ParseOptions(m.Options)
		if err != nil {
			return fmt.Errorf("mounts[%d].options: %w", i, err)
		}
		if rootfs.IDMapped(m, o) {
			if err := checkIDMapMount(i, &m, o, p.ns); err != nil {
				return err
			}
			p.idmapped = true
		}
		if o.Bind() || m.Type == "bind" {
			if m.Source == "" {
				return fmt.Errorf("mounts[%d].source: a bind mount needs a source", i)
			}
			if !filepath.IsAbs(m.Source) {
				// runtime-spec: bind sources may be relative to the bundle.
				m.Source = filepath.Join(p.bundle, m.Source)
			}
			// The source is not looked for here: an earlier mount of
			// the spec may provide it. It is when its mount is made
			// (rootfs.openSource), and its absence is mounts[i].source's
			// error then.
			if m.Type != "" && m.Type != "bind" && m.Type != "none" {
				// runc accepts e.g. type "tmpfs" with "bind"; mount(8)
				// ignores the type of a bind, so do we.
				m.Type = "bind"
			}
		} else if m.Type == "" {
			return fmt.Errorf("mounts[%d].type: missing (and not a bind mount)", i)
		} else if strings.ContainsAny(m.Type, "/ ") {
			return fmt.Errorf("mounts[%d].type %q: not a filesystem type", i, m.Type)
		}
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			p.cgroupMount = true
		}
		p.mounts = append(p.mounts, rootfs.Mount{
			Destination: m.Destination,
			Source:      m.Source,
			Type:        m.Type,
			Options:     o,
			IDMapped:    rootfs.IDMapped(m, o),
			UIDMappings: m.UIDMappings,
			GIDMappings: m.GIDMappings,
		})
	}
	return nil
}

func checkHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	for _, list := range []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime},
		{"createContainer", h.CreateContainer}, {"startContainer", h.StartContainer},
		{"poststart", h.Poststart}, {"poststop", h.Poststop},
	} {
		for i, hk := range list.hooks {
			field := "hooks." + list.name + "[" + strconv.Itoa(i) + "]"
			if !filepath.IsAbs(hk.Path) {
				return fmt.Errorf("%s.path %q: must be an absolute path", field, hk.Path)
			}
			if hk.Timeout != nil && *hk.Timeout <= 0 {
				return fmt.Errorf("%s.timeout %d: must be greater than zero", field, *hk.Timeout)
			}
			if list.name != "startContainer" {
				if _, err := os.Stat(hk.Path); err != nil {
					return fmt.Errorf("%s.path: %w", field, err)
				}
			}
		}
	}
	return nil
}
