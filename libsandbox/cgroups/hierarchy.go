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
			m.Controllers = v1Controllers(in.SuperOptions)
			if len(m.Controllers) == 0 {
				continue
			}
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

// v1Controllers returns the controllers (and name=) of a v1 mount's
// super options, sorted. cgroup1_show_options prints the hierarchy's
// options among them, and SELinux adds its own (sb_show_options:
// "seclabel", "context=..." quoted when it holds a comma), which would
// make the key differ from /proc/self/cgroup's (a review: "memory,
// seclabel" on RHEL 8). Probe keeps then only what /proc/self/cgroup
// names (ownControllers), for options not known here.
func v1Controllers(opts string) []string {
	var out []string
	quoted := false
	for _, opt := range strings.Split(opts, ",") {
		if quoted {
			// The rest of a quoted value with a comma in it.
			quoted = !strings.HasSuffix(opt, `"`)
			continue
		}
		if k, v, ok := strings.Cut(opt, "="); ok && k != "name" {
			// release_agent= (seq_show_option: never quoted, a comma
			// in it is \054), or SELinux's context=, fscontext=,
			// defcontext=, rootcontext= (quoted when they hold a
			// comma).
			quoted = strings.HasSuffix(k, "context") && strings.HasPrefix(v, `"`) && (len(v) == 1 || !strings.HasSuffix(v, `"`))
			continue
		}
		switch opt {
		case "rw", "ro", "sync", "dirsync", "mand", "lazytime", // show_sb_opts
			"clone_children", "noprefix", "xattr", "cpuset_v2_mode", "favordynmods", "sane_behavior", // cgroup1_show_options
			"seclabel", "":
			continue
		}
		out = append(out, opt)
	}
	sort.Strings(out)
	return out
}

// ownControllers keeps, of each v1 mount's controllers, those that
// own's keys (/proc/self/cgroup's: the kernel's own list of each
// hierarchy's controllers) name, and the mounts left with any: an
// option v1Controllers does not know is not a controller. Without v1
// keys in own, mounts are kept as they are.
func ownControllers(mounts []Mount, own map[string]string) []Mount {
	known := map[string]bool{}
	for k := range own {
		for _, c := range strings.Split(k, ",") {
			if c != "" {
				known[c] = true
			}
		}
	}
	if len(known) == 0 {
		return mounts
	}
	out := mounts[:0:0]
	for _, m := range mounts {
		if m.Type == "cgroup" {
			var cs []string
			for _, c := range m.Controllers {
				if known[c] {
					cs = append(cs, c)
				}
			}
			if len(cs) == 0 {
				continue
			}
			m.Controllers = cs
		}
		out = append(out, m)
	}
	return out
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
