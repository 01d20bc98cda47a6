package libsandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// bundle makes a bundle directory with an empty rootfs and returns the
// bundle and the rootfs paths.
func bundle(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, rootfs
}

// validSpec is DefaultSpec(false) with root.path pointing at rootfs, in
// its cgroup v2 host form (with a cgroup namespace) whatever the host.
func validSpec(rootfs string) *specs.Spec {
	s := defaultSpec(false, true)
	s.Root.Path = rootfs
	return s
}

// hostNamespaces keeps only the mount namespace, so that the fields
// tied to the others can be tested.
func onlyMountNamespace(s *specs.Spec) {
	s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	s.Hostname = ""
}

func timeout(n int) *int { return &n }

func TestValidateDefaultSpec(t *testing.T) {
	dir, rootfs := bundle(t)
	p, err := resolve(validSpec(rootfs), dir)
	if err != nil {
		t.Fatalf("resolve(DefaultSpec(false)): %v", err)
	}
	defer p.ns.close()
	if len(p.warnings) != 0 {
		t.Errorf("warnings: got %q, want none", p.warnings)
	}
	if p.rootfs != rootfs {
		t.Errorf("rootfs: got %q, want %q", p.rootfs, rootfs)
	}
	want := unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP
	if p.ns.create != want {
		t.Errorf("namespaces to create: got %#x, want %#x", p.ns.create, want)
	}
	if got, want := len(p.mounts), len(DefaultSpec(false).Mounts); got != want {
		t.Errorf("mounts: got %d, want %d", got, want)
	}
	if !p.cgroupMount {
		t.Errorf("cgroupMount: got false, want true (the default spec mounts /sys/fs/cgroup)")
	}
}

func TestValidateRootlessDefaultSpec(t *testing.T) {
	dir, rootfs := bundle(t)
	s := DefaultSpec(true)
	s.Root.Path = rootfs
	p, err := resolve(s, dir)
	if err != nil {
		t.Fatalf("resolve(DefaultSpec(true)): %v", err)
	}
	defer p.ns.close()
	if p.ns.create&unix.CLONE_NEWUSER == 0 || p.ns.create&unix.CLONE_NEWNET != 0 {
		t.Errorf("namespaces to create: got %#x, want CLONE_NEWUSER in it and not CLONE_NEWNET (runc's ToRootless)", p.ns.create)
	}
	if p.cgroupMount {
		t.Errorf("cgroupMount: got true, want false (the rootless spec has no cgroup mount)")
	}
}

// The spec says root.path and bind sources may be relative to the bundle.
func TestValidateRelativePaths(t *testing.T) {
	dir, rootfs := bundle(t)
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := validSpec(rootfs)
	s.Root.Path = "rootfs"
	s.Mounts = []specs.Mount{{Destination: "/data", Source: "data", Options: []string{"rbind", "ro"}}}
	p, err := resolve(s, dir)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	defer p.ns.close()
	if p.rootfs != rootfs {
		t.Errorf("rootfs: got %q, want %q", p.rootfs, rootfs)
	}
	if got, want := p.mounts[0].Source, filepath.Join(dir, "data"); got != want {
		t.Errorf("bind source: got %q, want %q", got, want)
	}
	if s.Mounts[0].Source != "data" {
		t.Errorf("spec's bind source: got %q, want it unchanged (%q)", s.Mounts[0].Source, "data")
	}
}

func TestValidateErrors(t *testing.T) {
	dir, rootfs := bundle(t)
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(s *specs.Spec)
		want   string // substring of the error; "" for no error
	}{
		// ociVersion
		{"version missing", func(s *specs.Spec) { s.Version = "" }, "ociVersion: missing"},
		{"version major 2", func(s *specs.Spec) { s.Version = "2.0.0" }, `ociVersion "2.0.0"`},
		{"version major 0", func(s *specs.Spec) { s.Version = "0.9.0" }, `ociVersion "0.9.0"`},
		{"version 1.0.0", func(s *specs.Spec) { s.Version = "1.0.0" }, ""},
		{"version 1.2.0-dev", func(s *specs.Spec) { s.Version = "1.2.0-dev" }, ""},

		// root
		{"root missing", func(s *specs.Spec) { s.Root = nil }, "root.path: missing"},
		{"root.path empty", func(s *specs.Spec) { s.Root.Path = "" }, "root.path: missing"},
		{"rootfs missing", func(s *specs.Spec) { s.Root.Path = filepath.Join(dir, "nope") }, "root.path"},
		{"rootfs a file", func(s *specs.Spec) { s.Root.Path = file }, "root.path"},

		// process
		{"process missing", func(s *specs.Spec) { s.Process = nil }, "process: missing"},
		{"args empty", func(s *specs.Spec) { s.Process.Args = nil }, "process.args"},
		{"args[0] empty", func(s *specs.Spec) { s.Process.Args = []string{""} }, "process.args[0]"},
		{"commandLine", func(s *specs.Spec) { s.Process.CommandLine = "sh" }, "process.commandLine"},
		{"cwd missing", func(s *specs.Spec) { s.Process.Cwd = "" }, "process.cwd"},
		{"cwd relative", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, "process.cwd"},
		{"env without =", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "FOO") }, "process.env[2]"},
		{"env without name", func(s *specs.Spec) { s.Process.Env = []string{"=x"} }, "process.env[0]"},
		{"env with NUL", func(s *specs.Spec) { s.Process.Env = []string{"A=b\x00c"} }, "process.env[0]"},
		{"env empty value", func(s *specs.Spec) { s.Process.Env = []string{"A="} }, ""},
		{"rlimit unknown", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_BOGUS", Hard: 1, Soft: 1}}
		}, "process.rlimits[0].type"},
		{"rlimit duplicate", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1, Soft: 1}, {Type: "RLIMIT_NOFILE", Hard: 2, Soft: 2}}
		}, "process.rlimits[1].type"},
		{"rlimit soft above hard", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 10, Soft: 11}}
		}, "process.rlimits[0]"},
		{"oomScoreAdj too big", func(s *specs.Spec) { n := 1001; s.Process.OOMScoreAdj = &n }, "process.oomScoreAdj"},
		{"oomScoreAdj too small", func(s *specs.Spec) { n := -1001; s.Process.OOMScoreAdj = &n }, "process.oomScoreAdj"},
		{"oomScoreAdj -1000", func(s *specs.Spec) { n := -1000; s.Process.OOMScoreAdj = &n }, ""},
		{"scheduler", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{} }, "process.scheduler.policy: missing"},
		{"scheduler batch", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 3} }, ""},
		{"ioPriority class", func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "X"} }, "process.ioPriority.class"},
		{"execCPUAffinity", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "x"} }, "process.execCPUAffinity.initial"},
		{"personality", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "X"} }, "linux.personality.domain"},
		{"memoryPolicy", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind} }, "linux.memoryPolicy.nodes"},
		{"netDevices without a network namespace", func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"lo": {}}
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.UTSNamespace}}
		}, "linux.netDevices: needs a network namespace"},

		// linux
		{"linux missing", func(s *specs.Spec) { s.Linux = nil }, "linux: missing"},
		{"seccomp", func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{} }, "linux.seccomp"},
		{"windows", func(s *specs.Spec) { s.Windows = &specs.Windows{} }, "windows"},
		{"namespace type unknown", func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: "bogus"}}
		}, "linux.namespaces[1].type"},
		{"namespace duplicate", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, "linux.namespaces[6]"},
		{"namespace path missing", func(s *specs.Spec) {
			s.Linux.Namespaces[1].Path = filepath.Join(dir, "nope")
		}, "linux.namespaces[1].path"},
		{"namespace path not a namespace", func(s *specs.Spec) {
			s.Linux.Namespaces[1].Path = file
		}, "linux.namespaces[1].path"},
		{"namespace path of the wrong type", func(s *specs.Spec) {
			// /proc/self/ns/net declared as the mount namespace.
			s.Linux.Namespaces[4].Path = "/proc/self/ns/net"
		}, "linux.namespaces[4].path: /proc/self/ns/net is not a mount namespace"},
		{"namespace path of the right type", func(s *specs.Spec) {
			s.Linux.Namespaces[1].Path = "/proc/self/ns/net"
		}, ""},
		{"uid mappings without user namespace", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "linux.uidMappings"},
		{"user namespace without mappings", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "linux.uidMappings"},
		{"user namespace without gid mappings", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "linux.gidMappings"},
		{"mapping of size 0", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 0}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "linux.uidMappings[0].size"},
		{"hostname without uts namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}}
		}, "hostname"},
		{"domainname without uts namespace", func(s *specs.Spec) {
			onlyMountNamespace(s)
			s.Domainname = "example.org"
		}, "domainname"},
		{"time offsets without time namespace", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "linux.timeOffsets"},
		{"time offsets of an unknown clock", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
		}, "linux.timeOffsets"},
		{"rootfsPropagation unknown", func(s *specs.Spec) { s.Linux.RootfsPropagation = "bogus" }, "linux.rootfsPropagation"},
		{"rootfsPropagation rslave", func(s *specs.Spec) { s.Linux.RootfsPropagation = "rslave" }, ""},
		{"mounts without mount namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:4] // pid net ipc uts
		}, "mounts: need a mount namespace"},
		{"read-only paths without mount namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:4]
			s.Mounts, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil, []string{"/proc/sys"}
		}, "linux.readonlyPaths: unable to restrict sys entries"},
		{"masked path relative", func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"proc/kcore"} }, "linux.maskedPaths[0]"},
		{"read-only path relative", func(s *specs.Spec) {
			s.Linux.MaskedPaths = []string{"/proc/kcore"}
			s.Linux.ReadonlyPaths = []string{"/proc/sys", "proc/bus"}
		}, "linux.readonlyPaths[1]"},
		{"device path relative", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "dev/fuse", Type: "c", Major: 10, Minor: 229}}
		}, "linux.devices[0].path"},
		{"device type unknown", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "x", Major: 10, Minor: 229}}
		}, "linux.devices[0].type"},
		// major and minor are "REQUIRED unless type is p" (config-linux.md
		// "Devices"): optional for a fifo, so one given is no error.
		{"fifo with a device number", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/f", Type: "p", Major: 8, Minor: 666}}
		}, ""},

		// sysctl, through validate
		{"sysctl net without network namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.UTSNamespace}}
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, `linux.sysctl "net.ipv4.ip_forward"`},
		{"sysctl net with network namespace", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, ""},
		{"sysctl vm refused", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"vm.swappiness": "10"}
		}, `linux.sysctl "vm.swappiness"`},

		// mounts
		{"mount destination relative", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "proc", Type: "proc", Source: "proc"}}
		}, "mounts[0].destination"},
		{"mount destination missing", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Type: "proc", Source: "proc"}}
		}, "mounts[0].destination"},
		{"mount type missing", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/proc", Source: "proc"}}
		}, "mounts[0].type"},
		{"mount type not a filesystem", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/proc", Type: "/bin/sh", Source: "proc"}}
		}, "mounts[0].type"},
		{"mount option unsupported", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind", "copy-symlink"}}}
		}, `mounts[0].options: option "copy-symlink"`},
		{"idmap without mappings nor user namespace", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind", "idmap"}}}
		}, `mounts[0]: "idmap" without uidMappings and gidMappings`},
		{"mount uid mappings without gid mappings", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind"},
				UIDMappings: []specs.LinuxIDMapping{{Size: 1}}}}
		}, "mounts[0]: uidMappings and gidMappings go together"},
		{"mount id mapping of size 0", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind", "ridmap"},
				UIDMappings: []specs.LinuxIDMapping{{Size: 1}}, GIDMappings: []specs.LinuxIDMapping{{Size: 0}}}}
		}, "mounts[0].gidMappings[0].size"},
		{"idmapped tmpfs", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"},
				UIDMappings: []specs.LinuxIDMapping{{Size: 1}}, GIDMappings: []specs.LinuxIDMapping{{Size: 1}}}}
		}, "mounts[0]: idmapped mounts are bind mounts only"},
		{"idmapped bind with mappings", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind", "ridmap"},
				UIDMappings: []specs.LinuxIDMapping{{Size: 1}}, GIDMappings: []specs.LinuxIDMapping{{Size: 1}}}}
		}, ""},
		{"bind without source", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/data", Options: []string{"bind"}}}
		}, "mounts[0].source"},
		// An earlier mount may provide it: looked for at mount time.
		{"bind of a source not there yet", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/data", Type: "none", Source: filepath.Join(dir, "nope"), Options: []string{"rbind"}}}
		}, ""},
		{"bind by type", func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: dir}}
		}, ""},

		// hooks
		{"hook path relative", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "true"}}}
		}, "hooks.prestart[0].path"},
		{"hook path missing", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}, {Path: filepath.Join(dir, "nope")}}}
		}, "hooks.poststop[1].path"},
		{"hook timeout 0", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true", Timeout: timeout(0)}}}
		}, "hooks.createRuntime[0].timeout"},
		{"hook timeout negative", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true", Timeout: timeout(-1)}}}
		}, "hooks.prestart[0].timeout"},
		{"hooks valid", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{
				Prestart: []specs.Hook{{Path: "/bin/true", Timeout: timeout(1)}},
				// Resolved in the container, so not looked up on the host.
				StartContainer: []specs.Hook{{Path: "/only/in/the/container"}},
			}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec(rootfs)
			tc.mutate(s)
			p, err := resolve(s, dir)
			if p != nil {
				defer p.ns.close()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("validate: got %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Errorf("validate: got nil error, want one containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("validate: got %q, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"1.0.0", true}, {"1.3.0", true}, {specs.Version, true}, {"1", true},
		{"", false}, {"2.0.0", false}, {"0.1.0", false}, {"10.0.0", false}, {"v1.0.0", false},
	} {
		err := checkVersion(tc.v)
		if got := err == nil; got != tc.ok {
			t.Errorf("checkVersion(%q): got %v, want ok=%v", tc.v, err, tc.ok)
		} else if err != nil && !strings.Contains(err.Error(), "ociVersion") {
			t.Errorf("checkVersion(%q): got %q, want it to name ociVersion", tc.v, err)
		}
	}
}

// A capability the running kernel lacks, or a name that is none, is a
// warning, not an error (config.md "Capabilities"), so that one config
// works across kernels and runtimes.
func TestCheckProcessCapabilityAboveLastCap(t *testing.T) {
	// A kernel that stops at CAP_AUDIT_CONTROL (30), the default
	// capabilities (up to CAP_AUDIT_WRITE, 29) and CAP_SYSLOG (34).
	p := &plan{lastCap: 30}
	proc := validSpec("/").Process
	proc.Capabilities.Bounding = append(proc.Capabilities.Bounding, "CAP_SYSLOG")
	proc.Capabilities.Permitted = append(proc.Capabilities.Permitted, "CAP_NOT_A_CAP")
	if err := p.checkProcess(proc); err != nil {
		t.Fatalf("checkProcess: got %v, want nil", err)
	}
	want := "ignoring unknown or unavailable capabilities: [CAP_NOT_A_CAP CAP_SYSLOG]"
	if len(p.warnings) != 1 || p.warnings[0] != want {
		t.Errorf("warnings: got %q, want [%q]", p.warnings, want)
	}
}

func TestPlanNamespaces(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		list   []specs.LinuxNamespace
		create int
		joins  []specs.LinuxNamespaceType
		err    string
	}{
		{"none", nil, 0, nil, ""},
		{
			"all created",
			[]specs.LinuxNamespace{{Type: "pid"}, {Type: "network"}, {Type: "mount"}, {Type: "ipc"}, {Type: "uts"}, {Type: "user"}, {Type: "cgroup"}, {Type: "time"}},
			unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME,
			nil, "",
		},
		{
			"joined by path",
			[]specs.LinuxNamespace{{Type: "mount"}, {Type: "network", Path: "/proc/self/ns/net"}, {Type: "uts", Path: "/proc/self/ns/uts"}},
			unix.CLONE_NEWNS, []specs.LinuxNamespaceType{"network", "uts"}, "",
		},
		{"unknown type", []specs.LinuxNamespace{{Type: "mount"}, {Type: "bogus"}}, 0, nil, `linux.namespaces[1].type: unknown namespace type "bogus"`},
		{"empty type", []specs.LinuxNamespace{{Type: ""}}, 0, nil, "linux.namespaces[0].type"},
		{"duplicate", []specs.LinuxNamespace{{Type: "pid"}, {Type: "pid"}}, 0, nil, `linux.namespaces[1]: duplicate namespace "pid"`},
		{
			"duplicate, one by path",
			[]specs.LinuxNamespace{{Type: "network", Path: "/proc/self/ns/net"}, {Type: "network"}},
			0, nil, "linux.namespaces[1]: duplicate",
		},
		{"path not a namespace", []specs.LinuxNamespace{{Type: "network", Path: file}}, 0, nil, "linux.namespaces[0].path: " + file + " is not a network namespace"},
		{"path of the wrong type", []specs.LinuxNamespace{{Type: "mount", Path: "/proc/self/ns/net"}}, 0, nil, "linux.namespaces[0].path: /proc/self/ns/net is not a mount namespace"},
		{"path missing", []specs.LinuxNamespace{{Type: "ipc", Path: file + "-nope"}}, 0, nil, "linux.namespaces[0].path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := planNamespaces(tc.list)
			if tc.err != "" {
				if err == nil {
					p.close()
					t.Fatalf("got nil error, want one containing %q", tc.err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Errorf("got %q, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			defer p.close()
			if p.create != tc.create {
				t.Errorf("create: got %#x, want %#x", p.create, tc.create)
			}
			var joins []specs.LinuxNamespaceType
			for _, j := range p.joins {
				joins = append(joins, j.typ)
				if j.f == nil || j.flag != nsFlags[j.typ] {
					t.Errorf("join %s: got file %v flag %#x, want an open file and flag %#x", j.typ, j.f, j.flag, nsFlags[j.typ])
				}
			}
			if strings.Join(nsStrings(joins), ",") != strings.Join(nsStrings(tc.joins), ",") {
				t.Errorf("joins: got %v, want %v", joins, tc.joins)
			}
			for _, ns := range tc.list {
				if !p.has(ns.Type) {
					t.Errorf("has(%s): got false, want true", ns.Type)
				}
				if got, want := p.joined(ns.Type), ns.Path != ""; got != want {
					t.Errorf("joined(%s): got %v, want %v", ns.Type, got, want)
				}
			}
		})
	}
}

func nsStrings(l []specs.LinuxNamespaceType) []string {
	var out []string
	for _, t := range l {
		out = append(out, string(t))
	}
	return out
}

// planNamespaces must not leak the namespace files it opened when a later
// entry is bad.
func TestPlanNamespacesClosesOnError(t *testing.T) {
	before := openFds(t)
	_, err := planNamespaces([]specs.LinuxNamespace{
		{Type: "network", Path: "/proc/self/ns/net"},
		{Type: "uts", Path: "/proc/self/ns/uts"},
		{Type: "mount", Path: "/proc/self/ns/net"},
	})
	if err == nil {
		t.Fatal("got nil error, want one for the wrong type")
	}
	if after := openFds(t); after != before {
		t.Errorf("open fds: got %d after the error, want %d as before", after, before)
	}
}

// Nor must validate, when a check after planNamespaces fails.
func TestValidateClosesNamespacesOnError(t *testing.T) {
	dir, rootfs := bundle(t)
	s := validSpec(rootfs)
	s.Linux.Namespaces[1].Path = "/proc/self/ns/net"
	s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"}
	before := openFds(t)
	if _, err := resolve(s, dir); err == nil {
		t.Fatal("got nil error, want one for vm.swappiness")
	}
	if after := openFds(t); after != before {
		t.Errorf("open fds: got %d after the error, want %d as before", after, before)
	}
}

func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestCheckSysctl(t *testing.T) {
	all := &nsPlan{create: unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNS}
	none := &nsPlan{create: unix.CLONE_NEWNS}
	joinedNet := &nsPlan{joins: []join{{typ: specs.NetworkNamespace}}}
	for _, tc := range []struct {
		key  string
		ns   *nsPlan
		want string // substring of the error; "" for none
	}{
		{"net.ipv4.ip_forward", all, ""},
		{"net/ipv4/ip_forward", all, ""},
		{"net.core.somaxconn", joinedNet, ""},
		{"net.ipv4.ip_forward", none, "network namespace"},
		{"net/ipv4/ip_forward", none, "network namespace"},
		{"kernel.shmmax", all, ""},
		{"kernel.shmmax", none, "IPC namespace"},
		{"kernel.msgmnb", none, "IPC namespace"},
		{"kernel.sem", none, "IPC namespace"},
		{"fs.mqueue.msg_max", all, ""},
		{"fs.mqueue.msg_max", none, "IPC namespace"},
		{"kernel.domainname", all, ""},
		{"kernel.domainname", none, "UTS namespace"},
		{"kernel.hostname", none, "UTS namespace"},
		{"vm.swappiness", all, "would change the host"},
		{"kernel.pid_max", all, "would change the host"},
		{"kernel.shmmaxx", all, "would change the host"},
		{"fs.file-max", all, "would change the host"},
	} {
		err := checkSysctl(tc.key, tc.ns)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("checkSysctl(%q, %#x): got %v, want nil", tc.key, tc.ns.create, err)
		case tc.want != "" && err == nil:
			t.Errorf("checkSysctl(%q, %#x): got nil, want an error containing %q", tc.key, tc.ns.create, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("checkSysctl(%q, %#x): got %q, want an error containing %q", tc.key, tc.ns.create, err, tc.want)
		}
	}
}

// A network namespace joined by path may be the runtime's own (the
// host's): a net.* sysctl there would change the host, so it is refused
// as runc refuses it ("not allowed in host network namespace").
func TestCheckSysctlJoinedNetwork(t *testing.T) {
	own, err := planNamespaces([]specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/proc/self/ns/net"}})
	if err != nil {
		t.Fatal(err)
	}
	defer own.close()
	if err := checkSysctl("net.ipv4.ip_forward", own); err == nil || !strings.Contains(err.Error(), "network namespace") {
		t.Errorf("net sysctl in the runtime's own network namespace: got %v, want an error about the network namespace", err)
	}
	// Other sysctls do not care which network namespace it is.
	if err := checkSysctl("vm.swappiness", own); err == nil || !strings.Contains(err.Error(), "would change the host") {
		t.Errorf("vm.swappiness: got %v, want it refused as before", err)
	}

	dir, rootfs := bundle(t)
	s := validSpec(rootfs)
	s.Linux.Namespaces[1].Path = "/proc/self/ns/net"
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	p, err := resolve(s, dir)
	if p != nil {
		p.ns.close()
	}
	if err == nil || !strings.Contains(err.Error(), `linux.sysctl "net.ipv4.ip_forward"`) {
		t.Errorf("validate: got %v, want an error naming linux.sysctl \"net.ipv4.ip_forward\"", err)
	}
}

// A network namespace of its own, joined by path, takes net.* sysctls.
func TestCheckSysctlJoinedOtherNetwork(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates a network namespace")
	}
	// A child in a new network namespace holds it; a thread of our own
	// would not do: if it were the main thread, /proc/self/ns/net would
	// follow it.
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if err := cmd.Start(); err != nil {
		t.Fatalf("could not make a network namespace: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	p := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/net"
	plan, err := planNamespaces([]specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: p}})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.close()
	if err := checkSysctl("net.ipv4.ip_forward", plan); err != nil {
		t.Errorf("net sysctl in a joined network namespace of its own: got %v, want nil", err)
	}
}

func TestCheckHooks(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	for _, tc := range []struct {
		name  string
		hooks *specs.Hooks
		want  string
	}{
		{"nil", nil, ""},
		{"empty", &specs.Hooks{}, ""},
		{"valid", &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}, Timeout: timeout(5)}}}, ""},
		{"relative", &specs.Hooks{Prestart: []specs.Hook{{Path: "bin/true"}}}, `hooks.prestart[0].path "bin/true"`},
		{"empty path", &specs.Hooks{Poststart: []specs.Hook{{Path: ""}}}, "hooks.poststart[0].path"},
		{"timeout 0", &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/true", Timeout: timeout(0)}}}, "hooks.createContainer[0].timeout 0"},
		{"timeout negative", &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/true", Timeout: timeout(-3)}}}, "hooks.poststop[1].timeout -3"},
		{"missing on the host", &specs.Hooks{CreateRuntime: []specs.Hook{{Path: missing}}}, "hooks.createRuntime[0].path"},
		{"startContainer runs in the container", &specs.Hooks{StartContainer: []specs.Hook{{Path: missing}}}, ""},
		{"startContainer still absolute", &specs.Hooks{StartContainer: []specs.Hook{{Path: "x"}}}, "hooks.startContainer[0].path"},
	} {
		err := checkHooks(tc.hooks)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: got %v, want nil", tc.name, err)
		case tc.want != "" && err == nil:
			t.Errorf("%s: got nil, want an error containing %q", tc.name, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: got %q, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
