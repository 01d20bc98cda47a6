package libsandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// checkUserNSOwner refuses a user namespace to join that another user
// controls: one whose top ancestor below our own user namespace was made
// by another uid than ours. That uid holds every capability in it, so
// CAP_KILL and CAP_SYS_PTRACE over every process whose credentials are
// in it: over init and exec's children from their setns on, while they
// still hold our fds and our tree. And setns into it is a change of
// credentials that the kernel does not count as a subset of ours
// (cred_cap_issubset, kernel/cred.c: only the owner of such an ancestor
// keeps its capabilities over it), so commit_creds clears the child's
// parent-death signal and resets its dumpable flag to fs.suid_dumpable:
// with 1 the owner could trace a process of ours holding the host's fds;
// with 0 it could still stop it. A review showed both (SIGSTOP sent in a
// loop lands as setns returns). A namespace of our own uid, or one made
// below it by any of its processes, is ours to join (a pod's, made by a
// root runtime; a rootless runtime's own).
func checkUserNSOwner(u join) error {
	var self unix.Stat_t
	if err := unix.Stat("/proc/self/ns/user", &self); err != nil {
		return fmt.Errorf("linux.namespaces: user namespace %s: our own: %w", u.path, err)
	}
	cur := int(u.f.Fd())
	for {
		var st unix.Stat_t
		if err := unix.Fstat(cur, &st); err != nil {
			return fmt.Errorf("linux.namespaces: user namespace %s: %w", u.path, err)
		}
		if st.Dev == self.Dev && st.Ino == self.Ino {
			// Our own: nothing changes.
			return nil
		}
		parent, err := unix.IoctlRetInt(cur, unix.NS_GET_PARENT)
		if err != nil {
			// EPERM: not below ours; setns will refuse it itself.
			return nil
		}
		var pst unix.Stat_t
		err = unix.Fstat(parent, &pst)
		if err == nil && pst.Dev == self.Dev && pst.Ino == self.Ino {
			var owner uint32
			owner, err = unix.IoctlGetUint32(cur, unix.NS_GET_OWNER_UID)
			unix.Close(parent)
			if cur != int(u.f.Fd()) {
				unix.Close(cur)
			}
			if err != nil {
				return fmt.Errorf("linux.namespaces: user namespace %s: its owner: %w", u.path, err)
			}
			if owner != uint32(os.Geteuid()) {
				return fmt.Errorf("linux.namespaces: user namespace %s: made by uid %d (or below a namespace it made), who would hold every capability over the runtime's processes that join it; join a user namespace made by uid %d", u.path, owner, os.Geteuid())
			}
			return nil
		}
		if cur != int(u.f.Fd()) {
			unix.Close(cur)
		}
		if err != nil {
			unix.Close(parent)
			return fmt.Errorf("linux.namespaces: user namespace %s: %w", u.path, err)
		}
		cur = parent
	}
}

// suidDumpable reads fs.suid_dumpable (0 if it cannot).
func suidDumpable() string {
	b, err := os.ReadFile("/proc/sys/fs/suid_dumpable")
	if err != nil {
		return "0"
	}
	return strings.TrimSpace(string(b))
}

// checkDumpableInit refuses a container with a user namespace whose pid
// namespace is joined (a pod's) where fs.suid_dumpable is 1. Its init is
// the pid namespace's processes' to see from its execve on, and runs
// from the exec-only copy so that they may not trace it (README,
// Security): the kernel makes a process that execs a file it may not
// read dumpable as fs.suid_dumpable says (begin_new_exec), which with 1
// is dumpable, and init can make itself non-dumpable only once its Go
// runtime has started (~3 ms). A review traced such an init from a pod's
// process with CAP_SYS_PTRACE in the pod's user namespace and took its
// fds (the sync socket, the exec fifo), five times in five. 0 and 2
// ("suidsafe") keep it out of reach; 1 is the kernel's insecure debug
// setting.
func checkDumpableInit(ns *nsPlan) error {
	if !ns.has(specs.UserNamespace) || !ns.joined(specs.PIDNamespace) {
		return nil
	}
	if v := suidDumpable(); v == "1" {
		return errors.New("linux.namespaces: a user namespace with a joined pid namespace needs fs.suid_dumpable 0 or 2 (it is 1: init would be dumpable, to the pid namespace's processes, from its execve until its Go runtime has started)")
	}
	return nil
}
