package libsandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
)

// A mount namespace joined by path is where init sets the new container
// up, with every capability: its rootfs path, its mounts, its /proc
// are resolved in that namespace's tree, and its procfs and sysfs are
// there for every process of the namespace to open between their mount
// and their masks (a writable /proc/sys/kernel/core_pattern). So the
// namespace's processes must not be less privileged than init: a
// namespace made on the host to be joined (`unshare -m`, runtime-tools'
// linux_ns_path, a pod's holder) passes, another container's does not
// (its processes have fewer capabilities, or another root). runc and
// crun set the container up in such a tree anyway; we refuse it with an
// error that says why. Three checks, each for a way reviews found:
// checkJoinedMount (owner, members) in the parent, and ourRoot, which
// rawfork's child compares with its root right after setns.

// checkJoinedMount refuses the mount namespace mnt unless its owner is
// the user namespace init is in when it joins it and every process in
// it holds every capability we hold, in that user namespace.
func checkJoinedMount(mnt join, ns *nsPlan) error {
	owner, err := checkMountNSOwner(mnt, ns)
	if err != nil {
		return err
	}
	return checkMountNSMembers(mnt, owner)
}

// checkMountNSOwner refuses a mount namespace owned by another user
// namespace than the one init is in when it joins it: the joined user
// namespace, or ours. A host user's `unshare -Urm` has our root, and
// its mounts (a tmpfs over /proc, say) are that user's to make: init,
// with our privileges over that user's namespaces, would set the
// container up in a tree an unprivileged user arranged. The owner of a
// namespace never changes, so the parent checks it once.
func checkMountNSOwner(mnt join, ns *nsPlan) (unix.Stat_t, error) {
	ofd, err := unix.IoctlRetInt(int(mnt.f.Fd()), unix.NS_GET_USERNS)
	if err != nil {
		return unix.Stat_t{}, fmt.Errorf("linux.namespaces: mount namespace %s: its owner: %w", mnt.path, err)
	}
	defer unix.Close(ofd)
	var owner, in unix.Stat_t
	if err := unix.Fstat(ofd, &owner); err != nil {
		return unix.Stat_t{}, fmt.Errorf("linux.namespaces: mount namespace %s: its owner: %w", mnt.path, err)
	}
	if u, ok := ns.joinOf(specs.UserNamespace); ok {
		err = unix.Fstat(int(u.f.Fd()), &in)
	} else {
		err = unix.Stat("/proc/self/ns/user", &in)
	}
	if err != nil {
		return unix.Stat_t{}, fmt.Errorf("linux.namespaces: mount namespace %s: the user namespace init joins: %w", mnt.path, err)
	}
	if owner.Dev != in.Dev || owner.Ino != in.Ino {
		return unix.Stat_t{}, fmt.Errorf("linux.namespaces: mount namespace %s: owned by a user namespace that init does not join: "+
			"its processes would control the new container's setup (join that user namespace too)", mnt.path)
	}
	return owner, nil
}

// checkMountNSMembers refuses the namespace if a thread in it (of those
// our /proc shows: our pid namespace's and its descendants') lacks a
// capability we hold, or holds its capabilities over another user
// namespace than owner. Such a thread could reach what init mounts
// before it is masked, or move init's work elsewhere, with privilege it
// does not have. A thread that joins or is forked after the check comes
// from a process that passed it (setns into the namespace needs
// CAP_SYS_ADMIN over its owner): what it runs is that process's choice.
func checkMountNSMembers(mnt join, owner unix.Stat_t) error {
	var target unix.Stat_t
	if err := unix.Fstat(int(mnt.f.Fd()), &target); err != nil {
		return fmt.Errorf("linux.namespaces: mount namespace %s: %w", mnt.path, err)
	}
	ours, err := effectiveCaps()
	if err != nil {
		return err
	}
	// The scan must see every thread: from the initial pid namespace
	// (an ancestor's processes are invisible from a child's), with
	// CAP_SYS_PTRACE (without it a non-dumpable thread's ns links cannot
	// be read, and a hidepid /proc hides others' processes: a review hid
	// a member that way).
	var pidns unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &pidns); err != nil || pidns.Ino != procPidInitIno {
		return fmt.Errorf("linux.namespaces: mount namespace %s: can be joined only by a runtime in the host's pid namespace, which sees every process that could be in it", mnt.path)
	}
	if ours&(1<<unix.CAP_SYS_PTRACE) == 0 {
		return fmt.Errorf("linux.namespaces: mount namespace %s: can be joined only by a runtime with CAP_SYS_PTRACE, which can see every process in it", mnt.path)
	}
	tasks, err := filepath.Glob("/proc/[0-9]*/task/[0-9]*")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		pid := strings.Split(strings.TrimPrefix(t, "/proc/"), "/")[0]
		var st unix.Stat_t
		if err := unix.Stat(t+"/ns/mnt", &st); err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
				continue // gone, or a zombie
			}
			if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
				// With CAP_SYS_PTRACE over the host's user namespace,
				// only a security module denies us (here pid 1, the
				// machine's agent, which holds capabilities we lack): a
				// policy of the host's administrator, not a process's.
				logrus.Debugf("linux.namespaces: mount namespace %s: %s not checked: %v", mnt.path, t, err)
				continue
			}
			return fmt.Errorf("linux.namespaces: mount namespace %s: process %s: its mount namespace cannot be read: %w", mnt.path, pid, err)
		}
		if st.Dev != target.Dev || st.Ino != target.Ino {
			continue
		}
		why := ""
		if unix.Stat(t+"/ns/user", &st) != nil {
			why = "its user namespace cannot be read"
		} else if st.Dev != owner.Dev || st.Ino != owner.Ino {
			why = "it is in another user namespace than the namespace's owner"
		} else if caps, err := capEff(t + "/status"); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // exited meanwhile
			}
			why = err.Error()
		} else if missing := ours &^ caps; missing != 0 {
			why = fmt.Sprintf("it lacks capabilities we hold (CapEff %016x, ours %016x)", caps, ours)
		}
		if why != "" {
			return fmt.Errorf("linux.namespaces: mount namespace %s: process %s is in it and %s: "+
				"it would control the new container's setup (a container's mount namespace cannot be joined)", mnt.path, pid, why)
		}
	}
	return nil
}

// hasCapSysPtrace reports whether we hold CAP_SYS_PTRACE.
func hasCapSysPtrace() bool {
	c, err := effectiveCaps()
	return err == nil && c&(1<<unix.CAP_SYS_PTRACE) != 0
}

// procPidInitIno is the inode of the initial pid namespace (the
// kernel's PROC_PID_INIT_INO).
const procPidInitIno = 0xEFFFFFFC

// ourRoot is the device and inode of our root directory, which init's
// must be once it has joined a mount namespace by path
// (rawfork.Attr.SameRoot): a container's namespace has its rootfs as
// root (pivot_root), a tree its processes own, even one whose processes
// hold every capability (a privileged container). The check runs in
// rawfork's child after setns, before anything of ours reads the tree:
// "/" is the root setns set, whatever was mounted below it since. Its
// limit: a bind mount of the host's root has the same root (a review
// ran a container on one), which checkJoinedMount's member check
// refuses.
func ourRoot() (*rawfork.FileID, error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, "/", 0, unix.STATX_INO, &stx); err != nil {
		return nil, fmt.Errorf("stat /: %w", err)
	}
	return &rawfork.FileID{DevMajor: stx.Dev_major, DevMinor: stx.Dev_minor, Ino: stx.Ino}, nil
}
