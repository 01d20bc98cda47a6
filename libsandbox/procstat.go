package libsandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
)

// procStat is what we read of /proc/PID/stat: the state letter and the
// start time (clock ticks since boot), which together with the pid
// identify a process: a recycled pid has a later start time.
type procStat struct {
	State     byte
	StartTime uint64
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

// parseProcStat parses stat(5): "pid (comm) S ppid ...", where comm may
// contain spaces and parentheses, so fields are counted after the last
// ')'. The state is field 3 and starttime field 22.
func parseProcStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, fmt.Errorf("malformed stat %q", b)
	}
	fields := bytes.Fields(b[i+2:])
	if len(fields) < 20 {
		return procStat{}, fmt.Errorf("malformed stat %q", b)
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed start time in stat: %w", err)
	}
	return procStat{State: fields[0][0], StartTime: start}, nil
}

// alive reports whether pid is still the process that had start time
// start, and not a zombie.
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := readProcStat(pid)
	if err != nil {
		return false
	}
	return st.StartTime == start && st.State != 'Z' && st.State != 'X'
}

// errStopped: a process of ours was found stopped (SIGSTOP) or traced
// while we waited for it. The container's processes may do that to any
// process of ours they can see (CAP_KILL, or the same uid); a wait that
// goes on then is the container's to hold (security issue 11.4).
var errStopped = errors.New("was stopped (SIGSTOP or ptrace from a process in the container?)")

// stopped reports whether pid is stopped or in a tracing stop. A
// tracing stop is not counted when pid's tracer traces us too
// (rawfork.OursTracingStop: strace -f of the runtime, from the host): a CI
// run under load saw two of create's looks in a row land in strace's
// stops, and create failed. A stop the container makes (SIGSTOP, 'T';
// a tracer of its own, 't') counts as before.
func stopped(pid int) bool {
	st, err := readProcStat(pid)
	if err != nil {
		return false
	}
	return st.State == 'T' || st.State == 't' && !rawfork.OursTracingStop(pid)
}

// stopWatch tells a process kept stopped from one caught in a passing
// stop: a tracer's syscall stops (strace -f of the runtime from the
// host) last microseconds, and a look that lands in one is no attack. A
// process seen stopped on stopLooks looks in a row (a tick apart while
// nothing else happens) is kept stopped. An attacker that lets it run
// between looks lets it make progress, so the wait still ends.
type stopWatch struct{ n int }

const stopLooks = 2

func (w *stopWatch) kept(pid int) bool {
	if stopped(pid) {
		w.n++
	} else {
		w.n = 0
	}
	return w.n >= stopLooks
}

// waitTick is how often a wait on a process of ours looks at it; setup
// takes milliseconds, so the common path never ticks.
const waitTick = 50 * time.Millisecond

// pollTick waits for fd to be readable, for at most one tick; it
// reports whether it is.
func pollTick(fd int) (bool, error) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, int(waitTick/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, os.NewSyscallError("poll", err)
		}
		return n > 0, nil
	}
}
