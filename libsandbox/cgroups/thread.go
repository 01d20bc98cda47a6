package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// gettid is unix.Gettid but in tests.
var gettid = unix.Gettid

// threadCgroups is the calling thread's /proc/thread-self/cgroup, but in
// tests.
var threadCgroups = func() (map[string]string, error) { return readProcCgroup("/proc/thread-self/cgroup") }

// maxTasksRead bounds the read of our cgroup's tasks (~8 bytes a thread).
const maxTasksRead = 64 << 10

// ErrThreadStuck is EnterThread's, or its leave's, when the thread could
// not go back to where it was: the caller keeps it locked and blocked,
// and it must run nothing else.
var ErrThreadStuck = errors.New("a thread of the runtime could not leave the container's cgroup")

// EnterThread moves the calling thread into the container's cgroup in
// every v1 hierarchy that st names, so that a process it then clones
// (create's init) is born there; leave moves it back. The caller has
// locked the thread to its goroutine (runtime.LockOSThread) and keeps it
// locked until leave has returned.
//
// Why: v1 cannot clone into a cgroup (CLONE_INTO_CGROUP is v2's), so a
// v1 runtime moves init by writing its pid to cgroup.procs, and every
// such move takes cgroup_threadgroup_rwsem for writing: percpu_down_write
// waits for a full RCU grace period (5-15 ms here, docs/bench.md "cgroup
// v1") unless another migration happened within about one before. A
// thread that moves itself, by writing "0" to a tasks file, takes no such
// lock (kernel/cgroup/cgroup.c, cgroup_procs_write_start: "If we migrate
// a single thread ... If the thread is `current` ... we can skip the
// global lock"): microseconds. A child is born in its parent thread's
// cgroups (cgroup_fork), so init is in every v1 hierarchy of its
// container from its first instruction, as on v2, and no migration is
// left to wait for.
//
// Who can reach the thread while it is there: the cgroup is the one
// create has just made (checkTaken refused one that was there before),
// so only root, who may write its files, and init, our child; no process
// of the container runs yet. The thread goes back through fds of its own
// cgroups' tasks files opened before the move, each of which must list
// it (read through the same fd): a v1 cgroup can be renamed, and whoever
// owns its parent could otherwise put a cgroup of theirs at the path and
// get a thread of ours (a review showed it for the warm-up this
// replaced). A hierarchy's root cannot be renamed; its list, every thread
// of the host in no other cgroup, is not read.
//
// An error other than ErrThreadStuck leaves the thread where it was; the
// caller then moves init the old way (Enter).
//
// oneWay: the thread is not to come back. The caller ends it once the
// child exists (a goroutine that returns while locked to its thread
// ends the thread), which the kernel does in one exit where leaving took
// a write to a tasks file a hierarchy, nine here (-0.13 ms a create,
// docs/bench.md). No way
// back is opened or checked then, leave only closes the fds, and a move
// that fails leaves the thread where the moves before it put it: the
// caller ends it all the same. For a thread whose end nothing is tied to
// (no child of it asked for a parent-death signal, which fires when the
// forking thread exits).
func (h *Host) EnterThread(st *State, oneWay bool) (leave func() error, err error) {
	var own map[string]string
	if !oneWay {
		if own, err = threadCgroups(); err != nil {
			return nil, fmt.Errorf("our cgroups: %w", err)
		}
	}
	tid := strconv.Itoa(gettid())
	for _, m := range h.V1 {
		// A frozen thread of ours would stop the runtime (checkTaken
		// refused a frozen cgroup; this is the last look before the
		// move, and only that: see forkOnThread).
		if dir, ok := st.V1[m.Key()]; ok && m.has("freezer") {
			if f := frozenAt(dir); f != "" {
				return nil, fmt.Errorf("%s is frozen", f)
			}
		}
	}
	// Raw fds, as for every cgroup file (openRaw). back is -1 one way.
	type hop struct {
		in, back         int
		inPath, backPath string
	}
	var hops []hop
	closeAll := func() {
		for _, x := range hops {
			unix.Close(x.in)
			if x.back >= 0 {
				unix.Close(x.back)
			}
		}
	}
	for _, m := range h.V1 {
		dir, ok := st.V1[m.Key()]
		if !ok {
			continue
		}
		x := hop{inPath: filepath.Join(st.at(dir), "tasks"), back: -1}
		if !oneWay {
			path, ok := own[m.Key()]
			if !ok {
				closeAll()
				return nil, fmt.Errorf("our thread's cgroup in %s: not in /proc/thread-self/cgroup", m.Point)
			}
			ownDir := h.v1Dir(m, filepath.Clean("/"+path))
			x.backPath = filepath.Join(ownDir, "tasks")
			if x.back, err = openRaw(x.backPath, unix.O_RDWR); err != nil {
				closeAll()
				return nil, err
			}
			if ownDir != m.Point && !listed(x.back, tid) {
				unix.Close(x.back)
				closeAll()
				return nil, fmt.Errorf("%s does not list our thread %s", x.backPath, tid)
			}
		}
		if x.in, err = openRaw(x.inPath, unix.O_WRONLY); err != nil {
			if x.back >= 0 {
				unix.Close(x.back)
			}
			closeAll()
			return nil, err
		}
		hops = append(hops, x)
	}
	if len(hops) != len(st.V1) {
		closeAll()
		return nil, errors.New("the container's cgroup names a v1 hierarchy this host does not mount")
	}
	moved := 0
	leave = func() error {
		var errs []error
		if !oneWay {
			for _, x := range hops[:moved] {
				if err := writeSelf(x.back); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", x.backPath, err))
				}
			}
		}
		closeAll()
		if len(errs) > 0 {
			return fmt.Errorf("%w: %w", ErrThreadStuck, errors.Join(errs...))
		}
		return nil
	}
	for _, x := range hops {
		if err := writeSelf(x.in); err != nil {
			err = fmt.Errorf("move our thread into %s: %w", shown(x.inPath), err)
			if lerr := leave(); lerr != nil {
				return nil, fmt.Errorf("%w (after %w)", lerr, err)
			}
			return nil, err
		}
		moved++
	}
	return leave, nil
}

// writeSelf writes "0", the calling thread, to the tasks file fd.
func writeSelf(fd int) error {
	_, err := retryEINTR(func() (int, error) { return unix.Write(fd, []byte("0")) })
	return err
}

// listed reports whether the tasks file fd lists tid. Bounded: a cgroup
// with more threads than that is not worth the read.
func listed(fd int, tid string) bool {
	b := make([]byte, 0, 4096)
	for len(b) <= maxTasksRead {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := retryEINTR(func() (int, error) { return unix.Read(fd, b[len(b):cap(b)]) })
		if err != nil {
			return false
		}
		if n == 0 {
			return hasLine(b, tid)
		}
		b = b[:len(b)+n]
	}
	return false
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

// HoldsV1 reports whether pid is in the container's cgroup in every v1
// hierarchy of st (its cgroup.procs lists it): create checks that init
// was born there (EnterThread) before it counts on it.
func (st *State) HoldsV1(pid int) bool {
	p := strconv.Itoa(pid)
	for _, d := range st.V1 {
		b, err := readRaw(filepath.Join(d, "cgroup.procs"))
		if err != nil || !hasLine(b, p) {
			return false
		}
	}
	return true
}
