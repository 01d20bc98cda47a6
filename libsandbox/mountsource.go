package libsandbox

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/osthread"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// mountSources answers init's mountSource messages: init, in a new user
// namespace, asks for a bind source it may not reach (rootfs.openSource).
type mountSources struct {
	pid    int
	start  uint64 // init's start time: pid is init's, not a reused one
	mounts []rootfs.Mount
	// idmap finds the user namespaces of idmapped mounts (idmap.go).
	idmap *idmapper
	// reqs goes to the thread in init's mount namespace, started by the
	// first request.
	reqs chan mountSourceReq
}

type mountSourceReq struct {
	m      rootfs.Mount
	userns int // an idmapped mount's user namespace, or -1
	done   chan<- mountSourceResult
}

type mountSourceResult struct {
	fd  int
	err error
}

// open clones the source of mounts[*i], a bind mount, in init's mount
// namespace, as it is at this moment: an earlier mount of the spec may
// provide the source, as when init finds it itself, and the clone keeps
// the flags the kernel locked on the mounts of that namespace, which
// inherited them from ours (MNT_LOCK_READONLY...); a clone made in ours
// would carry no lock, and root in the container could, for one, make a
// read-only host mount writable. runc 1.5 does the same
// (goCreateMountSources). The index is init's, the source ours: init
// cannot name another path.
func (s *mountSources) open(i *int) (int, error) {
	if i == nil || *i < 0 || *i >= len(s.mounts) {
		return -1, errors.New("mountSource: no such mount")
	}
	m := s.mounts[*i]
	if !m.Options.Bind() && m.Type != "bind" {
		return -1, fmt.Errorf("mountSource: mounts[%d] is not a bind mount", *i)
	}
	userns := -1
	if m.IDMapped {
		f, err := s.idmap.userns(m)
		if err != nil {
			return -1, err
		}
		userns = int(f.Fd())
	}
	if s.reqs == nil {
		if err := s.startThread(); err != nil {
			return -1, err
		}
	}
	done := make(chan mountSourceResult, 1)
	s.reqs <- mountSourceReq{m: m, userns: userns, done: done}
	r := <-done
	return r.fd, r.err
}

// startThread starts the thread that serves s.reqs from init's mount
// namespace.
func (s *mountSources) startThread() error {
	ns, err := os.Open("/proc/" + strconv.Itoa(s.pid) + "/ns/mnt")
	if err != nil {
		return fmt.Errorf("open init's mount namespace: %w", err)
	}
	// Opened, then checked: if init is still the process at pid, the
	// namespace is init's.
	if st, err := readProcStat(s.pid); err != nil || st.StartTime != s.start {
		ns.Close()
		return errors.New("open init's mount namespace: init is gone")
	}
	errc := make(chan error, 1)
	reqs := make(chan mountSourceReq)
	osthread.Discard(func() {
		// The thread joins init's mount namespace: it is thrown away
		// (never the main thread, whose namespaces /proc/self shows),
		// and it never exits either, but stays blocked on reqs, as in
		// spawn: it may be the thread that forked init, whose exit
		// sends init its parent-death signal (run).
		// setns(CLONE_NEWNS) needs a thread with an fs_struct of its
		// own.
		err := unix.Unshare(unix.CLONE_FS)
		if err != nil {
			err = fmt.Errorf("unshare CLONE_FS: %w", err)
		} else if err = unix.Setns(int(ns.Fd()), unix.CLONE_NEWNS); err != nil {
			err = fmt.Errorf("join init's mount namespace: %w", err)
		}
		ns.Close()
		errc <- err
		if err != nil {
			select {}
		}
		for r := range reqs {
			fd, err := rootfs.CloneSource(r.m)
			if err == nil && r.userns >= 0 {
				if err = idmapTree(fd, r.userns, r.m); err != nil {
					unix.Close(fd)
					fd = -1
				}
			}
			r.done <- mountSourceResult{fd, err}
		}
	})
	if err := <-errc; err != nil {
		return err
	}
	s.reqs = reqs
	return nil
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
