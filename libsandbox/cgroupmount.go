package libsandbox

import (
	"path"
	"strings"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// cgroupMounts describes, for a "cgroup" mount in the container, the
// hierarchies to mount and the container's own cgroup in each: one
// cgroup2 mount on a pure v2 host; on a v1 or hybrid host one entry per
// hierarchy (the v1 controllers, name=systemd, and the v2 "unified" one).
func cgroupMounts(host *cgroups.Host, st *cgroups.State) ([]rootfs.CgroupMount, error) {
	if host.Mode == cgroups.Unified {
		return []rootfs.CgroupMount{{Type: "cgroup2", Path: st.V2, Ino: st.Inodes[st.V2]}}, nil
	}
	var out []rootfs.CgroupMount
	for _, m := range host.V1 {
		cm := rootfs.CgroupMount{
			Name:    m.Name(),
			Type:    "cgroup",
			Options: m.Key(),
			Path:    st.V1[m.Key()],
			Ino:     st.Inodes[st.V1[m.Key()]],
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
	if host.V2 != "" {
		out = append(out, rootfs.CgroupMount{Name: path.Base(host.V2), Type: "cgroup2", Path: st.V2, Ino: st.Inodes[st.V2]})
	}
	return out, nil
}

// ownCgroups names the runtime's own cgroup in each hierarchy: where a
// container has no cgroup of its own (a runtime without root: makeCgroup),
// init stays in it, and a cgroup mount without a cgroup namespace shows
// it.
func ownCgroups(host *cgroups.Host) *cgroups.State {
	st := &cgroups.State{V1: map[string]string{}}
	if host.V2 != "" {
		st.V2 = path.Join(host.V2, host.Own[""])
	}
	for _, m := range host.V1 {
		own := host.Own[m.Key()]
		// A mount of a sub-tree shows the cgroups below its root.
		rel := strings.TrimPrefix(strings.TrimPrefix(own, m.Root), "/")
		if m.Root != "/" && own != m.Root && !strings.HasPrefix(own, m.Root+"/") {
			rel = strings.TrimPrefix(own, "/")
		}
		st.V1[m.Key()] = path.Join(m.Point, rel)
	}
	return st
}
