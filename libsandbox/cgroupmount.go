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
		return []rootfs.CgroupMount{{Type: "cgroup2", Path: st.V2}}, nil
	}
	var out []rootfs.CgroupMount
	for _, m := range host.V1 {
		cm := rootfs.CgroupMount{
			Name:    m.Name(),
			Type:    "cgroup",
			Options: m.Key(),
			Path:    st.V1[m.Key()],
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
		out = append(out, rootfs.CgroupMount{Name: path.Base(host.V2), Type: "cgroup2", Path: st.V2})
	}
	return out, nil
}
