package libsandbox

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/sandbox-runtime/sandbox-runtime/internal/procattr"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/caps"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/seccomp"
)

// Features is what `features` prints: only what this build really does on
// this host.
func Features() *features.Features {
	t := true
	sc := seccomp.Supported()
	for _, l := range [][]string{sc.Actions, sc.Operators, sc.Archs, sc.KnownFlags, sc.SupportedFlags} {
		sort.Strings(l)
	}
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  rootfs.KnownOptions(),
		Linux: &features.Linux{
			Namespaces:   NamespaceTypes(),
			Capabilities: caps.Names(),
			Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: &t, SystemdUser: &t, Rdma: &t},
			Seccomp: &features.Seccomp{
				Enabled:        &t,
				Actions:        sc.Actions,
				Operators:      sc.Operators,
				Archs:          sc.Archs,
				KnownFlags:     sc.KnownFlags,
				SupportedFlags: sc.SupportedFlags,
			},
			// Compiled in, as the spec defines both ("unrelated to
			// whether the host supports AppArmor" / "SELinux"), and as
			// runc reports them: create applies a profile or label
			// where the host has the LSM, and refuses it, naming the
			// field, where it has not.
			Apparmor: &features.Apparmor{Enabled: &t},
			Selinux:  &features.Selinux{Enabled: &t},
			// Compiled in ("unrelated to whether the host supports
			// Intel RDT"): create refuses it where no resctrl is
			// mounted.
			IntelRdt: &features.IntelRdt{Enabled: &t, Schemata: &t, Monitoring: &t},
			MemoryPolicy: &features.MemoryPolicy{
				Modes: sorted(procattr.MemoryPolicyModes()),
				Flags: sorted(procattr.MemoryPolicyFlags()),
			},
			MountExtensions: &features.MountExtensions{
				IDMap: &features.IDMap{Enabled: &t},
			},
			NetDevices: &features.NetDevices{Enabled: &t},
		},
		Annotations: map[string]string{
			"org.opencontainers.runtime-spec.features.version": specs.Version,
		},
		// A prefix (the spec: a value ending in "."): the systemd
		// driver sets the unit property org.systemd.property.NAME
		// names (cgroups/systemd_props.go), DeviceAllow= and
		// Delegate= among those systemd takes for a scope, beyond
		// what the spec's fields allow; runc lists it too.
		// CheckpointFeatures adds org.criu.config.
		PotentiallyUnsafeConfigAnnotations: []string{"org.systemd.property."},
	}
}

func sorted(l []string) []string {
	sort.Strings(l)
	return l
}
