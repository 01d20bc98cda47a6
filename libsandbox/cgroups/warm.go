package cgroups

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// gettid is unix.Gettid but in tests.
var gettid = unix.Gettid

// maxTasksRead bounds the read of our cgroup's tasks (~8 bytes a thread).
const maxTasksRead = 64 << 10

// WarmMigration starts, in the background, a migration that changes
// nothing: one of our threads moved into the v1 cgroup of the pids
// hierarchy it is already in.
//
// Why: every migration takes cgroup_threadgroup_rwsem for writing, and
// percpu_down_write's rcu_sync_enter waits for a full RCU grace period
// (7-15 ms here) unless another migration happened within about a grace
// period before (docs/bench.md, "cgroup v1"). A v1 runtime must migrate
// init (v1 cannot clone into a cgroup), so it waits once per container
// started on its own. Started first, the wait overlaps the work of
// create that needs no cgroup (validation, the state directory, the
// exec fifo, the sealed binary, init's start) instead of coming after
// it; init's own move then finds the rcu_sync passed.
//
// The thread goes to our own cgroup (the path /proc/self/cgroup gives,
// on the hierarchy's mount, as v1Dir resolves a relative cgroupsPath),
// through an fd of that cgroup's tasks file that listed it: a no-op
// whose only effect is the lock. The returned channel is closed once it
// is done (or gave up). Without a v1 pids hierarchy: nil (on v2, init
// is cloned into its cgroup; nothing to warm).
func (h *Host) WarmMigration() <-chan struct{} {
	if len(h.V1) == 0 {
		return nil
	}
	// The pids hierarchy only: a thread in a cgroup someone else
	// controls there can at worst not fork (a freezer's could be
	// frozen), and the check below keeps it in its own.
	var m *Mount
	for i := range h.V1 {
		if h.V1[i].has("pids") {
			m = &h.V1[i]
			break
		}
	}
	if m == nil {
		return nil
	}
	own, ok := h.Own[m.Key()]
	if !ok {
		return nil
	}
	dir := h.v1Dir(*m, filepath.Clean("/"+own))
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The thread moved must be the one that checks it is there.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid := strconv.Itoa(gettid())
		// One open for the check and the write: a v1 cgroup can be
		// renamed, and whoever owns its parent could otherwise put a
		// cgroup of theirs at the path in between (a review did); the
		// fd stays on the cgroup whose list was read.
		f, err := os.OpenFile(filepath.Join(dir, "tasks"), os.O_RDWR, 0)
		if err != nil {
			return
		}
		defer f.Close()
		if listed(f, tid) {
			f.WriteString(tid)
		}
	}()
	return done
}

// listed reports whether the tasks file f lists tid. Bounded: a root
// cgroup's lists every thread of the host not in another; there the
// warm-up is not worth its read.
func listed(f *os.File, tid string) bool {
	b, err := io.ReadAll(io.LimitReader(f, maxTasksRead+1))
	return err == nil && len(b) <= maxTasksRead && hasLine(b, tid)
}

// hasLine reports whether b, lines of text, has the line l.
func hasLine(b []byte, l string) bool {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return string(b) == l
		}
		if string(b[:i]) == l {
			return true
		}
		b = b[i+1:]
	}
	return false
}
