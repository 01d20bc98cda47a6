package report

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The finding IDs (docs/report.md describes each).
const (
	FindHostNamespace   = "host-namespace"
	FindHostRoot        = "host-root"
	FindHostCapability  = "host-capability"
	FindWritableHost    = "writable-host-mount"
	FindSharedMount     = "shared-propagation"
	FindChroot          = "chroot"
	FindNotMasked       = "not-masked"
	FindNotReadonly     = "not-readonly"
	FindDevice          = "device"
	FindNoSeccomp       = "no-seccomp"
	FindNoNewPrivsUnset = "no-new-privs-unset"
	FindNoMemoryLimit   = "no-memory-limit"
	FindNoPidsLimit     = "no-pids-limit"
)

// FindingIDs are all of them, for the schema's test.
var FindingIDs = []string{
	FindHostNamespace, FindHostRoot, FindHostCapability, FindWritableHost,
	FindSharedMount, FindChroot, FindNotMasked, FindNotReadonly, FindDevice,
	FindNoSeccomp, FindNoNewPrivsUnset, FindNoMemoryLimit, FindNoPidsLimit,
}

// nsRisk is what sharing a namespace with the host exposes. The user
// namespace is not here: what sharing it costs is said by host-root and
// host-capability. Nor is time: it only shifts two clocks.
var nsRisk = map[string]struct{ severity, why string }{
	string(specs.NetworkNamespace): {"high", "it sees and can use the host's interfaces, ports and abstract unix sockets, and services listening on the host's loopback"},
	string(specs.PIDNamespace):     {"high", "it sees every host process, their command lines and environments where permissions allow, and can signal those of its uid"},
	string(specs.MountNamespace):   {"high", "it shares the host's mount table: what it mounts or unmounts, the host does"},
	string(specs.IPCNamespace):     {"medium", "it shares the host's System V IPC objects and POSIX message queues: shared memory of host processes is open to it"},
	string(specs.UTSNamespace):     {"low", "it shares the host's hostname, and with CAP_SYS_ADMIN can change it"},
	string(specs.CgroupNamespace):  {"low", "it sees the host's cgroup paths, which name the host's services and other containers"},
}

// dockerDefaultCaps are the capabilities container engines grant by
// default; holding one of them in the host's user namespace is the
// ordinary case and not a finding.
var dockerDefaultCaps = map[string]bool{
	"CAP_CHOWN": true, "CAP_DAC_OVERRIDE": true, "CAP_FSETID": true, "CAP_FOWNER": true,
	"CAP_MKNOD": true, "CAP_NET_RAW": true, "CAP_SETGID": true, "CAP_SETUID": true,
	"CAP_SETFCAP": true, "CAP_SETPCAP": true, "CAP_NET_BIND_SERVICE": true,
	"CAP_SYS_CHROOT": true, "CAP_KILL": true, "CAP_AUDIT_WRITE": true,
}

// capRisk says why holding a capability over the host matters, for
// those with a short answer.
var capRisk = map[string]struct{ severity, why string }{
	"CAP_SYS_ADMIN":       {"high", "mount, BPF, namespaces, and dozens of other administrative operations: most container escapes start here"},
	"CAP_SYS_MODULE":      {"high", "it can load kernel modules: any code in the kernel"},
	"CAP_SYS_RAWIO":       {"high", "raw I/O to ports and devices it can open (/dev/mem, disks)"},
	"CAP_SYS_PTRACE":      {"high", "it can trace and inject code into any process it can see"},
	"CAP_DAC_READ_SEARCH": {"high", "open_by_handle_at(2) opens any file of a file system it can reach, past its root (the 'shocker' escape)"},
	"CAP_NET_ADMIN":       {"high", "it can reconfigure the network stack it is in: the host's, if it shares the network namespace"},
	"CAP_BPF":             {"high", "it can load BPF programs, which read kernel memory"},
	"CAP_SYS_BOOT":        {"high", "it can reboot the host or load a new kernel (kexec)"},
	"CAP_SYS_TIME":        {"medium", "it can set the host's clock"},
	"CAP_SYSLOG":          {"medium", "it can read and clear the kernel log, which leaks kernel addresses"},
	"CAP_PERFMON":         {"medium", "performance monitoring of the whole host, side channels included"},
	"CAP_MAC_ADMIN":       {"high", "it can change the LSM policy that confines it"},
	"CAP_MAC_OVERRIDE":    {"high", "it can override the LSM policy that confines it"},
	"CAP_LINUX_IMMUTABLE": {"low", "it can clear immutable and append-only flags of files it can reach"},
}

// findings derives the weaknesses from what was read.
func findings(r *Report, spec *specs.Spec, created bool) []Finding {
	out := []Finding{}
	add := func(id, subject, severity, what, why string) {
		out = append(out, Finding{ID: id, Subject: subject, Severity: severity, What: what, Why: why})
	}
	for _, ns := range r.Namespaces {
		risk, ok := nsRisk[ns.Type]
		if !ok || ns.Inode == 0 || ns.New {
			continue
		}
		whose := "host's"
		if !ns.Host {
			whose = "runtime's" // the runtime is not in the host's: say whose it is
		}
		add(FindHostNamespace, ns.Type, risk.severity, fmt.Sprintf("shares the %s %s namespace", whose, ns.Type), risk.why)
	}
	if r.uidRead && r.User.UID.Host[1] == 0 {
		add(FindHostRoot, "uid 0", "medium", "runs as uid 0 of the host",
			"a file it can reach is written as the host's root, and whatever escapes the other layers is root on the host; a user namespace would map it to an unprivileged uid")
	}
	if r.Capabilities.Over == "host" {
		held := map[string]bool{}
		for _, set := range [][]string{r.Capabilities.Effective, r.Capabilities.Permitted, r.Capabilities.Ambient} {
			for _, c := range set {
				held[c] = true
			}
		}
		var names []string
		for c := range held {
			if !dockerDefaultCaps[c] {
				names = append(names, c)
			}
		}
		sort.Strings(names)
		for _, c := range names {
			risk, ok := capRisk[c]
			if !ok {
				risk.severity, risk.why = "medium", "a capability beyond what containers are usually given, over the host's resources"
			}
			add(FindHostCapability, c, risk.severity, c+" in the host user namespace", risk.why)
		}
	}
	fs := r.Filesystem
	for _, m := range fs.Mounts {
		if m.Host && !m.ReadOnly && !isMask(m, spec) {
			what := fmt.Sprintf("a host directory bind-mounted writable: %s (from %s)", m.Destination, m.Root)
			if m.Root == "/" && pseudoFS[m.FSType] {
				what = fmt.Sprintf("the host's %s file system mounted writable on %s", m.FSType, m.Destination)
			}
			add(FindWritableHost, m.Destination, "high", what,
				"it can change files the host and other containers use, and plant what they may run or read")
		}
		if m.SharedWithHost {
			add(FindSharedMount, m.Destination, "medium", fmt.Sprintf("a mount shared with the host: %s (%s)", m.Destination, m.Propagation),
				"mounts made under it on either side appear on the other: the container can mount over paths the host uses")
		}
	}
	if fs.Root.Method == "chroot" {
		add(FindChroot, "/", "high", "its root is a chroot, not a pivot_root",
			"the host's mount tree is still in its mount namespace, under its root: a process with CAP_SYS_CHROOT can climb out of a chroot")
	}
	for _, p := range fs.MaskedPaths {
		if p.State == "exposed" {
			add(FindNotMasked, p.Path, "medium", p.Path+" is not masked", "the config masks it: what it shows or controls of the host's kernel is open to the container")
		}
	}
	for _, p := range fs.ReadonlyPaths {
		if p.State == "writable" {
			add(FindNotReadonly, p.Path, "medium", p.Path+" is writable", "the config asks it read-only")
		}
	}
	for _, d := range fs.Devices {
		if d.Default {
			continue
		}
		kind, sev := "character", "medium"
		if d.Type == "b" {
			kind, sev = "block", "high"
		}
		add(FindDevice, d.Path, sev, fmt.Sprintf("device node %s (%s %d:%d)", d.Path, kind, d.Major, d.Minor),
			"not one of the default devices: if the device cgroup allows it, the container uses the host's device directly")
	}
	seccompPending := created && spec != nil && spec.Linux != nil && spec.Linux.Seccomp != nil
	if r.Security.Seccomp.Mode == "disabled" && !seccompPending {
		add(FindNoSeccomp, "seccomp", "medium", "no seccomp filter",
			"every system call of the kernel is open to it: a bug in any of them is a way out")
	}
	if statusRead(r) && !r.Security.NoNewPrivs {
		add(FindNoNewPrivsUnset, "no_new_privs", "low", "no_new_privs is not set",
			"a setuid or file-capability program in the container raises the privileges of whoever runs it")
	}
	if r.Resources.Version != "" {
		if r.Resources.Memory.Limit == nil {
			add(FindNoMemoryLimit, "memory", "medium", "no memory limit",
				"it can take the host's memory until the host's OOM killer kills something, not necessarily in the container")
		}
		if r.Resources.Pids.Limit == nil {
			add(FindNoPidsLimit, "pids", "low", "no pids limit",
				"a fork bomb in it takes every pid of the host")
		}
	}
	rank := map[string]int{"high": 0, "medium": 1, "low": 2}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Severity] < rank[out[j].Severity] })
	return out
}

// statusRead: /proc/PID/status was read (the seccomp mode comes from it).
func statusRead(r *Report) bool { return r.Security.Seccomp.Mode != "unknown" }

// pseudoFS are file systems that have no directory of the host's disks.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true, "mqueue": true,
	"devpts": true, "tmpfs": true, "devtmpfs": true, "securityfs": true, "debugfs": true,
	"tracefs": true, "bpf": true, "fusectl": true, "configfs": true, "pstore": true,
}

// isMask: a mount the runtime made to hide a masked path (/dev/null
// bound over a file) or to bind a device node from the host (a user
// namespace cannot mknod): a single node of the host's devtmpfs, which
// the devices list accounts for.
func isMask(m Mount, spec *specs.Spec) bool {
	if m.FSType == "devtmpfs" && m.Root != "/" && !strings.Contains(strings.TrimPrefix(m.Root, "/"), "/") {
		return true
	}
	if spec != nil && spec.Linux != nil {
		for _, p := range spec.Linux.MaskedPaths {
			if p == m.Destination {
				return true
			}
		}
	}
	return false
}
