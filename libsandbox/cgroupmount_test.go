package libsandbox

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// parseHost runs the same parsers cgroupMounts does over fixed text.
func parseHost(t *testing.T, mountinfo, procCgroup string) ([]cgroups.Mount, map[string]string) {
	t.Helper()
	mounts, err := cgroups.ParseMountinfo(strings.NewReader(mountinfo))
	if err != nil {
		t.Fatal(err)
	}
	own, err := cgroups.ParseProcCgroup(strings.NewReader(procCgroup))
	if err != nil {
		t.Fatal(err)
	}
	return mounts, own
}

func TestHierarchies(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mountinfo  string
		procCgroup string
		want       []rootfs.CgroupMount
	}{
		{
			// The host these tests were written on: v1 controllers
			// each on their own, cgroup2 at /sys/fs/cgroup/unified.
			name: "hybrid",
			mountinfo: `22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`,
			procCgroup: `9:name=systemd:/
4:memory:/process_api/c2fae9cacbbd1640666f1e73e729c22c
2:cpuacct:/
1:cpu:/
0::/
`,
			want: []rootfs.CgroupMount{
				{Name: "cpu", Type: "cgroup", Options: "cpu", Path: "/sys/fs/cgroup/cpu/c1"},
				{Name: "cpuacct", Type: "cgroup", Options: "cpuacct", Path: "/sys/fs/cgroup/cpuacct/c1"},
				{Name: "memory", Type: "cgroup", Options: "memory", Path: "/sys/fs/cgroup/memory/process_api/c2fae9cacbbd1640666f1e73e729c22c/c1"},
				{Name: "systemd", Type: "cgroup", Options: "name=systemd", Path: "/sys/fs/cgroup/systemd/c1"},
				{Name: "unified", Type: "cgroup2", Path: "/sys/fs/cgroup/unified/c1"},
			},
		},
		{
			name:       "pure v2",
			mountinfo:  "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
			procCgroup: "0::/user.slice/user-1000.slice/session-2.scope\n",
			want: []rootfs.CgroupMount{
				// Name "" is how the init stage tells a pure v2 host.
				{Name: "", Type: "cgroup2", Path: "/sys/fs/cgroup/user.slice/user-1000.slice/c1"},
			},
		},
		{
			// systemd's combined hierarchies: reachable under each
			// controller's name too, through symlinks.
			name: "combined",
			mountinfo: `31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:30 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
37 31 0:34 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,net_cls,net_prio
`,
			procCgroup: `12:net_cls,net_prio:/
3:cpu,cpuacct:/user.slice
1:name=systemd:/user.slice/user-1000.slice/session-2.scope
0::/user.slice/user-1000.slice/session-2.scope
`,
			want: []rootfs.CgroupMount{
				{Name: "systemd", Type: "cgroup", Options: "name=systemd", Path: "/sys/fs/cgroup/systemd/user.slice/user-1000.slice/session-2.scope/c1"},
				{Name: "cpu,cpuacct", Type: "cgroup", Options: "cpu,cpuacct", Path: "/sys/fs/cgroup/cpu,cpuacct/user.slice/c1", Symlinks: []string{"cpu", "cpuacct"}},
				{Name: "net_cls,net_prio", Type: "cgroup", Options: "net_cls,net_prio", Path: "/sys/fs/cgroup/net_cls,net_prio/c1", Symlinks: []string{"net_cls", "net_prio"}},
				{Name: "unified", Type: "cgroup2", Path: "/sys/fs/cgroup/unified/user.slice/user-1000.slice/c1"},
			},
		},
		{
			// Both files list a hierarchy's controllers in the kernel's
			// subsystem order (cpuset, cpu, cpuacct, ...), which is not
			// alphabetical.
			name: "combined, kernel order",
			mountinfo: `36 31 0:33 / /sys/fs/cgroup/cpuset,cpu,cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuset,cpu,cpuacct
37 31 0:34 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids,name=jobs
`,
			procCgroup: `5:pids,name=jobs:/jobs/7
3:cpuset,cpu,cpuacct:/user.slice
`,
			want: []rootfs.CgroupMount{
				{Name: "cpuset,cpu,cpuacct", Type: "cgroup", Options: "cpu,cpuacct,cpuset", Path: "/sys/fs/cgroup/cpuset,cpu,cpuacct/user.slice/c1", Symlinks: []string{"cpu", "cpuacct", "cpuset"}},
				{Name: "pids", Type: "cgroup", Options: "name=jobs,pids", Path: "/sys/fs/cgroup/pids/jobs/7/c1"},
			},
		},
		{
			// Inside another container: each hierarchy's root is the
			// outer container's cgroup, so paths are relative to it.
			name: "nested",
			mountinfo: `100 99 0:35 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
101 99 0:36 /docker/abc /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids
`,
			procCgroup: `5:memory:/docker/abc/inner
4:pids:/elsewhere
`,
			want: []rootfs.CgroupMount{
				{Name: "memory", Type: "cgroup", Options: "memory", Path: "/sys/fs/cgroup/memory/inner/c1"},
				// Outside the mount's root: the path is taken as
				// relative to the mount.
				{Name: "pids", Type: "cgroup", Options: "pids", Path: "/sys/fs/cgroup/pids/elsewhere/c1"},
			},
		},
		{
			name: "cgroups mounted elsewhere are ignored",
			mountinfo: `50 22 0:40 / /run/cg/memory rw - cgroup cgroup rw,memory
51 22 0:41 / /run/cg2 rw - cgroup2 cgroup2 rw
`,
			procCgroup: "4:memory:/\n0::/\n",
			want:       nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mounts, own := parseHost(t, tc.mountinfo, tc.procCgroup)
			// The container "c1" with the default cgroupsPath.
			host := cgroups.NewHost(mounts, own)
			got, err := cgroupMounts(host, newState(t, host))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\ngot  %+v,\nwant %+v", got, tc.want)
			}
		})
	}
}

// cgroupMounts reads this host's files; whatever the host, every entry
// must be usable by the init stage.
func TestCgroupMountsSelf(t *testing.T) {
	host, err := cgroups.Probe()
	if err != nil {
		t.Fatal(err)
	}
	got, err := cgroupMounts(host, newState(t, host))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("got no hierarchy, want at least one")
	}
	for _, cm := range got {
		if cm.Type != "cgroup" && cm.Type != "cgroup2" {
			t.Errorf("%+v: type %q, want cgroup or cgroup2", cm, cm.Type)
		}
		if !strings.HasPrefix(cm.Path, "/sys/fs/cgroup") {
			t.Errorf("%+v: path %q, want one under /sys/fs/cgroup", cm, cm.Path)
		}
		if cm.Type == "cgroup" && cm.Options == "" {
			t.Errorf("%+v: a v1 hierarchy with no options (controllers)", cm)
		}
	}
}

func newState(t *testing.T, host *cgroups.Host) *cgroups.State {
	t.Helper()
	m, err := cgroups.New(host, cgroups.Config{ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	return m.State()
}
