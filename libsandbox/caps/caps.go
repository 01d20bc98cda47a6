// Package caps maps capability names to numbers and applies the five
// capability sets of a runtime-spec process to the calling thread.
package caps

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// names is indexed by capability number (linux/capability.h).
var names = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// Names returns every capability name this runtime knows.
func Names() []string { return append([]string(nil), names[:]...) }

// Number returns the number of a capability name ("CAP_" prefix and case
// as in the spec: upper case, with the prefix).
func Number(name string) (int, bool) {
	for i, n := range names {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// Name returns the name of capability n.
func Name(n int) string {
	if n >= 0 && n < len(names) {
		return names[n]
	}
	return "CAP_" + strconv.Itoa(n)
}

// LastCap is the highest capability the running kernel knows
// (/proc/sys/kernel/cap_last_cap), or the highest we know if it cannot
// be read.
func LastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return n
		}
	}
	return len(names) - 1
}

// Set is a capability set as a bit mask.
type Set uint64

// Has reports whether capability n is in the set.
func (s Set) Has(n int) bool { return s&(1<<uint(n)) != 0 }

// Sets are the five sets of a process, resolved to bit masks.
type Sets struct {
	Bounding, Effective, Inheritable, Permitted, Ambient Set
}

// Resolve turns the spec's names into masks. A name that is not a
// capability, or one this kernel does not have (above lastCap), cannot be
// granted: runtime-spec config.md "Capabilities" says it MUST be logged
// as a warning and the runtime SHOULD NOT fail, which runc does with one
// line ("ignoring unknown or unavailable capabilities: [...]"): it is
// dropped and named in warnings, so that one config works across
// kernels and runtimes.
func Resolve(c *specs.LinuxCapabilities, lastCap int) (s Sets, warnings []string, err error) {
	if c == nil {
		return s, nil, nil
	}
	var ignored []string
	seen := map[string]bool{}
	for _, f := range []struct {
		list []string
		dst  *Set
	}{
		{c.Bounding, &s.Bounding},
		{c.Effective, &s.Effective},
		{c.Inheritable, &s.Inheritable},
		{c.Permitted, &s.Permitted},
		{c.Ambient, &s.Ambient},
	} {
		for _, name := range f.list {
			n, ok := Number(name)
			if !ok || n > lastCap {
				if !seen[name] {
					seen[name] = true
					ignored = append(ignored, name)
				}
				continue
			}
			*f.dst |= 1 << uint(n)
		}
	}
	if len(ignored) > 0 {
		sort.Strings(ignored)
		warnings = append(warnings, fmt.Sprintf("ignoring unknown or unavailable capabilities: %v", ignored))
	}
	return s, warnings, nil
}

// DropBounding removes from the calling thread's bounding set every
// capability up to lastCap that is not in keep. Needs CAP_SETPCAP.
func DropBounding(keep Set, lastCap int) error {
	for n := 0; n <= lastCap; n++ {
		if keep.Has(n) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0); err != nil {
			if err == unix.EINVAL {
				continue // the kernel does not know this one
			}
			return fmt.Errorf("drop %s from the bounding set: %w", Name(n), err)
		}
	}
	return nil
}

// Apply sets the effective, permitted and inheritable sets of the calling
// thread with capset(2) and raises the ambient ones. An ambient
// capability must be permitted and inheritable, or the kernel refuses it
// (EPERM): that is a warning, as runc and crun have it (runc 1.1's own
// `spec` lists ambient capabilities without inheritable ones, and every
// bundle made from it would fail otherwise).
func Apply(s Sets, lastCap int) (warnings []string, err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for i := 0; i < 2; i++ {
		data[i].Effective = uint32(s.Effective >> (32 * i))
		data[i].Permitted = uint32(s.Permitted >> (32 * i))
		data[i].Inheritable = uint32(s.Inheritable >> (32 * i))
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return nil, fmt.Errorf("capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return nil, fmt.Errorf("clear ambient capabilities: %w", err)
	}
	for n := 0; n <= lastCap; n++ {
		if !s.Ambient.Has(n) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(n), 0, 0); err != nil {
			warnings = append(warnings, AmbientWarning(n, err))
		}
	}
	return warnings, nil
}

// AmbientWarning is runc's warning for an ambient capability that could
// not be raised.
func AmbientWarning(n int, err error) string {
	return fmt.Sprintf("can't raise ambient capability %s: %v", Name(n), err)
}
