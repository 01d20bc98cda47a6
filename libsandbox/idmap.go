package libsandbox

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// Idmapped mounts (mounts[].uidMappings/gidMappings, options "idmap" and
// "ridmap"; config.md "POSIX-platform Mounts"): a bind whose files are
// seen through an id mapping, set with mount_setattr(2)
// MOUNT_ATTR_IDMAP on the detached clone before it is attached.
//
// Who makes them: the runtime, never init. The kernel allows
// MOUNT_ATTR_IDMAP to a caller with CAP_SYS_ADMIN over the user namespace
// of the filesystem's superblock (can_idmap_mount in fs/namespace.c),
// the host's for a host directory: init, in the container's user
// namespace, has none, and must not have any. So init asks for each
// idmapped mount (isync.MountSource) when it makes it, and the runtime
// clones the source in init's mount namespace (mountSources, as for any
// bind init cannot reach: the clone keeps the locked flags), idmaps it
// there and hands the detached mount over; init gives it its flags and
// attaches it through the safe path resolution it uses for every mount.
// Everything init receives is a mount the runtime built from the spec;
// init names only an index into the runtime's own list. runc 1.2+ does
// the same in its parent (mountFd in libcontainer/mount_linux.go).
//
// Which mapping: the mount's own, through a user namespace made for it
// (a process in a new user namespace with those maps, stopped by ptrace
// at its execve so it runs nothing, as runc's userns.Handles; killed once
// its namespace is open), or, for "idmap"/"ridmap" without mappings,
// the container's user namespace itself: its mappings are what the spec
// says to use (/proc/<init>/ns/user, with init's start time checked).

// checkIDMapMount checks mounts[i], an idmapped mount with options o.
func checkIDMapMount(i int, m *specs.Mount, o rootfs.Options, ns *nsPlan) error {
	if !o.Bind() && m.Type != "bind" {
		return fmt.Errorf("mounts[%d]: idmapped mounts are bind mounts only (add \"rbind\" or \"bind\")", i)
	}
	if (len(m.UIDMappings) == 0) != (len(m.GIDMappings) == 0) {
		return fmt.Errorf("mounts[%d]: uidMappings and gidMappings go together", i)
	}
	if ns.joined(specs.MountNamespace) {
		// We make it, as root, from a thread in init's mount namespace
		// (mountsource.go): a joined one is its holder's tree, where the
		// source path may name what the holder mounted there (a review
		// had a host user's unshare -Urm bind a root-only directory
		// there, and read and write its files through the mapping).
		return fmt.Errorf("mounts[%d]: an idmapped mount cannot be made in a mount namespace joined by path (the runtime would make it in that namespace's tree)", i)
	}
	if len(m.UIDMappings) == 0 && !ns.has(specs.UserNamespace) {
		return fmt.Errorf("mounts[%d]: %q without uidMappings and gidMappings uses the container's user namespace, and the container has none", i, idmapOption(o))
	}
	for _, list := range []struct {
		field string
		maps  []specs.LinuxIDMapping
	}{{"uidMappings", m.UIDMappings}, {"gidMappings", m.GIDMappings}} {
		for j, x := range list.maps {
			if x.Size == 0 {
				return fmt.Errorf("mounts[%d].%s[%d].size: must not be 0", i, list.field, j)
			}
		}
	}
	return nil
}

func idmapOption(o rootfs.Options) string {
	if o.RIDMap {
		return "ridmap"
	}
	return "idmap"
}

// idmapper finds the user namespace of each idmapped mount; it runs in
// the runtime's main goroutine, in its own mount namespace.
type idmapper struct {
	pid   int    // init
	start uint64 // init's start time
	// byMaps are the user namespaces made for mappings, by mapping.
	byMaps map[string]*os.File
	own    *os.File // init's user namespace
}

// userns returns a user namespace fd for m's mapping; it stays open
// until close.
func (im *idmapper) userns(m rootfs.Mount) (*os.File, error) {
	if len(m.UIDMappings) == 0 {
		if im.own == nil {
			f, err := os.Open("/proc/" + strconv.Itoa(im.pid) + "/ns/user")
			if err != nil {
				return nil, fmt.Errorf("open the container's user namespace: %w", err)
			}
			if st, err := readProcStat(im.pid); err != nil || st.StartTime != im.start {
				f.Close()
				return nil, errors.New("open the container's user namespace: init is gone")
			}
			im.own = f
		}
		return im.own, nil
	}
	key := mapsKey(m.UIDMappings) + ";" + mapsKey(m.GIDMappings)
	if f, ok := im.byMaps[key]; ok {
		return f, nil
	}
	f, err := usernsWith(m.UIDMappings, m.GIDMappings)
	if err != nil {
		return nil, err
	}
	if im.byMaps == nil {
		im.byMaps = map[string]*os.File{}
	}
	im.byMaps[key] = f
	return f, nil
}

func (im *idmapper) close() {
	if im == nil {
		return
	}
	if im.own != nil {
		im.own.Close()
	}
	for _, f := range im.byMaps {
		f.Close()
	}
}

func mapsKey(maps []specs.LinuxIDMapping) string {
	var s []string
	for _, m := range maps {
		s = append(s, fmt.Sprintf("%d:%d:%d", m.ContainerID, m.HostID, m.Size))
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// usernsWith makes a user namespace with the given mappings and returns
// an fd of it: a child cloned into a new user namespace (the standard
// library writes its maps) and traced, so that it stops at its execve
// before it runs a single instruction of the program (PTRACE_TRACEME:
// SIGTRAP after exec), then killed once the namespace is open; the fd
// keeps the namespace.
func usernsWith(uids, gids []specs.LinuxIDMapping) (_ *os.File, retErr error) {
	conv := func(maps []specs.LinuxIDMapping) []syscall.SysProcIDMap {
		var out []syscall.SysProcIDMap
		for _, m := range maps {
			out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
		}
		return out
	}
	proc, err := os.StartProcess("/proc/self/exe", []string{"sandbox-runtime-idmap"}, &os.ProcAttr{
		Sys: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: conv(uids),
			GidMappings: conv(gids),
			Ptrace:      true,
			Pdeathsig:   unix.SIGKILL,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("make a user namespace for the mapping: %w", err)
	}
	defer func() {
		proc.Kill()
		proc.Wait()
	}()
	f, err := os.Open("/proc/" + strconv.Itoa(proc.Pid) + "/ns/user")
	if err != nil {
		return nil, fmt.Errorf("make a user namespace for the mapping: %w", err)
	}
	return f, nil
}

// idmapTree applies the mapping of userns to the detached mount tree:
// its top mount, or every mount of it for "ridmap". It runs in init's
// mount namespace, where tree was cloned.
func idmapTree(tree int, userns int, m rootfs.Mount) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if m.Options.RIDMap {
		flags |= unix.AT_RECURSIVE
	}
	err := unix.MountSetattr(tree, "", flags, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL):
		// can_idmap_mount: the filesystem (or, with ridmap, one under
		// it) has no FS_ALLOW_IDMAP, or turned it off.
		return fmt.Errorf("idmapped mount of %s: its filesystem (or one mounted under it, with ridmap) does not support idmapped mounts: mount_setattr MOUNT_ATTR_IDMAP: %w", m.Source, err)
	}
	return fmt.Errorf("idmapped mount of %s: mount_setattr MOUNT_ATTR_IDMAP: %w", m.Source, err)
}
