package rootfs

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sandbox-runtime/sandbox-runtime/internal/mountinfo"
)

func TestRevealing(t *testing.T) {
	const rootfs = "/var/lib/c1/rootfs"
	for _, tc := range []struct {
		name  string
		table string // mountinfo lines
		want  []string
	}{
		{
			"the host's proc and sysfs, not their submounts",
			`1 0 8:1 / / rw - ext4 /dev/sda1 rw
2 1 0:20 / /proc rw - proc proc rw
3 1 0:21 / /sys rw - sysfs sysfs rw
4 3 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw
5 4 0:23 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
6 2 0:24 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw`,
			[]string{"2 /proc", "3 /sys"},
		},
		{
			"the container's own are left to their masks",
			`1 0 8:1 / / rw - ext4 /dev/sda1 rw
2 1 0:20 / /proc rw - proc proc rw
7 1 8:1 /var/lib/c1/rootfs /var/lib/c1/rootfs rw - ext4 /dev/sda1 rw
8 7 0:30 / /var/lib/c1/rootfs/proc rw - proc proc rw
9 7 0:31 / /var/lib/c1/rootfs/sys ro - sysfs sysfs ro`,
			[]string{"2 /proc"},
		},
		{
			"a sibling directory with the rootfs as prefix is outside",
			`1 0 8:1 / / rw - ext4 /dev/sda1 rw
10 1 0:20 / /var/lib/c1/rootfs2/proc rw - proc proc rw`,
			[]string{"10 /var/lib/c1/rootfs2/proc"},
		},
		{
			"a bind of a part of proc is not a full instance",
			`1 0 8:1 / / rw - ext4 /dev/sda1 rw
11 1 0:20 /sys /mnt/procsys rw - proc proc rw`,
			nil,
		},
		{
			"stacked: only the top one, until it is gone",
			`1 0 8:1 / / rw - ext4 /dev/sda1 rw
2 1 0:20 / /proc rw - proc proc rw
12 2 0:25 / /proc rw - proc proc rw`,
			[]string{"12 /proc"},
		},
		{
			"covered with a tmpfs",
			`1 0 8:1 / / rw - ext4 /dev/sda1 rw
2 1 0:20 / /proc rw - proc proc rw
13 2 0:26 / /proc ro - tmpfs tmpfs ro`,
			nil,
		},
		{
			"a mount under the proc's root is not a cover",
			`1 0 8:1 / / rw - ext4 /dev/sda1 rw
2 1 0:20 / /proc rw - proc proc rw
14 2 0:26 / /proc/kcore ro - tmpfs tmpfs ro`,
			[]string{"2 /proc"},
		},
	} {
		infos, err := mountinfo.Parse(strings.NewReader(tc.table + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, in := range revealing(infos, rootfs) {
			got = append(got, fmt.Sprintf("%d %s", in.ID, in.Point))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	// A rootfs of "/" holds every mount.
	infos, _ := mountinfo.Parse(strings.NewReader("2 1 0:20 / /proc rw - proc proc rw\n"))
	if got := revealing(infos, "/"); len(got) != 0 {
		t.Errorf("rootfs /: got %+v, want none", got)
	}
}
