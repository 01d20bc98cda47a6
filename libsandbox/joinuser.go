package libsandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// userNSOwner returns the uid (ours to compare: as our user namespace
// sees it) that made the top ancestor of u below our own user namespace,
// and whether u is below ours at all (or ours).
//
// That uid holds every capability in u, so CAP_KILL and CAP_SYS_PTRACE
// over every process whose credentials are in it: over init and exec's
// children from their setns on, while they still hold our fds and our
// tree. And setns into it is a change of credentials that the kernel
// does not count as a subset of ours unless that uid is ours
// (cred_cap_issubset, kernel/cred.c), so commit_creds clears the child's
// parent-death signal and resets its dumpable flag to fs.suid_dumpable.
func userNSOwner(u join) (uint32, bool, error) {
	var self unix.Stat_t
	if err := unix.Stat("/proc/self/ns/user", &self); err != nil {
		return 0, false, fmt.Errorf("linux.namespaces: user namespace %s: our own: %w", u.path, err)
	}
	isSelf := func(fd int) (bool, error) {
		var st unix.Stat_t
		err := unix.Fstat(fd, &st)
		return err == nil && st.Dev == self.Dev && st.Ino == self.Ino, err
	}
	if ours, err := isSelf(int(u.f.Fd())); err != nil || ours {
		// Ours: joining it changes nothing.
		return uint32(os.Geteuid()), ours, err
	}
	// Walk up, the fds of the ancestors ours to close, until the one
	// whose parent is our namespace.
	cur := int(u.f.Fd())
	release := func(fd int) {
		if fd != int(u.f.Fd()) {
			unix.Close(fd)
		}
	}
	defer func() { release(cur) }()
	for {
		parent, err := unix.IoctlRetInt(cur, unix.NS_GET_PARENT)
		if errors.Is(err, unix.EPERM) {
			// Not below ours: setns will refuse it itself.
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("linux.namespaces: user namespace %s: its parent: %w", u.path, err)
		}
		top, err := isSelf(parent)
		if err != nil || top {
			unix.Close(parent)
			if err != nil {
				return 0, false, fmt.Errorf("linux.namespaces: user namespace %s: %w", u.path, err)
			}
			owner, err := unix.IoctlGetUint32(cur, unix.NS_GET_OWNER_UID)
			if err != nil {
				return 0, false, fmt.Errorf("linux.namespaces: user namespace %s: its owner: %w", u.path, err)
			}
			return owner, true, nil
		}
		release(cur)
		cur = parent
	}
}

// suidDumpable reads fs.suid_dumpable; "1", the setting that makes the
// checks below refuse, if it cannot be read.
func suidDumpable() string {
	b, err := os.ReadFile("/proc/sys/fs/suid_dumpable")
	if err != nil {
		return "1"
	}
	return strings.TrimSpace(string(b))
}

// checkSuidDumpable refuses, where fs.suid_dumpable is 1 (the kernel's
// insecure debug setting), the containers whose setup that setting puts
// within a container's or another user's reach; 0 and 2 ("suidsafe")
// keep them out of it.
//
//   - A user namespace joined that another host uid made (userNSOwner):
//     setns resets the dumpable flag of the runtime's child to 1 there,
//     and that uid may trace it (CAP_SYS_PTRACE in the namespace) while
//     it holds our fds and is root in our tree: a review stopped the
//     child as setns returned (SIGSTOP sent in a loop) and took every
//     fd of the runtime through pidfd_getfd. Elsewhere that uid can only
//     stop or kill the container it asked for.
//   - A user namespace without a pid namespace of its own (a pod's,
//     joined by path; the host's fails later anyway): init is
//     the pid namespace's processes' to see from its execve on, and runs
//     from the exec-only copy so that they may not trace it (README,
//     Security); but the kernel makes a process that execs a file it
//     may not read dumpable as fs.suid_dumpable says (begin_new_exec),
//     and init can make itself non-dumpable only once its Go runtime has
//     started (~3 ms). A review traced such an init from a pod's process
//     with CAP_SYS_PTRACE in the pod's user namespace and took its fds
//     (the sync socket, the exec fifo), five times in five.
func checkSuidDumpable(ns *nsPlan) error {
	if !ns.has(specs.UserNamespace) || suidDumpable() != "1" {
		return nil
	}
	if u, ok := ns.joinOf(specs.UserNamespace); ok {
		if err := checkUserNSMaker(u); err != nil {
			return err
		}
	}
	if ns.create&nsFlags[specs.PIDNamespace] == 0 {
		return errors.New("linux.namespaces: a user namespace without a pid namespace of its own needs fs.suid_dumpable 0 or 2 (it is 1, or unreadable: init would be dumpable, to the pid namespace's processes, from its execve until its Go runtime has started)")
	}
	return nil
}

// checkUserNSMaker refuses u if another uid than ours made it (see
// checkSuidDumpable; the caller knows fs.suid_dumpable is 1).
func checkUserNSMaker(u join) error {
	owner, below, err := userNSOwner(u)
	if err != nil {
		return err
	}
	if below && owner != uint32(os.Geteuid()) {
		return fmt.Errorf("linux.namespaces: user namespace %s: made by uid %d, who may trace the runtime's processes that join it where fs.suid_dumpable is 1 (it is here, or unreadable): join a user namespace made by uid %d, or set fs.suid_dumpable to 0 or 2", u.path, owner, os.Geteuid())
	}
	return nil
}

// checkExecUserNS is checkSuidDumpable's first case for exec, which
// joins init's user namespace: the container may have been created
// while the setting was 0 or 2, or by an older binary, and exec's child
// would be the namespace's maker's to trace after its setns (a review
// took the runtime's fds so).
func checkExecUserNS(u join) error {
	if suidDumpable() != "1" {
		return nil
	}
	return checkUserNSMaker(u)
}
