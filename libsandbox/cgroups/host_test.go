package cgroups

import (
	"reflect"
	"strings"
	"testing"
)

// These only compute paths: nothing is read or made under /sys/fs/cgroup.

func TestV2Dir(t *testing.T) {
	for _, tc := range []struct {
		name, v2, own, path, want string
	}{
		{"absolute is from the root", "/sys/fs/cgroup", "/user.slice/session-1.scope", "/machine/c1", "/sys/fs/cgroup/machine/c1"},
		{"relative is from our parent", "/sys/fs/cgroup", "/user.slice/session-1.scope", "c1", "/sys/fs/cgroup/user.slice/c1"},
		{"relative nested", "/sys/fs/cgroup", "/user.slice/session-1.scope", "pod/c1", "/sys/fs/cgroup/user.slice/pod/c1"},
		{"we are in the root", "/sys/fs/cgroup", "/", "c1", "/sys/fs/cgroup/c1"},
		{"dot-dot cannot climb", "/sys/fs/cgroup", "/user.slice/session-1.scope", "../../c1", "/sys/fs/cgroup/user.slice/c1"},
		{"dot-dot in absolute", "/sys/fs/cgroup", "/user.slice/session-1.scope", "/a/../../b", "/sys/fs/cgroup/b"},
		// runc's CleanPath too makes "../.." nothing: the parent itself.
		{"only dot-dot", "/sys/fs/cgroup", "/user.slice/session-1.scope", "../..", "/sys/fs/cgroup/user.slice"},
		{"hybrid v2 mount", "/sys/fs/cgroup/unified", "/user.slice/session-1.scope", "c1", "/sys/fs/cgroup/unified/user.slice/c1"},
		{"hybrid absolute", "/sys/fs/cgroup/unified", "/user.slice/session-1.scope", "/c1", "/sys/fs/cgroup/unified/c1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Host{V2: tc.v2, Own: map[string]string{"": tc.own}}
			if got := h.v2Dir(tc.path); got != tc.want {
				t.Errorf("v2Dir(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestV1Dir(t *testing.T) {
	mem := Mount{Point: "/sys/fs/cgroup/memory", Root: "/", Type: "cgroup", Controllers: []string{"memory"}}
	// Inside a container without a cgroup namespace: the hierarchy's
	// mount shows only the container's sub-tree.
	nested := Mount{Point: "/sys/fs/cgroup/memory", Root: "/docker/abc", Type: "cgroup", Controllers: []string{"memory"}}
	for _, tc := range []struct {
		name      string
		m         Mount
		own, path string
		want      string
	}{
		{"relative is from our own cgroup", mem, "/user.slice/session-1.scope", "c1", "/sys/fs/cgroup/memory/user.slice/session-1.scope/c1"},
		{"absolute is from the root", mem, "/user.slice/session-1.scope", "/machine/c1", "/sys/fs/cgroup/memory/machine/c1"},
		{"we are in the root", mem, "/", "c1", "/sys/fs/cgroup/memory/c1"},
		{"dot-dot cannot climb", mem, "/user.slice", "../../../c1", "/sys/fs/cgroup/memory/user.slice/c1"},
		{"nested root, relative", nested, "/docker/abc", "c1", "/sys/fs/cgroup/memory/c1"},
		{"nested root, relative below", nested, "/docker/abc/init", "c1", "/sys/fs/cgroup/memory/init/c1"},
		{"nested root, absolute inside", nested, "/docker/abc", "/docker/abc/c1", "/sys/fs/cgroup/memory/c1"},
		// Outside the mount's sub-tree: the best we can do is the
		// path from the mount point.
		{"nested root, absolute outside", nested, "/docker/abc", "/other/c1", "/sys/fs/cgroup/memory/other/c1"},
		{"nested root, name starting with dot-dot", nested, "/docker/abc", "/docker/abc/..c1", "/sys/fs/cgroup/memory/..c1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Host{Own: map[string]string{tc.m.Key(): tc.own}}
			if got := h.v1Dir(tc.m, tc.path); got != tc.want {
				t.Errorf("v1Dir(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"c1", "c1"},
		{"a//b/", "a/b"},
		{"../c1", "c1"},
		{"../..", ""},
		{"/a/../b", "/b"},
		{"/../..", "/"},
	} {
		if got := cleanPath(tc.in); got != tc.want {
			t.Errorf("cleanPath(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

const legacyMountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
33 31 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
`

func TestNewState(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mountinfo string
		proc      string
		cfg       Config
		want      State
		version   string
		hybrid    bool // fs1 with a v2 part
	}{
		{
			name:      "unified",
			mountinfo: pureV2Mountinfo,
			proc:      "0::/user.slice/session-1.scope\n",
			cfg:       Config{ID: "c1"},
			want:      State{V2: "/sys/fs/cgroup/user.slice/c1"},
			version:   "v2",
		},
		{
			name:      "unified, path overrides the ID",
			mountinfo: pureV2Mountinfo,
			proc:      "0::/user.slice/session-1.scope\n",
			cfg:       Config{ID: "c1", Path: "/machine.slice/x"},
			want:      State{V2: "/sys/fs/cgroup/machine.slice/x"},
			version:   "v2",
		},
		{
			name:      "hybrid",
			mountinfo: combinedMountinfo,
			// The kernel's order of a combined hierarchy need not be
			// sorted.
			proc: "5:cpuacct,cpu:/user.slice\n4:net_cls,net_prio:/\n3:cpuset:/\n1:name=systemd:/user.slice/session-1.scope\n0::/user.slice/session-1.scope\n",
			cfg:  Config{ID: "c1"},
			want: State{
				V2: "/sys/fs/cgroup/unified/user.slice/c1",
				V1: map[string]string{
					"name=systemd":     "/sys/fs/cgroup/systemd/user.slice/session-1.scope/c1",
					"cpu,cpuacct":      "/sys/fs/cgroup/cpu,cpuacct/user.slice/c1",
					"net_cls,net_prio": "/sys/fs/cgroup/net_cls,net_prio/c1",
					"cpuset":           "/sys/fs/cgroup/cpuset/c1",
				},
				V1Controllers: map[string]string{
					"name=systemd": "name=systemd",
					"cpu":          "cpu,cpuacct",
					"cpuacct":      "cpu,cpuacct",
					"net_cls":      "net_cls,net_prio",
					"net_prio":     "net_cls,net_prio",
					"cpuset":       "cpuset",
				},
			},
			version: "v1",
			hybrid:  true,
		},
		{
			name:      "legacy",
			mountinfo: legacyMountinfo,
			proc:      "3:memory:/\n2:cpu,cpuacct:/\n",
			cfg:       Config{Path: "/a/b"},
			want: State{
				V1: map[string]string{
					"cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/a/b",
					"memory":      "/sys/fs/cgroup/memory/a/b",
				},
				V1Controllers: map[string]string{"cpu": "cpu,cpuacct", "cpuacct": "cpu,cpuacct", "memory": "memory"},
			},
			version: "v1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mounts, err := ParseMountinfo(strings.NewReader(tc.mountinfo))
			if err != nil {
				t.Fatal(err)
			}
			proc, err := ParseProcCgroup(strings.NewReader(tc.proc))
			if err != nil {
				t.Fatal(err)
			}
			m := mustNew(t, NewHost(mounts, proc), tc.cfg)
			if got := *m.State(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("state = %+v, want %+v", got, tc.want)
			}
			if got := m.Version(); got != tc.version {
				t.Errorf("version = %v, want %v", got, tc.version)
			}
			if m, ok := m.(*fs1); ok {
				if got := m.v2 != nil; got != tc.hybrid {
					t.Errorf("has a v2 part = %v, want %v", got, tc.hybrid)
				}
			}
		})
	}
}

func TestHostMode(t *testing.T) {
	for _, tc := range []struct {
		mountinfo string
		want      Mode
	}{
		{pureV2Mountinfo, Unified},
		{hybridMountinfo, Hybrid},
		{combinedMountinfo, Hybrid},
		{legacyMountinfo, Legacy},
	} {
		mounts, err := ParseMountinfo(strings.NewReader(tc.mountinfo))
		if err != nil {
			t.Fatal(err)
		}
		if got := NewHost(mounts, nil).Mode; got != tc.want {
			t.Errorf("mode of %q... = %v, want %v", strings.SplitN(tc.mountinfo, "\n", 2)[0], got, tc.want)
		}
	}
}
