package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Mode is the kind of cgroup setup a host has.
type Mode int

const (
	// Unified: cgroup v2 only, mounted at the root (modern distributions).
	Unified Mode = iota
	// Hybrid: v1 controllers, plus a cgroup2 hierarchy (often with few
	// or no controllers) at <root>/unified.
	Hybrid
	// Legacy: v1 only.
	Legacy
)

func (m Mode) String() string {
	return [...]string{"unified (v2)", "hybrid (v1 + v2)", "legacy (v1)"}[m]
}

// Host describes the host's cgroup hierarchies and the cgroups of the
// calling process. Tests build one over a fake cgroupfs in a temp dir.
type Host struct {
	Mode Mode
	// V2 is the mount point of the cgroup2 hierarchy ("" if none).
	V2 string
	// V1 are the v1 hierarchies.
	V1 []Mount
	// Own maps a hierarchy key (sorted controller list, "" for v2) to
	// the calling process's cgroup in it (/proc/self/cgroup).
	Own map[string]string

	// SystemdDir is what tells a host that runs systemd (sd_booted(3)):
	// "" is /run/systemd/system.
	SystemdDir string

	// fs is how the managers New returns reach the hierarchies (nil:
	// the kernel's).
	fs *fsys
	// dial connects to systemd (nil: over D-Bus).
	dial func() (bus, error)
}

// DefaultRoot is where hosts mount their cgroups.
const DefaultRoot = "/sys/fs/cgroup"

// Probe looks at the running host: a statfs of /sys/fs/cgroup tells a
// pure v2 host from the others without reading mountinfo (the common
// case stays cheap); v1 and hybrid hosts need the mount table.
func Probe() (*Host, error) {
	own, err := readOwn()
	if err != nil {
		return nil, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(DefaultRoot, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", DefaultRoot, err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return &Host{Mode: Unified, V2: DefaultRoot, Own: own}, nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mounts, err := ParseMountinfo(f)
	if err != nil {
		return nil, err
	}
	return hostFromMounts(ownControllers(mounts, own), own), nil
}

// NewHost describes a host from its cgroup mounts (ParseMountinfo) and a
// process's /proc/PID/cgroup (ParseProcCgroup), for tests and tools.
func NewHost(mounts []Mount, procCgroup map[string]string) *Host {
	own := make(map[string]string, len(procCgroup))
	for k, v := range procCgroup {
		own[SortKey(k)] = v
	}
	return hostFromMounts(mounts, own)
}

func hostFromMounts(mounts []Mount, own map[string]string) *Host {
	h := &Host{Mode: Legacy, Own: own}
	for _, m := range mounts {
		if !strings.HasPrefix(m.Point, DefaultRoot) {
			continue
		}
		if m.Type == "cgroup2" {
			if h.V2 == "" {
				h.V2 = m.Point
			}
			continue
		}
		h.V1 = append(h.V1, m)
	}
	switch {
	case len(h.V1) == 0 && h.V2 != "":
		h.Mode = Unified
	case h.V2 != "":
		h.Mode = Hybrid
	}
	return h
}

func readOwn() (map[string]string, error) { return readProcCgroup("/proc/self/cgroup") }

// readProcCgroup reads a /proc/.../cgroup file, its keys sorted
// (sortKey).
func readProcCgroup(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := ParseProcCgroup(f)
	if err != nil {
		return nil, err
	}
	own := make(map[string]string, len(raw))
	for k, v := range raw {
		own[SortKey(k)] = v
	}
	return own, nil
}

// SortKey normalizes a controller list ("cpuacct,cpu" -> "cpu,cpuacct"),
// as the hierarchies' keys have it.
func SortKey(k string) string {
	if !strings.Contains(k, ",") {
		return k
	}
	parts := strings.Split(k, ",")
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// cleanPath cleans a cgroupsPath lexically, keeping it relative if it is
// (runc's CleanPath): ".." can never climb above the root.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	c := filepath.Clean("/" + p)
	return strings.TrimPrefix(c, "/")
}

// v2Dir resolves the container's directory on the v2 hierarchy, as runc
// does: an absolute cgroupsPath is relative to the hierarchy's root; a
// relative one (or the default, the container ID) to the parent of our
// own cgroup, since our own cgroup has processes and so cannot have
// controllers enabled for children.
func (h *Host) v2Dir(path string) string {
	inner := cleanPath(path)
	if filepath.IsAbs(inner) {
		return filepath.Join(h.V2, inner)
	}
	return filepath.Join(h.V2, filepath.Dir(h.Own[""]), inner)
}

// v1Dir resolves it on a v1 hierarchy: absolute paths from the
// hierarchy's root, relative ones from our own cgroup there (runc's fs
// driver). A mount of a sub-tree (m.Root) is accounted for.
func (h *Host) v1Dir(m Mount, path string) string {
	inner := cleanPath(path)
	if !filepath.IsAbs(inner) {
		inner = filepath.Join(h.Own[m.Key()], inner)
	}
	rel, err := filepath.Rel(m.Root, inner)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		rel = strings.TrimPrefix(inner, "/")
	}
	return filepath.Join(m.Point, rel)
}

// Key is the hierarchy's controller list as /proc/self/cgroup keys it
// (sorted).
func (m Mount) Key() string { return strings.Join(m.Controllers, ",") }

// has reports whether a v1 hierarchy carries controller c.
func (m Mount) has(c string) bool {
	for _, x := range m.Controllers {
		if x == c {
			return true
		}
	}
	return false
}
