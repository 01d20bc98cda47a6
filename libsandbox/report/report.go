// Package report says what isolation a container's init process really
// has, read from the host: /proc/PID (namespace links, id maps, status,
// mountinfo, cgroup), the container's root through /proc/PID/root, and
// its cgroup's files. Nothing the container says about itself is
// believed, and nothing of ours enters it: every file is one the kernel
// writes about the process, or one reached inside its root without
// following any of its symlinks out, and without opening anything but
// directories (see rootfs.go).
//
// The JSON shape is documented, field by field, in docs/report.md; a
// field's meaning never changes without Version changing.
package report

// Version is the schema's version. Fields may be added without changing
// it; a field removed or changed in meaning bumps it.
const Version = 1

// Report is `sandbox-runtime report --format json`.
type Report struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
	Pid     int    `json:"pid"`
	Status  string `json:"status"`
	// Partial: some section could not be read (Errors says which and
	// why); what is there was read.
	Partial bool `json:"partial"`
	// InitExited: init went away while it was read, which can leave
	// sections unread (Partial) or describing a dying process.
	InitExited bool     `json:"initExited"`
	Errors     []string `json:"errors"`

	Namespaces   []Namespace  `json:"namespaces"`
	User         User         `json:"user"`
	Capabilities Capabilities `json:"capabilities"`
	Security     Security     `json:"security"`
	Filesystem   Filesystem   `json:"filesystem"`
	Resources    Resources    `json:"resources"`
	Findings     []Finding    `json:"findings"`

	uidRead bool // User.UID was read: a zero there is uid 0
}

// Namespace is one of the eight namespace types, by its runtime-spec
// name.
type Namespace struct {
	Type  string `json:"type"`
	Inode uint64 `json:"inode"` // 0: not read
	// Host: the same namespace as the host's pid 1; Runtime: as the
	// runtime's own. New: neither.
	Host    bool `json:"host"`
	Runtime bool `json:"runtime"`
	New     bool `json:"new"`
	// Config is what the container's config asked: "new", "path" (join
	// one) or "none" (not listed: the runtime's).
	Config string `json:"config"`
}

// User is the process's ids, as the host sees them and as its user
// namespace does.
type User struct {
	// The maps, as the host reads /proc/PID/uid_map: without a user
	// namespace of its own, the identity "0 0 4294967295".
	UIDMap []IDMap `json:"uidMap"`
	GIDMap []IDMap `json:"gidMap"`
	UID    IDs     `json:"uid"`
	GID    IDs     `json:"gid"`
}

// IDMap is one line of an id map.
type IDMap struct {
	ContainerID uint32 `json:"containerID"`
	HostID      uint32 `json:"hostID"`
	Size        uint32 `json:"size"`
}

// IDs are the real, effective, saved and filesystem ids, in that order
// (the Uid: and Gid: lines of /proc/PID/status).
type IDs struct {
	Host [4]int64 `json:"host"`
	// Container: the same through the map; -1 for one it does not map.
	Container [4]int64 `json:"container"`
}

// Capabilities are the five sets, by name.
type Capabilities struct {
	// Over is whose resources they act on: "host" when the process is
	// in the host's user namespace, "container" when in one of its own
	// (a capability there counts only over what that namespace owns).
	Over        string   `json:"over"`
	Effective   []string `json:"effective"`
	Permitted   []string `json:"permitted"`
	Inheritable []string `json:"inheritable"`
	Bounding    []string `json:"bounding"`
	Ambient     []string `json:"ambient"`
}

// Security is what else limits the process.
type Security struct {
	NoNewPrivs bool    `json:"noNewPrivs"`
	Seccomp    Seccomp `json:"seccomp"`
	// LSMLabel is /proc/PID/attr/current ("" when no LSM gives one).
	LSMLabel string `json:"lsmLabel"`
}

// Seccomp is the Seccomp: and Seccomp_filters: lines of /proc/PID/status.
type Seccomp struct {
	Mode    string `json:"mode"`    // "disabled", "strict" or "filter"
	Filters int    `json:"filters"` // -1: the kernel does not say (before 5.9)
}

// Filesystem is what the process's root and mounts are.
type Filesystem struct {
	Root          Root        `json:"root"`
	Mounts        []Mount     `json:"mounts"`
	MaskedPaths   []PathCheck `json:"maskedPaths"`
	ReadonlyPaths []PathCheck `json:"readonlyPaths"`
	Devices       []Device    `json:"devices"`
}

// Root is the process's root directory.
type Root struct {
	// Method: "pivot_root" when the root is the root of its mount
	// namespace, "chroot" when mounts of the namespace lie outside it,
	// "unknown" when the kernel cannot list a namespace's mounts
	// (listmount(2) by namespace id: Linux 6.11).
	Method string `json:"method"`
	// HiddenMounts counts the namespace's mounts outside the root; -1
	// when unknown.
	HiddenMounts int `json:"hiddenMounts"`
	// Source is the root's directory within its file system (the
	// bundle's rootfs, for a bind mount from the host).
	Source   string `json:"source"`
	FSType   string `json:"fstype"`
	ReadOnly bool   `json:"readonly"`
}

// Mount is one line of /proc/PID/mountinfo.
type Mount struct {
	Destination string `json:"destination"`
	FSType      string `json:"fstype"`
	Source      string `json:"source"`
	// Root is the directory of the file system mounted: for a bind
	// mount, its source within that file system.
	Root     string `json:"root"`
	ReadOnly bool   `json:"readonly"`
	// Host: a file system the host has mounted too, and not a part of
	// the container's rootfs: a bind mount from the host, or a host
	// instance of a pseudo file system.
	Host bool `json:"host"`
	// Propagation: "private", or the mountinfo optional fields
	// ("shared:N", "master:N", "propagate_from:N", "unbindable").
	Propagation string `json:"propagation"`
	// SharedWithHost: in a peer group of one of the host's mounts:
	// mounts made under it on either side appear on the other.
	SharedWithHost bool `json:"sharedWithHost"`
}

// PathCheck is one masked or read-only path of the config and what it
// is in the container.
type PathCheck struct {
	Path string `json:"path"`
	// State, for maskedPaths: "masked", "absent" or "exposed"; for
	// readonlyPaths: "read-only", "absent" or "writable"; "unknown" for
	// both when it could not be looked at.
	State string `json:"state"`
}

// Device is a device node found under the container's /dev.
type Device struct {
	Path  string `json:"path"`
	Type  string `json:"type"` // "c" or "b"
	Major uint32 `json:"major"`
	Minor uint32 `json:"minor"`
	// Default: one of the runtime spec's default devices, or a pty.
	Default bool `json:"default"`
}

// Resources is the container's cgroup and the limits in force there.
type Resources struct {
	// Cgroup is init's cgroup as /proc/PID/cgroup names it: the v2
	// path, or on a v1 host the memory hierarchy's.
	Cgroup  string `json:"cgroup"`
	Version string `json:"version"` // "v1" or "v2"; "" if unknown
	Driver  string `json:"driver"`  // "cgroupfs" (the only one)
	Memory  Limit  `json:"memory"`
	Pids    Limit  `json:"pids"`
	CPU     CPU    `json:"cpu"`
}

// Limit is a limit (null: none) and the current usage (bytes, or
// processes).
type Limit struct {
	Limit *uint64 `json:"limit"`
	Usage uint64  `json:"usage"`
}

// CPU is the CPU bandwidth limit (null: none), in microseconds of CPU
// time per period, and the time used so far in nanoseconds.
type CPU struct {
	Quota  *int64 `json:"quota"`
	Period uint64 `json:"period"`
	Usage  uint64 `json:"usage"`
}

// Finding is one weakness of the isolation.
type Finding struct {
	// ID is stable (docs/report.md lists them); Subject says which
	// namespace, capability, path...
	ID       string `json:"id"`
	Subject  string `json:"subject"`
	Severity string `json:"severity"` // "high", "medium" or "low"
	What     string `json:"what"`
	Why      string `json:"why"`
}
