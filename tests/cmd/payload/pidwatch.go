package main

import (
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// pidWatch is the loop the attackers here share (exewatch, stopgrab,
// forge, uidgrab): each looks at the pids the kernel hands out next, as
// soon as they exist, until the stop file exists. The kernel hands out
// pids counting up from ns_last_pid, so the next new process is
// predicted (the last one found plus one) and tried in a tight loop:
// even a process that lives a few microseconds before its execve is
// caught. Every 20 ms the watch looks for the stop file and jumps past
// processes made while the attacker was busy with one.
//
//	w := watchPids(stop)
//	for w.poll(nil) {
//		for _, pid := range w.next() {
//			if w.seen[pid] || <pid does not exist> { continue }
//			w.found(pid)
//			...
//		}
//	}
type pidWatch struct {
	stop  string
	last  int          // the highest pid found (or ns_last_pid at the start)
	seen  map[int]bool // the pids found, and our own
	check time.Time
}

func watchPids(stop string) *pidWatch {
	return &pidWatch{stop: stop, last: lastPid(), seen: map[int]bool{os.Getpid(): true}, check: time.Now()}
}

// poll reports whether to go on: false once the stop file exists. It
// looks for it every 20 ms, and then also calls tick, if there is one.
func (w *pidWatch) poll(tick func()) bool {
	if time.Since(w.check) <= 20*time.Millisecond {
		return true
	}
	if _, err := os.Stat(w.stop); err == nil {
		return false
	}
	// Processes made while we were busy: jump ahead.
	if l := lastPid(); l > w.last+8 {
		w.last = l - 1
	}
	if tick != nil {
		tick()
	}
	w.check = time.Now()
	return true
}

// next returns the pids to try now: the four after the last one found.
func (w *pidWatch) next() [4]int {
	return [4]int{w.last + 1, w.last + 2, w.last + 3, w.last + 4}
}

// found records that pid exists: the next pids to try come after it.
func (w *pidWatch) found(pid int) {
	w.seen[pid] = true
	if pid > w.last {
		w.last = pid
	}
}

// stopNew is the step of the attackers that stop each new process
// (stopgrab, forge): if pid exists and is new, it stops it with SIGSTOP
// and returns its name once it is stopped. SIGSTOP takes effect on the
// way back to user space, so a process inside execve finishes it first:
// its name is read only once it is stopped, or it may change under us.
func (w *pidWatch) stopNew(pid int) (name string, ok bool) {
	if w.seen[pid] || unix.Kill(pid, unix.SIGSTOP) == unix.ESRCH {
		return "", false
	}
	w.found(pid)
	waitStopped(pid)
	return comm(pid), true
}

func lastPid() int {
	b, err := os.ReadFile("/proc/sys/kernel/ns_last_pid")
	if err != nil {
		return 1
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
