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
			// Only controllers and name=: cgroup1_show_options prints
			// the hierarchy's options among them, and an LSM adds its
			// own (SELinux's "seclabel", "context=..."), which would
			// make the key differ from /proc/self/cgroup's.
			for _, opt := range strings.Split(in.SuperOptions, ",") {
				if v1Controllers[opt] || strings.HasPrefix(opt, "name=") {
					m.Controllers = append(m.Controllers, opt)
				}
			}
			if len(m.Controllers) == 0 {
				continue
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

// v1Controllers are the kernel's v1 controllers, as /proc/cgroups and
// mountinfo name them (include/linux/cgroup_subsys.h; io is "blkio" on
// v1). No controller has been added to v1 since misc (5.13).
var v1Controllers = map[string]bool{
	"cpuset": true, "cpu": true, "cpuacct": true, "blkio": true,
	"memory": true, "devices": true, "freezer": true, "net_cls": true,
	"perf_event": true, "net_prio": true, "hugetlb": true, "pids": true,
	"rdma": true, "misc": true, "debug": true,
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
