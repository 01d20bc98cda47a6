// Package cgroups manages the container's control groups on cgroup v2 and
// on v1/hybrid hosts.
package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/sandbox-runtime/sandbox-runtime/internal/mountinfo"
)

// Mount is one cgroup hierarchy mounted on the host.
type Mount struct {
	Point       string   // mount point, e.g. /sys/fs/cgroup/memory
	Root        string   // the mount's root within the hierarchy (field 4)
	Type        string   // "cgroup" or "cgroup2"
	Controllers []string // v1: the controllers (and name=X) of the hierarchy
}

// ParseMountinfo returns the cgroup and cgroup2 mounts of a
// /proc/PID/mountinfo. When a hierarchy is mounted more than once, the
// first mount wins.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	infos, err := mountinfo.Parse(r)
	if err != nil {
		return nil, err
	}
	var out []Mount
	seen := map[string]bool{}
	for _, in := range infos {
		if in.FSType != "cgroup" && in.FSType != "cgroup2" {
			continue
		}
		m := Mount{Point: in.Point, Root: in.Root, Type: in.FSType}
		if in.FSType == "cgroup" {
			for _, opt := range strings.Split(in.SuperOptions, ",") {
				switch {
				case opt == "rw" || opt == "ro" || opt == "clone_children" || opt == "noprefix" || opt == "xattr" || opt == "cpuset_v2_mode" || opt == "favordynmods" || strings.HasPrefix(opt, "release_agent="):
				default:
					m.Controllers = append(m.Controllers, opt)
				}
			}
			sort.Strings(m.Controllers)
		}
		key := in.FSType + ":" + strings.Join(m.Controllers, ",")
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, m)
	}
	return out, nil
}

// Name is the directory name a v1 hierarchy usually has under
// /sys/fs/cgroup ("cpu,cpuacct", "memory", "systemd"), from its mount
// point.
func (m Mount) Name() string { return path.Base(m.Point) }

// ParseProcCgroup parses /proc/PID/cgroup into hierarchy → path. Keys
// are the controller list as the file writes it ("cpu,cpuacct",
// "name=systemd") and "" for the unified (v2) hierarchy.
func ParseProcCgroup(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("/proc/self/cgroup: malformed line %q", sc.Text())
		}
		out[parts[1]] = parts[2]
	}
	return out, sc.Err()
}
