package cgroups

import (
	"reflect"
	"strings"
	"testing"
)

// A hybrid host like the one these tests were written on: one v1
// hierarchy per controller, name=systemd, and cgroup2 at "unified".
const hybridMountinfo = `22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`

// A systemd hybrid host with combined hierarchies.
const combinedMountinfo = `31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:30 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
37 31 0:34 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,net_cls,net_prio
38 31 0:35 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,clone_children,cpuset
`

const pureV2Mountinfo = `22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

func TestParseMountinfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []Mount
	}{
		{"hybrid", hybridMountinfo, []Mount{
			{Point: "/sys/fs/cgroup/cpu", Root: "/", Type: "cgroup", Controllers: []string{"cpu"}},
			{Point: "/sys/fs/cgroup/cpuacct", Root: "/", Type: "cgroup", Controllers: []string{"cpuacct"}},
			{Point: "/sys/fs/cgroup/cpuset", Root: "/", Type: "cgroup", Controllers: []string{"cpuset"}},
			{Point: "/sys/fs/cgroup/memory", Root: "/", Type: "cgroup", Controllers: []string{"memory"}},
			{Point: "/sys/fs/cgroup/devices", Root: "/", Type: "cgroup", Controllers: []string{"devices"}},
			{Point: "/sys/fs/cgroup/systemd", Root: "/", Type: "cgroup", Controllers: []string{"name=systemd"}},
			{Point: "/sys/fs/cgroup/unified", Root: "/", Type: "cgroup2"},
		}},
		{"combined", combinedMountinfo, []Mount{
			{Point: "/sys/fs/cgroup/unified", Root: "/", Type: "cgroup2"},
			{Point: "/sys/fs/cgroup/systemd", Root: "/", Type: "cgroup", Controllers: []string{"name=systemd"}},
			{Point: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Type: "cgroup", Controllers: []string{"cpu", "cpuacct"}},
			{Point: "/sys/fs/cgroup/net_cls,net_prio", Root: "/", Type: "cgroup", Controllers: []string{"net_cls", "net_prio"}},
			{Point: "/sys/fs/cgroup/cpuset", Root: "/", Type: "cgroup", Controllers: []string{"cpuset"}},
		}},
		{"pure v2", pureV2Mountinfo, []Mount{
			{Point: "/sys/fs/cgroup", Root: "/", Type: "cgroup2"},
		}},
		{"no cgroups", "22 1 254:1 / / rw - ext4 /dev/vda1 rw\n", nil},
		{
			// Inside a container: the hierarchy's root is the
			// container's cgroup, and it is mounted twice.
			"nested, mounted twice",
			`100 99 0:35 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
101 99 0:35 /docker/abc /run/memory rw - cgroup cgroup rw,memory
102 99 0:26 /docker/abc /sys/fs/cgroup/unified ro - cgroup2 cgroup2 rw
103 99 0:26 /docker/abc /run/unified ro - cgroup2 cgroup2 rw
`,
			[]Mount{
				{Point: "/sys/fs/cgroup/memory", Root: "/docker/abc", Type: "cgroup", Controllers: []string{"memory"}},
				{Point: "/sys/fs/cgroup/unified", Root: "/docker/abc", Type: "cgroup2"},
			},
		},
		{
			// Mount options of a v1 hierarchy are not controllers
			// (cgroup1_show_options prints them among the
			// controllers).
			"v1 options",
			`40 31 0:37 / /sys/fs/cgroup/pids rw - cgroup cgroup ro,pids,noprefix,xattr,cpuset_v2_mode,favordynmods,release_agent=/x,clone_children
41 31 0:38 / /sys/fs/cgroup/foo rw - cgroup cgroup rw,favordynmods,name=foo
`,
			[]Mount{
				{Point: "/sys/fs/cgroup/pids", Root: "/", Type: "cgroup", Controllers: []string{"pids"}},
				{Point: "/sys/fs/cgroup/foo", Root: "/", Type: "cgroup", Controllers: []string{"name=foo"}},
			},
		},
		{
			// SELinux's superblock options (RHEL 8 on v1): the key
			// must be /proc/self/cgroup's ("memory", not
			// "memory,seclabel"), or the container's hierarchies
			// look like ones it has no cgroup in (a review).
			"seclabel",
			`40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,seclabel,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
41 31 0:38 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,seclabel,memory
42 31 0:39 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,seclabel,cpu,cpuacct
43 31 0:40 / /sys/fs/cgroup/net_cls rw - cgroup cgroup rw,context="system_u:object_r:cgroup_t:s0:c0,c1",seclabel,net_cls
44 31 0:41 / /sys/fs/cgroup/dmem rw - cgroup cgroup rw,lazytime,rootcontext=system_u:object_r:cgroup_t:s0,seclabel,dmem
45 31 0:42 / /sys/fs/cgroup/jobs rw - cgroup cgroup rw,pids,release_agent="/x,name=jobs
`,
			[]Mount{
				{Point: "/sys/fs/cgroup/systemd", Root: "/", Type: "cgroup", Controllers: []string{"name=systemd"}},
				{Point: "/sys/fs/cgroup/memory", Root: "/", Type: "cgroup", Controllers: []string{"memory"}},
				{Point: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Type: "cgroup", Controllers: []string{"cpu", "cpuacct"}},
				{Point: "/sys/fs/cgroup/net_cls", Root: "/", Type: "cgroup", Controllers: []string{"net_cls"}},
				{Point: "/sys/fs/cgroup/dmem", Root: "/", Type: "cgroup", Controllers: []string{"dmem"}},
				{Point: "/sys/fs/cgroup/jobs", Root: "/", Type: "cgroup", Controllers: []string{"name=jobs", "pids"}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMountinfo(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\ngot  %+v,\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseMountinfoMalformed(t *testing.T) {
	if got, err := ParseMountinfo(strings.NewReader("not mountinfo\n")); err == nil {
		t.Errorf("got %+v, nil error; want an error", got)
	}
}

func TestMountName(t *testing.T) {
	for _, tc := range []struct{ point, want string }{
		{"/sys/fs/cgroup/memory", "memory"},
		{"/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct"},
		{"/sys/fs/cgroup/systemd", "systemd"},
		{"/sys/fs/cgroup/unified", "unified"},
	} {
		if got := (Mount{Point: tc.point}).Name(); got != tc.want {
			t.Errorf("Mount{Point: %q}.Name(): got %q, want %q", tc.point, got, tc.want)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want map[string]string
	}{
		{"hybrid", `9:name=systemd:/
8:pids:/
4:memory:/process_api/c2fae9cacbbd1640666f1e73e729c22c
2:cpu,cpuacct:/user.slice
0::/init.scope
`, map[string]string{
			"name=systemd": "/",
			"pids":         "/",
			"memory":       "/process_api/c2fae9cacbbd1640666f1e73e729c22c",
			"cpu,cpuacct":  "/user.slice",
			"":             "/init.scope",
		}},
		{"pure v2", "0::/user.slice/user-1000.slice/session-2.scope\n", map[string]string{
			"": "/user.slice/user-1000.slice/session-2.scope",
		}},
		// A cgroup name may contain ':'.
		{"colon in path", "0::/a:b:c\n", map[string]string{"": "/a:b:c"}},
		{"empty", "", map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcCgroup(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseProcCgroupMalformed(t *testing.T) {
	for _, in := range []string{"garbage\n", "0:/\n", "\n"} {
		if got, err := ParseProcCgroup(strings.NewReader(in)); err == nil {
			t.Errorf("ParseProcCgroup(%q): got %v, nil error; want an error", in, got)
		}
	}
}

// ownControllers: what /proc/self/cgroup does not name as a hierarchy's
// controller is not one (an option unknown to v1Controllers), and a
// controller new to this code (dmem, 6.14) is kept.
func TestOwnControllers(t *testing.T) {
	mounts := []Mount{
		{Point: "/sys/fs/cgroup/cpu,cpuacct", Type: "cgroup", Controllers: []string{"cpu", "cpuacct", "newopt"}},
		{Point: "/sys/fs/cgroup/dmem", Type: "cgroup", Controllers: []string{"dmem"}},
		{Point: "/sys/fs/cgroup/odd", Type: "cgroup", Controllers: []string{"newopt"}},
		{Point: "/sys/fs/cgroup/unified", Type: "cgroup2"},
	}
	own := map[string]string{"cpu,cpuacct": "/", "dmem": "/", "": "/"}
	got := ownControllers(mounts, own)
	want := []Mount{
		{Point: "/sys/fs/cgroup/cpu,cpuacct", Type: "cgroup", Controllers: []string{"cpu", "cpuacct"}},
		{Point: "/sys/fs/cgroup/dmem", Type: "cgroup", Controllers: []string{"dmem"}},
		{Point: "/sys/fs/cgroup/unified", Type: "cgroup2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\ngot  %+v\nwant %+v", got, want)
	}
	if mounts[0].Controllers[2] != "newopt" {
		t.Errorf("the caller's mounts changed: %+v", mounts[0])
	}
	if got := ownControllers(mounts, map[string]string{"": "/"}); !reflect.DeepEqual(got, mounts) {
		t.Errorf("without v1 keys: %+v", got)
	}
}
