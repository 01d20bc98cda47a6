package libsandbox

import (
	"io"
	"os"
	"strings"
	"sync"
)

// Rootless containers: the runtime run by an unprivileged user, or as
// root of a user namespace that is not the host's (rootless podman and
// containerd run it inside one of their own, made with newuidmap; runc
// calls the two cases RootlessEUID and RootlessCgroups).
//
// What that changes, and where:
//   - the state root defaults to $XDG_RUNTIME_DIR/sandbox-runtime (main);
//   - a new user namespace's maps are written by the kernel's rules for
//     the unprivileged, or by the setuid helpers newuidmap/newgidmap
//     (planIDMaps, usermaps.go).

// Rootless reports whether the runtime runs without root on the host:
// as another uid than 0, or as uid 0 of a user namespace.
func Rootless() bool { return os.Geteuid() != 0 || InUserNS() }

var inUserNS = sync.OnceValue(func() bool {
	f, err := os.Open("/proc/self/uid_map")
	if err != nil {
		return false
	}
	defer f.Close()
	return !identityMap(f)
})

// InUserNS reports whether the runtime runs in a user namespace other
// than the host's: one whose uid_map is not the whole identity (moby/sys
// userns.RunningInUserNS).
func InUserNS() bool { return inUserNS() }

// identityMap reports whether a uid_map is the host's: "0 0 4294967295".
func identityMap(r io.Reader) bool {
	b, err := io.ReadAll(io.LimitReader(r, 1<<16))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}
