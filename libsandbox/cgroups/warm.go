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

// WarmMigration starts, in the background, a migration that changes
// nothing: one of our threads moved into the v1 cgroup it is already in.
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
// It moves only a thread of ours into our own cgroup (the path
// /proc/self/cgroup gives, on the hierarchy's mount, as v1Dir resolves
// a relative cgroupsPath), and only if that thread is listed there: a
// no-op whose only effect is the lock. The returned channel is closed
// once it is done (or gave up). On a v2-only host there is no
// migration to warm (init is cloned into its cgroup): nil.
func (h *Host) WarmMigration() <-chan struct{} {
	return h.warmMigration()
}

// gettid is unix.Gettid but in tests.
var gettid = unix.Gettid

// maxTasksRead bounds the read of our cgroup's tasks (~8 bytes a thread).
const maxTasksRead = 64 << 10

func (h *Host) warmMigration() <-chan struct{} {
	if len(h.V1) == 0 {
		return nil
	}
	m := h.V1[0]
	for _, x := range h.V1 {
		if x.has("pids") {
			m = x
			break
		}
	}
	own, ok := h.Own[m.Key()]
	if !ok {
		return nil
	}
	dir := h.v1Dir(m, filepath.Clean("/"+own))
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The thread moved must be the one that checks it is there.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid := strconv.Itoa(gettid())
		tasks := filepath.Join(dir, "tasks")
		if !listed(tasks, tid) {
			return
		}
		f, err := os.OpenFile(tasks, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return
		}
		f.WriteString(tid)
		f.Close()
	}()
	return done
}

// listed reports whether the file tasks lists tid. Bounded: a root
// cgroup's lists every thread of the host not in another; there the
// warm-up is not worth its read.
func listed(tasks, tid string) bool {
	f, err := os.Open(tasks)
	if err != nil {
		return false
	}
	defer f.Close()
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
