// Package initcfg is the configuration the runtime sends to the init stage
// in the sync protocol's config message: the validated spec plus what the
// runtime worked out from its command line and the host.
package initcfg

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// Config is everything init needs; it reads nothing else from the host.
type Config struct {
	ID     string `json:"id"`
	Bundle string `json:"bundle"`
	// Rootfs is the absolute host path of the root filesystem.
	Rootfs string `json:"rootfs"`
	Spec   *Spec  `json:"spec"`

	NoPivot      bool `json:"noPivot,omitempty"`
	NoNewKeyring bool `json:"noNewKeyring,omitempty"`
	// PreserveFds is how many fds after stdio (3, 4, ...) the user
	// process keeps.
	PreserveFds int `json:"preserveFds,omitempty"`

	// Mounts are the spec's mounts as the runtime resolved them, once:
	// sources absolute, options parsed (init parses nothing).
	Mounts []rootfs.Mount `json:"mounts,omitempty"`
	// AskMountSources: init, in a new user namespace, may not reach a
	// bind source (under a directory its root may not search); it then
	// asks the runtime, which clones the source for it in init's mount
	// namespace when the mount is made (isync.MountSource). Unset when
	// the mount namespace is joined by path.
	AskMountSources bool `json:"askMountSources,omitempty"`
	// UserNS is true when init is in a user namespace other than the
	// host's: the container's own, or the one a runtime without root
	// runs in (rootless podman's). Devices are then bind-mounted, not
	// made with mknod, and sysfs falls back to a bind of the host's.
	UserNS bool `json:"userns,omitempty"`
	// Rootless: the runtime runs without root on the host; a refusal
	// for lack of privilege says so.
	Rootless bool `json:"rootless,omitempty"`
	// UnshareCgroupNS asks init to unshare the cgroup namespace itself,
	// once the runtime has placed it in its cgroups (cgroup v1, where a
	// process cannot be cloned straight into its cgroup).
	UnshareCgroupNS bool `json:"unshareCgroupns,omitempty"`
	// LoopbackUp asks init to bring the loopback device of the network
	// namespace it was created in up, as runc and crun do: a new one
	// holds "lo" down, and a container's services on 127.0.0.1 would be
	// unreachable ("network is unreachable"). Unset for a joined
	// namespace, whose devices are its owner's, and when the thread
	// that made the namespace ahead of init brought it up already.
	LoopbackUp bool `json:"loopbackUp,omitempty"`
	// HugePagesBack: the runtime turned transparent huge pages off for
	// init (libsandbox's hugePagesOffForInit); init turns them back on
	// just before the user's execve. Unset when the runtime's caller had
	// them off already: the user's process then keeps that, as under runc.
	HugePagesBack bool `json:"hugePagesBack,omitempty"`
	// CgroupMounts describe the host's cgroup hierarchies, for a "cgroup"
	// mount inside the container.
	CgroupMounts []rootfs.CgroupMount `json:"cgroupMounts,omitempty"`
	// WaitHooks asks init to stop after the mounts and let the runtime
	// run the prestart and createRuntime hooks (sync "hooks" message).
	WaitHooks bool `json:"waitHooks,omitempty"`
	// ContainerHooksOutside asks init to let the runtime run the
	// createContainer hooks (sync "containerHooks"), in init's
	// namespaces but for its user namespace, rather than run them
	// itself: see libsandbox's runContainerHooks.
	ContainerHooksOutside bool `json:"containerHooksOutside,omitempty"`
	// OOMScoreAdjSet: the runtime wrote process.oomScoreAdj to init's
	// /proc/PID/oom_score_adj itself (startInit), init leaves it.
	OOMScoreAdjSet bool `json:"oomScoreAdjSet,omitempty"`
	// HookState is the state passed to createContainer and
	// startContainer hooks (the pid is filled in by init).
	HookState *specs.State `json:"hookState,omitempty"`

	// LastCap is the highest capability number of the host kernel.
	LastCap int `json:"lastCap"`

	// Seccomp is the compiled filter, if the spec has one.
	Seccomp *Seccomp `json:"seccomp,omitempty"`
	// SeccompState is the ContainerProcessState JSON sent with the
	// listener fd (SCMP_ACT_NOTIFY).
	SeccompState []byte `json:"seccompState,omitempty"`
}

// Seccomp is a compiled linux.seccomp filter, loaded by init with
// seccomp(2) just before it execs the user process.
type Seccomp struct {
	// Filter is the BPF program: struct sock_filter entries, 8 bytes
	// each, native endian.
	Filter []byte `json:"filter"`
	// Flags are SECCOMP_FILTER_FLAG_* for seccomp(2).
	Flags uint `json:"flags,omitempty"`
	// Notify: the filter has SCMP_ACT_NOTIFY rules; init passes the
	// listener fd to ListenerPath's socket (through a connection the
	// runtime opened for it).
	Notify           bool   `json:"notify,omitempty"`
	ListenerPath     string `json:"listenerPath,omitempty"`
	ListenerMetadata string `json:"listenerMetadata,omitempty"`
}

// Spec is the part of the runtime spec that init acts on, under the
// spec's own JSON names. Not specs.Spec itself: the first time
// encoding/json decodes a struct type it builds the encoders of every
// type reachable from it, present in the JSON or not, and specs.Spec
// reaches the whole spec (resources, seccomp, Intel RDT, ...): 1.2 ms and
// 260 KB of init's heap, charged to the container, before init has done
// anything. These types reach only what init reads.
type Spec struct {
	Process    *specs.Process `json:"process,omitempty"`
	Root       *specs.Root    `json:"root,omitempty"`
	Hostname   string         `json:"hostname,omitempty"`
	Domainname string         `json:"domainname,omitempty"`
	Hooks      *Hooks         `json:"hooks,omitempty"`
	Linux      *Linux         `json:"linux,omitempty"`
}

// Hooks are the hooks init runs itself, in the container.
type Hooks struct {
	CreateContainer []specs.Hook `json:"createContainer,omitempty"`
	StartContainer  []specs.Hook `json:"startContainer,omitempty"`
}

// Linux is the part of the spec's linux section that init acts on.
type Linux struct {
	Namespaces        []specs.LinuxNamespace   `json:"namespaces,omitempty"`
	Devices           []specs.LinuxDevice      `json:"devices,omitempty"`
	Sysctl            map[string]string        `json:"sysctl,omitempty"`
	RootfsPropagation string                   `json:"rootfsPropagation,omitempty"`
	MaskedPaths       []string                 `json:"maskedPaths,omitempty"`
	ReadonlyPaths     []string                 `json:"readonlyPaths,omitempty"`
	MountLabel        string                   `json:"mountLabel,omitempty"`
	Personality       *specs.LinuxPersonality  `json:"personality,omitempty"`
	MemoryPolicy      *specs.LinuxMemoryPolicy `json:"memoryPolicy,omitempty"`
}

// NewSpec returns the part of spec that init acts on.
func NewSpec(spec *specs.Spec) *Spec {
	s := &Spec{
		Process:    spec.Process,
		Root:       spec.Root,
		Hostname:   spec.Hostname,
		Domainname: spec.Domainname,
	}
	if h := spec.Hooks; h != nil && (len(h.CreateContainer) > 0 || len(h.StartContainer) > 0) {
		s.Hooks = &Hooks{CreateContainer: h.CreateContainer, StartContainer: h.StartContainer}
	}
	if l := spec.Linux; l != nil {
		s.Linux = &Linux{
			Namespaces:        l.Namespaces,
			Devices:           l.Devices,
			Sysctl:            l.Sysctl,
			RootfsPropagation: l.RootfsPropagation,
			MaskedPaths:       l.MaskedPaths,
			ReadonlyPaths:     l.ReadonlyPaths,
			MountLabel:        l.MountLabel,
			Personality:       l.Personality,
			MemoryPolicy:      l.MemoryPolicy,
		}
	}
	return s
}
