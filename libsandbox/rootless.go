package libsandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
//     (planIDMaps, usermaps.go);
//   - the cgroup is made only where the user may make one (a delegated
//     v2 subtree); elsewhere the container goes without, unless it asks
//     for limits (create.go makeCgroup, as runc's rootless cgroup mode);
//   - what it cannot do whatever the host is refused before anything is
//     made (checkRootless), and everything refused for lack of privilege
//     says so (rootlessHint).

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

// rootlessHint adds to a refusal for lack of privilege (EPERM, EACCES,
// EROFS on cgroupfs) that the runtime runs without root, when it does:
// the field at fault is already named by the error.
func rootlessHint(err error) error {
	if err == nil || !Rootless() || !privilegeError(err) {
		return err
	}
	return fmt.Errorf("%w (the runtime runs without root)", err)
}

// checkRootless refuses, before anything is made, what a runtime
// without root cannot do whatever the host (runc's rootless validation
// refuses the same).
func (p *plan) checkRootless(spec *specs.Spec) error {
	const why = "the runtime runs without root"
	if os.Geteuid() != 0 && !p.ns.has(specs.UserNamespace) {
		// Every other namespace, mount and id change needs privilege
		// that only a user namespace of the container's gives.
		return fmt.Errorf(`linux.namespaces: the container needs a user namespace of its own, because %s: add {"type": "user"} with linux.uidMappings and gidMappings (spec --rootless writes them)`, why)
	}
	if len(spec.Linux.NetDevices) > 0 {
		return fmt.Errorf("linux.netDevices: moving a host's network device needs CAP_NET_ADMIN on the host: %s", why)
	}
	if os.Geteuid() != 0 {
		for i, m := range p.mounts {
			if m.IDMapped {
				return fmt.Errorf("mounts[%d]: an idmapped mount needs CAP_SYS_ADMIN over its source's filesystem, the host's: %s", i, why)
			}
		}
	}
	if u := spec.Process.User; len(u.AdditionalGids) > 0 && p.idMaps != nil && p.idMaps.denySetgroups {
		return fmt.Errorf("process.user.additionalGids %v: setgroups(2) is denied in the container's user namespace, because %s and writes its gid map without newgidmap (your own gid alone): map subordinate gids too (/etc/subgid), or remove them", u.AdditionalGids, why)
	}
	return nil
}

func privilegeError(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.EROFS) || errors.Is(err, os.ErrPermission)
}

// errNoCgroup is what the verbs that act on the container's cgroup say
// of a container that has none.
var errNoCgroup = errors.New("the container has no cgroup: it was created by a runtime without root where the user may not make cgroups (cgroup v1 and hybrid hosts, or cgroup v2 without a subtree delegated to the user)")

// processesWithoutCgroup lists the processes of a container that has no
// cgroup to list them (host pids): those in init's pid namespace, or,
// without one of its own, init and its descendants. Processes that we
// may not look at (another user's) are not the container's: its
// processes are ours or those of ids mapped to us, in a user namespace
// we own.
func processesWithoutCgroup(initPid int, initStart uint64) ([]int, error) {
	if !alive(initPid, initStart) {
		return nil, nil
	}
	var own, initNS unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &own); err != nil {
		return nil, err
	}
	if err := unix.Stat("/proc/"+strconv.Itoa(initPid)+"/ns/pid", &initNS); err != nil {
		return nil, fmt.Errorf("init's pid namespace: %w", err)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	sameNS := own.Dev == initNS.Dev && own.Ino == initNS.Ino
	parent := map[int]int{}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if sameNS {
			if pp, ok := readPPid(pid); ok {
				parent[pid] = pp
			}
			continue
		}
		var st unix.Stat_t
		if unix.Stat("/proc/"+e.Name()+"/ns/pid", &st) == nil && st.Dev == initNS.Dev && st.Ino == initNS.Ino && !dead(pid) {
			out = append(out, pid)
		}
	}
	if !sameNS {
		return out, nil
	}
	for pid := range parent {
		for p, n := pid, 0; p > 0 && n < 1<<16; p, n = parent[p], n+1 {
			if p == initPid && !dead(pid) {
				out = append(out, pid)
				break
			}
		}
	}
	sort.Ints(out)
	return out, nil
}

// dead: pid is a zombie, or gone (a cgroup no longer lists those).
func dead(pid int) bool {
	st, err := readProcStat(pid)
	return err != nil || st.State == 'Z' || st.State == 'X'
}

// readPPid reads the parent pid of pid (stat(5) field 4).
func readPPid(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(string(f[1]))
	return pp, err == nil
}

// userSystemd reports whether --systemd-cgroup makes the scope with the
// user's systemd instance, as runc's shouldUseRootlessCgroupManager
// decides: yes without root; no for the host's root; for root of a user
// namespace, yes only when $XDG_RUNTIME_DIR names a user's runtime
// directory other than root's (rootless podman runs the runtime as root
// of its user namespace with the user's; a rootful engine in an
// unprivileged system container, LXD, Incus, systemd-nspawn -U, has
// none, or root's own /run/user/0, and its systemd is the system
// instance of that container).
func userSystemd(euid int, inUserNS bool, xdgRuntimeDir string) bool {
	if euid != 0 {
		return true
	}
	if !inUserNS || xdgRuntimeDir == "" {
		return false
	}
	return filepath.Clean(xdgRuntimeDir) != "/run/user/0"
}
