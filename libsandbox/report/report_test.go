package report

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
)

// A fixture /proc: PID 42 is the container's init, "self" the runtime,
// "1" the host's init. Each case changes a copy of the isolated one.

const fixturePid = 42

var hostNS = map[string]string{
	"cgroup": "cgroup:[4026531835]", "ipc": "ipc:[4026531839]", "mnt": "mnt:[4026531841]",
	"net": "net:[4026531840]", "pid": "pid:[4026531836]", "time": "time:[4026531834]",
	"user": "user:[4026531837]", "uts": "uts:[4026531838]",
}

var ownNS = map[string]string{
	"cgroup": "cgroup:[4026532383]", "ipc": "ipc:[4026532316]", "mnt": "mnt:[4026532314]",
	"net": "net:[4026532318]", "pid": "pid:[4026532317]", "time": "time:[4026531834]",
	"user": "user:[4026532400]", "uts": "uts:[4026532315]",
}

// The host: its root on 254:1, a devtmpfs on 0:6, its /srv a shared
// mount (peer group 5), the cgroup v2 hierarchy on 0:30.
const hostMountinfo = `22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
23 22 0:6 / /dev rw,nosuid shared:2 - devtmpfs udev rw
24 22 0:21 / /proc rw,nosuid,nodev,noexec shared:3 - proc proc rw
25 22 254:1 /srv /srv rw,relatime shared:5 - ext4 /dev/vda1 rw
26 22 0:30 / /sys/fs/cgroup rw shared:6 - cgroup2 cgroup2 rw
`

// The isolated container: pivot_root into a read-only bind of
// /run/b/rootfs; proc, a tmpfs /dev, masks (a /dev/null bound on
// /proc/keys, a read-only tmpfs on /proc/acpi), read-only /proc/sys and
// /sys.
const isolatedMountinfo = `100 90 254:1 /run/b/rootfs / ro,relatime - ext4 /dev/vda1 rw
101 100 0:50 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
102 100 0:51 / /dev rw,nosuid - tmpfs tmpfs rw,mode=755
103 101 0:6 /null /proc/keys rw,nosuid - devtmpfs udev rw
104 101 0:52 / /proc/acpi ro,relatime - tmpfs tmpfs ro
105 101 0:50 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
106 100 0:53 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
107 102 0:6 /fuse /dev/fuse rw,nosuid - devtmpfs udev rw
`

const isolatedStatus = `Name:	sleep
Umask:	0022
State:	S (sleeping)
Uid:	100000	100000	100000	100000
Gid:	100000	100000	100000	100000
Groups:	100000
CapInh:	0000000000000000
CapPrm:	0000000000200000
CapEff:	0000000000200000
CapBnd:	0000000000200000
CapAmb:	0000000000000000
NoNewPrivs:	1
Seccomp:	2
Seccomp_filters:	1
`

type fixture struct {
	ns          map[string]string // the container's namespace links
	uidMap      string
	status      string
	mountinfo   string
	nsMounts    []int // what NamespaceMounts says; nil: the visible IDs
	nsMountsErr error
	cgroup      map[string]string
	rootFiles   []string // files to make in the container's root
	missing     []string // files of /proc/42 to leave out
	dead        bool     // Alive says false
	created     bool     // init waits for start
	spec        func(*specs.Spec)
	statusMods  map[string]string // status lines to replace, by key
}

func isolated() fixture {
	ns := map[string]string{}
	for k, v := range ownNS {
		ns[k] = v
	}
	return fixture{
		ns:        ns,
		uidMap:    "         0     100000      65536\n",
		status:    isolatedStatus,
		mountinfo: isolatedMountinfo,
		cgroup: map[string]string{
			"memory.max": "12000000\n", "memory.current": "1048576\n",
			"pids.max": "64\n", "pids.current": "1\n",
			"cpu.max": "max 100000\n", "cpu.stat": "usage_usec 2000\n",
		},
		rootFiles: []string{"proc/kcore", "proc/sysrq-trigger"},
	}
}

func baseSpec() *specs.Spec {
	return &specs.Spec{
		Root: &specs.Root{Path: "rootfs", Readonly: true},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc"},
			{Destination: "/sys", Type: "sysfs", Options: []string{"nosuid", "ro"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.CgroupNamespace}, {Type: specs.IPCNamespace}, {Type: specs.MountNamespace},
				{Type: specs.NetworkNamespace}, {Type: specs.PIDNamespace}, {Type: specs.UserNamespace},
				{Type: specs.UTSNamespace},
			},
			MaskedPaths:   []string{"/proc/acpi", "/proc/keys", "/proc/asound"},
			ReadonlyPaths: []string{"/proc/sys"},
		},
	}
}

// write makes the fixture /proc and returns its Source.
func (f fixture) write(t *testing.T) Source {
	t.Helper()
	dir := t.TempDir()
	pid := filepath.Join(dir, "42")
	status := f.status
	for k, v := range f.statusMods {
		lines := strings.Split(status, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, k+":") {
				lines[i] = k + ":\t" + v
			}
		}
		status = strings.Join(lines, "\n")
	}
	files := map[string]string{
		"42/status":      status,
		"42/uid_map":     f.uidMap,
		"42/gid_map":     f.uidMap,
		"42/mountinfo":   f.mountinfo,
		"42/cgroup":      "0::/sandbox/c1\n",
		"self/mountinfo": hostMountinfo,
	}
	for _, m := range f.missing {
		delete(files, "42/"+m)
	}
	for name, content := range files {
		mustWrite(t, filepath.Join(dir, name), content)
	}
	for who, links := range map[string]map[string]string{"42": f.ns, "self": hostNS, "1": hostNS} {
		if who == "42" && contains(f.missing, "ns") {
			continue
		}
		os.MkdirAll(filepath.Join(dir, who, "ns"), 0o755)
		for k, v := range links {
			if err := os.Symlink(v, filepath.Join(dir, who, "ns", k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.MkdirAll(filepath.Join(pid, "root"), 0o755)
	for _, p := range f.rootFiles {
		mustWrite(t, filepath.Join(pid, "root", p), "")
	}
	cg := filepath.Join(dir, "cgroup")
	os.MkdirAll(cg, 0o755)
	for name, content := range f.cgroup {
		mustWrite(t, filepath.Join(cg, name), content)
	}
	spec := baseSpec()
	if f.spec != nil {
		f.spec(spec)
	}
	src := Source{
		Proc:    dir,
		Pid:     fixturePid,
		Spec:    spec,
		Cgroup:  cgroups.Load(&cgroups.State{V2: cg}),
		Alive:   func() bool { return !f.dead },
		Created: f.created,
		NamespaceMounts: func(int) ([]int, error) {
			if f.nsMountsErr != nil {
				return nil, f.nsMountsErr
			}
			if f.nsMounts != nil {
				return f.nsMounts, nil
			}
			var ids []int
			for _, l := range strings.Split(strings.TrimSpace(f.mountinfo), "\n") {
				var id int
				for _, c := range l {
					if c == ' ' {
						break
					}
					id = id*10 + int(c-'0')
				}
				ids = append(ids, id)
			}
			return ids, nil
		},
		Timeout: 5 * time.Second,
	}
	return src
}

func mustWrite(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// findingKeys lists "id subject" of each finding, sorted.
func findingKeys(r *Report) []string {
	out := []string{}
	for _, f := range r.Findings {
		out = append(out, f.ID+" "+f.Subject)
	}
	sort.Strings(out)
	return out
}

func TestGatherFindings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*fixture)
		want   []string
	}{
		{name: "isolated: none", change: func(*fixture) {}, want: []string{}},
		{name: "host network namespace", change: func(f *fixture) { f.ns["net"] = hostNS["net"] }, want: []string{"host-namespace network"}},
		{name: "host pid and mount namespaces", change: func(f *fixture) {
			f.ns["pid"], f.ns["mnt"] = hostNS["pid"], hostNS["mnt"]
		}, want: []string{"host-namespace mount", "host-namespace pid"}},
		{name: "a host time namespace is no finding", change: func(f *fixture) { f.ns["time"] = hostNS["time"] }, want: []string{}},
		{name: "no user namespace: root of the host, CAP_SYS_ADMIN over the host", change: func(f *fixture) {
			f.ns["user"] = hostNS["user"]
			f.uidMap = "0 0 4294967295\n"
			f.statusMods = map[string]string{"Uid": "0\t0\t0\t0", "Gid": "0\t0\t0\t0"}
		}, want: []string{"host-capability CAP_SYS_ADMIN", "host-root uid 0"}},
		{name: "no user namespace, default capabilities, uid 1000", change: func(f *fixture) {
			f.ns["user"] = hostNS["user"]
			f.uidMap = "0 0 4294967295\n"
			// CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE
			f.statusMods = map[string]string{"Uid": "1000\t1000\t1000\t1000", "CapEff": "0000000000000421", "CapPrm": "0000000000000421"}
		}, want: []string{}},
		{name: "a host directory bound writable", change: func(f *fixture) {
			f.mountinfo += "108 100 254:1 /srv/data /data rw,relatime - ext4 /dev/vda1 rw\n"
		}, want: []string{"writable-host-mount /data"}},
		{name: "a host directory bound read-only", change: func(f *fixture) {
			f.mountinfo += "108 100 254:1 /srv/data /data ro,relatime - ext4 /dev/vda1 rw\n"
		}, want: []string{}},
		{name: "a directory of its own rootfs bound writable", change: func(f *fixture) {
			f.mountinfo += "108 100 254:1 /run/b/rootfs/var /data rw,relatime - ext4 /dev/vda1 rw\n"
		}, want: []string{}},
		{name: "the host's cgroup hierarchy writable", change: func(f *fixture) {
			f.mountinfo += "108 106 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
		}, want: []string{"writable-host-mount /sys/fs/cgroup"}},
		{name: "a mount in the host's peer group", change: func(f *fixture) {
			f.mountinfo += "108 100 254:1 /srv /srv ro,relatime shared:5 - ext4 /dev/vda1 rw\n"
		}, want: []string{"shared-propagation /srv"}},
		{name: "a slave of the host's peer group is no finding", change: func(f *fixture) {
			f.mountinfo += "108 100 254:1 /srv /srv ro,relatime master:5 - ext4 /dev/vda1 rw\n"
		}, want: []string{}},
		{name: "chroot: mounts of its namespace outside its root", change: func(f *fixture) {
			f.nsMounts = []int{90, 91, 100, 101, 102, 103, 104, 105, 106, 107}
		}, want: []string{"chroot /"}},
		{name: "a kernel that cannot list a namespace's mounts: the method is unknown, no error", change: func(f *fixture) {
			f.nsMountsErr = ErrNoNamespaceMounts
		}, want: []string{}},
		{name: "no seccomp", change: func(f *fixture) {
			f.statusMods = map[string]string{"Seccomp": "0", "Seccomp_filters": "0"}
		}, want: []string{"no-seccomp seccomp"}},
		{name: "created: the config's seccomp filter is loaded at start", change: func(f *fixture) {
			f.created = true
			f.statusMods = map[string]string{"Seccomp": "0", "Seccomp_filters": "0"}
			f.spec = func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow} }
		}, want: []string{}},
		{name: "created, no seccomp in the config", change: func(f *fixture) {
			f.created = true
			f.statusMods = map[string]string{"Seccomp": "0", "Seccomp_filters": "0"}
		}, want: []string{"no-seccomp seccomp"}},
		{name: "no_new_privs unset", change: func(f *fixture) {
			f.statusMods = map[string]string{"NoNewPrivs": "0"}
		}, want: []string{"no-new-privs-unset no_new_privs"}},
		{name: "no memory limit (v2 max)", change: func(f *fixture) { f.cgroup["memory.max"] = "max\n" }, want: []string{"no-memory-limit memory"}},
		{name: "no pids limit", change: func(f *fixture) { f.cgroup["pids.max"] = "max\n" }, want: []string{"no-pids-limit pids"}},
		{name: "a masked path left exposed", change: func(f *fixture) {
			f.spec = func(s *specs.Spec) { s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/proc/kcore") }
		}, want: []string{"not-masked /proc/kcore"}},
		{name: "a read-only path left writable", change: func(f *fixture) {
			f.spec = func(s *specs.Spec) { s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, "/proc/sysrq-trigger") }
		}, want: []string{"not-readonly /proc/sysrq-trigger"}},
		{name: "a read-only mount of the config mounted writable", change: func(f *fixture) {
			f.mountinfo = strings.Replace(f.mountinfo, "/ /sys ro,", "/ /sys rw,", 1)
			f.mountinfo = strings.Replace(f.mountinfo, "sysfs sysfs ro", "sysfs sysfs rw", 1)
		}, want: []string{"not-readonly /sys"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := isolated()
			tc.change(&f)
			r, err := Gather(f.write(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Errors) > 0 || r.Partial {
				t.Errorf("got errors %q (partial %v), want none", r.Errors, r.Partial)
			}
			if got := findingKeys(r); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got findings %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGatherIsolated(t *testing.T) {
	r, err := Gather(isolated().write(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range r.Namespaces {
		wantNew := ns.Type != "time"
		if ns.New != wantNew || ns.Host == wantNew {
			t.Errorf("namespace %s: got new %v host %v, want new %v", ns.Type, ns.New, ns.Host, wantNew)
		}
	}
	if got, want := r.User.UIDMap, []IDMap{{0, 100000, 65536}}; !reflect.DeepEqual(got, want) {
		t.Errorf("uid map: got %v, want %v", got, want)
	}
	if got, want := r.User.UID, (IDs{Host: [4]int64{100000, 100000, 100000, 100000}, Container: [4]int64{0, 0, 0, 0}}); got != want {
		t.Errorf("uid: got %v, want %v", got, want)
	}
	c := r.Capabilities
	if c.Over != "container" || !reflect.DeepEqual(c.Effective, []string{"CAP_SYS_ADMIN"}) || len(c.Inheritable) != 0 {
		t.Errorf("capabilities: got %+v, want CAP_SYS_ADMIN over the container", c)
	}
	if s := r.Security; !s.NoNewPrivs || s.Seccomp != (Seccomp{"filter", 1}) || s.LSMLabel != "" {
		t.Errorf("security: got %+v", s)
	}
	fs := r.Filesystem
	if want := (Root{Method: "pivot_root", HiddenMounts: 0, Source: "/run/b/rootfs", FSType: "ext4", ReadOnly: true}); fs.Root != want {
		t.Errorf("root: got %+v, want %+v", fs.Root, want)
	}
	wantMasked := []PathCheck{{"/proc/acpi", "masked"}, {"/proc/keys", "masked"}, {"/proc/asound", "absent"}}
	if !reflect.DeepEqual(fs.MaskedPaths, wantMasked) {
		t.Errorf("masked: got %v, want %v", fs.MaskedPaths, wantMasked)
	}
	wantRO := []PathCheck{{"/proc/sys", "read-only"}, {"/", "read-only"}, {"/sys", "read-only"}}
	if !reflect.DeepEqual(fs.ReadonlyPaths, wantRO) {
		t.Errorf("read-only: got %v, want %v", fs.ReadonlyPaths, wantRO)
	}
	for _, m := range fs.Mounts {
		wantHost := m.Destination == "/proc/keys" || m.Destination == "/dev/fuse"
		if m.Host != wantHost {
			t.Errorf("mount %s: got host %v, want %v", m.Destination, m.Host, wantHost)
		}
	}
	res := r.Resources
	if res.Cgroup != "/sandbox/c1" || res.Version != "v2" || res.Memory.Limit == nil || *res.Memory.Limit != 12000000 ||
		res.Memory.Usage != 1048576 || res.Pids.Limit == nil || *res.Pids.Limit != 64 || res.CPU.Quota != nil || res.CPU.Usage != 2000000 {
		t.Errorf("resources: got %+v", res)
	}
}

// Init gone while it is read: what could be read is there, the rest is
// named, and nothing is concluded from what was not read (no uid 0, no
// seccomp mode 0).
func TestGatherInitGone(t *testing.T) {
	f := isolated()
	f.missing = []string{"status", "mountinfo", "uid_map", "gid_map"}
	f.dead = true
	r, err := Gather(f.write(t))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Partial || !r.InitExited {
		t.Errorf("got partial %v, initExited %v; want both", r.Partial, r.InitExited)
	}
	for _, section := range []string{"status:", "mounts:", "user:"} {
		found := false
		for _, e := range r.Errors {
			found = found || strings.HasPrefix(e, section)
		}
		if !found {
			t.Errorf("errors %q: none for %s", r.Errors, section)
		}
	}
	if len(r.Namespaces) != 8 || !r.Namespaces[0].New {
		t.Errorf("namespaces, read before it went: got %+v", r.Namespaces)
	}
	if got := findingKeys(r); len(got) != 0 {
		t.Errorf("got findings %q, want none from what was not read", got)
	}
	if r.Security.Seccomp.Mode != "unknown" {
		t.Errorf("seccomp: got %q, want unknown", r.Security.Seccomp.Mode)
	}
}

func TestGatherNoProcess(t *testing.T) {
	src := isolated().write(t)
	src.Pid = 43
	if _, err := Gather(src); err != ErrGone {
		t.Errorf("got %v, want ErrGone", err)
	}
}

func TestParseIDMapAndToContainer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host [4]int64
		want [4]int64
	}{
		{"0 0 4294967295\n", [4]int64{0, 1000, 0, 5}, [4]int64{0, 1000, 0, 5}},
		{"0 100000 1000\n1000 101000 1000\n", [4]int64{100000, 101500, 99999, 102000}, [4]int64{0, 1500, -1, -1}},
		{"", [4]int64{0, 0, 0, 0}, [4]int64{-1, -1, -1, -1}},
	} {
		m, err := parseIDMap([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := toContainer(m, tc.host); got != tc.want {
			t.Errorf("map %q, host %v: got %v, want %v", tc.in, tc.host, got, tc.want)
		}
	}
	for _, bad := range []string{"0 1\n", "0 x 1\n", "0 1 2 3\n", "-1 0 1\n"} {
		if _, err := parseIDMap([]byte(bad)); err == nil {
			t.Errorf("parseIDMap(%q): got no error", bad)
		}
	}
}

func TestCapNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"0000000000000000", []string{}},
		{"0000000000200000", []string{"CAP_SYS_ADMIN"}},
		{"0000000020000420", []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"}},
		{"0000040000000000", []string{"CAP_42"}},
	} {
		got, err := capNames(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("capNames(%q): got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := capNames("xyz"); err == nil {
		t.Error("capNames(xyz): got no error")
	}
}

func TestDefaultDevice(t *testing.T) {
	for _, tc := range []struct {
		d    Device
		want bool
	}{
		{Device{Type: "c", Major: 1, Minor: 3}, true},   // null
		{Device{Type: "c", Major: 1, Minor: 9}, true},   // urandom
		{Device{Type: "c", Major: 5, Minor: 2}, true},   // ptmx
		{Device{Type: "c", Major: 136, Minor: 0}, true}, // pts/0
		{Device{Type: "c", Major: 1, Minor: 1}, false},  // mem
		{Device{Type: "c", Major: 10, Minor: 229}, false},
		{Device{Type: "b", Major: 1, Minor: 3}, false},
		{Device{Type: "b", Major: 8, Minor: 0}, false},
	} {
		if got := defaultDevice(tc.d); got != tc.want {
			t.Errorf("defaultDevice(%+v): got %v, want %v", tc.d, got, tc.want)
		}
	}
}
