// payload is a static probe program copied into test and demo root
// filesystems: it reports what a process sees of its sandbox.
//
//	payload probe [wait]   one "key: value" line per property (the demo);
//	                       wait: then wait for SIGTERM
//	payload try OP...      try privileged operations (hostname:NAME,
//	                       module, mount:DIR), one line each
//	payload alloc MB       touch MB megabytes of memory, then print "allocated"
//	payload fds            list this process's open fds and their targets
//	payload caps           print the five capability sets
//	payload cwd            print the working directory
//	payload rlimit NAME    print soft and hard limit (nofile, nproc, core...)
//	payload status KEY...  print those lines of /proc/self/status (Uid, CapEff...)
//	payload exewatch STOP SIZE   try to write runtime binaries (CVE-2019-5736)
//	payload swap STOP A B  exchange two names in a loop (CVE-2021-30465)
//	payload plant STOP NAME TARGET  put a symlink over each device node NAME
//	payload nothp PATH ARGS...      exec PATH with transparent huge pages off
//	payload stopgrab STOP MARKER PROG  stop and rob runtime processes (issue 11)
//	payload uidgrab STOP   take fds of new processes of our uid (host attacker)
//	payload tiocsti TEXT   type TEXT into the terminal on fd 0
//	payload fusehang DIR   mount a FUSE file system that never answers
//	payload rob PID MARKER          what stopgrab finds, of one process
//	payload nosys          what openat2 and clone3 answer (ENOSYS stub)
//	payload forge STOP VICTIM PROG  forge reports on stolen runtime sockets
//	payload fifo hold|forge         steal init's exec fifo and hold/forge it
//	payload cgbpf DIR...            count the device programs attached to cgroups
//	payload procattr       scheduler, ioprio, personality, mempolicy, CPU affinity
//
// Since Go 1.25 the runtime keeps the cgroup CPU limit files open to
// track GOMAXPROCS; `payload fds` must list only what it inherited, so
// that behaviour is off.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: payload probe [wait]|try OP...|alloc MB|fds|caps|cwd|rlimit NAME|status KEY...|exewatch STOP SIZE|swap STOP A B|plant STOP NAME TARGET|nothp PATH ARGS...|stopgrab STOP MARKER PROG|tiocsti TEXT|fusehang DIR|rob PID MARKER|nosys|forge STOP VICTIM PROG|fifo hold|forge|cgbpf DIR...|procattr")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "probe":
		probe()
		probeMore()
		if len(os.Args) > 2 && os.Args[2] == "wait" {
			waitTerm()
		}
	case "try":
		err = try(os.Args[2:])
	case "procattr":
		err = procattr()
	case "alloc":
		err = alloc(os.Args[2:])
	case "fds":
		err = fds()
	case "caps":
		for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
			fmt.Printf("%s: %s\n", k, statusField(k))
		}
	case "cwd":
		var wd string
		wd, err = os.Getwd()
		fmt.Println(wd)
	case "rlimit":
		err = rlimit(os.Args[2:])
	case "status":
		for _, k := range os.Args[2:] {
			fmt.Printf("%s: %s\n", k, strings.Join(strings.Fields(statusField(k)), " "))
		}
	case "exewatch":
		err = exewatch(os.Args[2:])
	case "swap":
		err = swap(os.Args[2:])
	case "plant":
		err = plant(os.Args[2:])
	case "nothp":
		err = nothp(os.Args[2:])
	case "stopgrab":
		err = stopgrab(os.Args[2:])
	case "uidgrab":
		err = uidgrab(os.Args[2:])
	case "tiocsti":
		err = tiocsti(os.Args[2:])
	case "fusehang":
		err = fusehang(os.Args[2:])
	case "rob":
		err = rob(os.Args[2:])
	case "nosys":
		err = nosys()
	case "forge":
		err = forge(os.Args[2:])
	case "fifo":
		err = fifo(os.Args[2:])
	case "cgbpf":
		err = cgbpf(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "payload:", err)
		os.Exit(1)
	}
}

func statusField(name string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// probe prints what the demo compares between host and sandbox.
func probe() {
	host, _ := os.Hostname()
	fmt.Printf("hostname: %s\n", host)
	fmt.Printf("uid/gid: %d/%d\n", os.Getuid(), os.Getgid())
	fmt.Printf("pid/ppid: %d/%d\n", os.Getpid(), os.Getppid())
	fmt.Printf("effective caps: %s\n", statusField("CapEff"))
	fmt.Printf("no_new_privs: %s\n", statusField("NoNewPrivs"))
	fmt.Printf("seccomp: %s\n", statusField("Seccomp"))
	var names []string
	if ents, err := os.ReadDir("/"); err == nil {
		for _, e := range ents {
			names = append(names, e.Name())
		}
	}
	fmt.Printf("root dir: %d entries: %s\n", len(names), trim(strings.Join(names, " "), 60))
	pids := processes()
	fmt.Printf("processes: %d visible: %s\n", len(pids), trim(strings.Join(pids, " "), 60))
	var ifs []string
	if list, err := net.Interfaces(); err == nil {
		for _, i := range list {
			ifs = append(ifs, i.Name)
		}
	}
	fmt.Printf("interfaces: %s\n", trim(strings.Join(ifs, " "), 60))
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

func processes() []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
		out = append(out, e.Name()+":"+strings.TrimSpace(string(comm)))
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.Split(out[i], ":")[0])
		b, _ := strconv.Atoi(strings.Split(out[j], ":")[0])
		return a < b
	})
	return out
}

// nothp runs a program as a caller that has transparent huge pages off
// (PR_SET_THP_DISABLE, kept across execve) would.
func nothp(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("nothp: want PATH ARGS...")
	}
	if err := unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("nothp: %w", err)
	}
	return fmt.Errorf("nothp: %w", unix.Exec(args[0], args, os.Environ()))
}

// alloc charges MB megabytes of anonymous memory, so a cgroup limit below
// it fires. The pages are faulted in by the kernel in one mmap
// (MAP_POPULATE), not touched one by one from Go: near the limit, every
// fault from user space lets memcg reclaim evict this binary's own text,
// which the next instruction fetch faults back in; reclaim then always
// "makes progress" (try_charge_memcg retries without counting while it
// frees pages) and the OOM killer never runs. CI saw that livelock in the
// slow TCG VM: a 12 MB container thrashing for minutes at its limit.
// Populating from the kernel touches no text, the file pages drain, and
// the charge fails into the OOM killer at once.
func alloc(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("alloc: want MB")
	}
	mb, err := strconv.Atoi(args[0])
	if err != nil || mb < 0 {
		return fmt.Errorf("alloc: bad size %q", args[0])
	}
	b, err := unix.Mmap(-1, 0, mb<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("alloc: mmap: %w", err)
	}
	// Writing each page costs no fault once populated, and still charges
	// any page the kernel left out (MAP_POPULATE does not report failure).
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	fmt.Printf("allocated %d MB\n", mb)
	return nil
}

// fds lists the inherited fds. It reads /proc/self/fd with raw
// syscalls, before printing anything: an *os.File would add fds of its
// own (the directory, and the runtime poller's epoll and eventfd).
func fds() error {
	d, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/proc/self/fd", Err: err}
	}
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.ReadDirent(d, buf)
		if err != nil {
			unix.Close(d)
			return fmt.Errorf("read /proc/self/fd: %w", err)
		}
		if n == 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	own := strconv.Itoa(d)
	var lines []string
	for _, name := range names {
		if name == own {
			continue
		}
		target, _ := os.Readlink("/proc/self/fd/" + name)
		lines = append(lines, name+" "+target)
	}
	unix.Close(d)
	sort.Slice(lines, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.Fields(lines[i])[0])
		b, _ := strconv.Atoi(strings.Fields(lines[j])[0])
		return a < b
	})
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}

func rlimit(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("rlimit: want a name")
	}
	res := map[string]int{"nofile": unix.RLIMIT_NOFILE, "nproc": unix.RLIMIT_NPROC, "core": unix.RLIMIT_CORE, "stack": unix.RLIMIT_STACK, "cpu": unix.RLIMIT_CPU, "as": unix.RLIMIT_AS}
	r, ok := res[args[0]]
	if !ok {
		return fmt.Errorf("rlimit: unknown %q", args[0])
	}
	var l unix.Rlimit
	if err := unix.Getrlimit(r, &l); err != nil {
		return err
	}
	fmt.Printf("%d %d\n", l.Cur, l.Max)
	return nil
}
