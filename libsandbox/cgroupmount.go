package libsandbox

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
)

// cgroupMounts describes the host's cgroup hierarchies for a "cgroup"
// mount in the container: one cgroup2 mount on a pure v2 host; on a v1 or
// hybrid host one entry per hierarchy under /sys/fs/cgroup (the v1
// controllers, name=systemd, and the v2 "unified" one).
func cgroupMounts() ([]initcfg.CgroupMount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mounts, err := cgroups.ParseMountinfo(f)
	if err != nil {
		return nil, err
	}
	cf, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer cf.Close()
	own, err := cgroups.ParseProcCgroup(cf)
	if err != nil {
		return nil, err
	}
	return hierarchies(mounts, own), nil
}

// hierarchies is cgroupMounts' pure part. own maps a hierarchy to the
// cgroup the container will be in (/proc/PID/cgroup keys).
func hierarchies(mounts []cgroups.Mount, own map[string]string) []initcfg.CgroupMount {
	var out []initcfg.CgroupMount
	var v1 []cgroups.Mount
	var v2 *cgroups.Mount
	for i := range mounts {
		m := mounts[i]
		if !strings.HasPrefix(m.Point, "/sys/fs/cgroup") {
			continue
		}
		if m.Type == "cgroup2" {
			if v2 == nil {
				v2 = &m
			}
			continue
		}
		v1 = append(v1, m)
	}
	// /proc/PID/cgroup lists a hierarchy's controllers in the kernel's
	// subsystem order ("cpuset,cpu,cpuacct", "pids,name=x") and
	// ParseMountinfo sorts them: compare them sorted.
	ownSorted := make(map[string]string, len(own))
	for k, v := range own {
		parts := strings.Split(k, ",")
		sort.Strings(parts)
		ownSorted[strings.Join(parts, ",")] = v
	}
	hostPath := func(m cgroups.Mount, key string) string {
		rel, err := filepath.Rel(m.Root, ownSorted[key])
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = "."
		}
		return filepath.Join(m.Point, rel)
	}
	if len(v1) == 0 && v2 != nil {
		return []initcfg.CgroupMount{{Type: "cgroup2", Path: hostPath(*v2, "")}}
	}
	for _, m := range v1 {
		key := strings.Join(m.Controllers, ",")
		cm := initcfg.CgroupMount{
			Name:    m.Name(),
			Type:    "cgroup",
			Options: key,
			Path:    hostPath(m, key),
		}
		// "cpu,cpuacct" is reached as cpu and cpuacct too.
		if len(m.Controllers) > 1 {
			for _, c := range m.Controllers {
				if c != cm.Name && !strings.HasPrefix(c, "name=") {
					cm.Symlinks = append(cm.Symlinks, c)
				}
			}
		}
		out = append(out, cm)
	}
	if v2 != nil {
		out = append(out, initcfg.CgroupMount{Name: path.Base(v2.Point), Type: "cgroup2", Path: hostPath(*v2, "")})
	}
	return out
}
