package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// probeMore prints what the demo shows of the user namespace, the cgroup
// namespace, seccomp and the root, after probe's lines.
func probeMore() {
	fmt.Printf("id: %s\n", idLine())
	for _, f := range []string{"uid_map", "gid_map"} {
		b, _ := os.ReadFile("/proc/self/" + f)
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
		fmt.Printf("%s: %s\n", f, strings.Join(lines, ", "))
	}
	// Every hierarchy's path, once: "/" in a cgroup namespace.
	b, _ := os.ReadFile("/proc/self/cgroup")
	seen := map[string]bool{}
	var paths []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if p := strings.SplitN(l, ":", 3); len(p) == 3 && !seen[p[2]] {
			seen[p[2]] = true
			paths = append(paths, p[2])
		}
	}
	fmt.Printf("cgroup: %s\n", trim(strings.Join(paths, " "), 60))
	fmt.Printf("seccomp filters: %s\n", statusField("Seccomp_filters"))
	var root, up unix.Stat_t
	switch {
	case unix.Stat("/", &root) != nil || unix.Stat("/..", &up) != nil:
		fmt.Println("dotdot: ?")
	case root.Dev == up.Dev && root.Ino == up.Ino:
		fmt.Println("dotdot: /.. is / (same device and inode)")
	default:
		fmt.Println("dotdot: /.. is not /")
	}
}

// idLine is what id(1) prints of the ids, the names from /etc/passwd and
// /etc/group.
func idLine() string {
	name := func(file string, id int) string {
		b, _ := os.ReadFile(file)
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Split(l, ":")
			if len(f) > 2 && f[2] == strconv.Itoa(id) {
				return fmt.Sprintf("%d(%s)", id, f[0])
			}
		}
		return strconv.Itoa(id)
	}
	return fmt.Sprintf("uid=%s gid=%s", name("/etc/passwd", os.Getuid()), name("/etc/group", os.Getgid()))
}

// waitTerm blocks until SIGTERM (as pid 1 of a pid namespace, the
// process gets only the signals it handles).
func waitTerm() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	<-c
}

// try attempts each operation and prints one line per operation:
//
//	hostname:NAME   sethostname(2) (CAP_SYS_ADMIN over the uts namespace)
//	module          init_module(2) (CAP_SYS_MODULE over the host)
//	mount:DIR       mount a tmpfs on DIR (CAP_SYS_ADMIN over the mount namespace)
func try(ops []string) error {
	for _, op := range ops {
		name, arg, _ := strings.Cut(op, ":")
		var err error
		label := name
		switch name {
		case "hostname":
			label = "sethostname " + arg
			err = unix.Sethostname([]byte(arg))
			if err == nil {
				h, _ := os.Hostname()
				fmt.Printf("sethostname %s: ok, hostname now %s\n", arg, h)
				continue
			}
		case "module":
			label = "init_module"
			// The capability check comes before the arguments are
			// looked at: EPERM without CAP_SYS_MODULE over the host.
			err = unix.InitModule(nil, "")
		case "mount":
			err = unix.Mount("tmpfs", arg, "tmpfs", 0, "")
			label = "mount tmpfs on " + arg
		default:
			return fmt.Errorf("try: unknown operation %q", op)
		}
		res := "ok"
		if err != nil {
			res = err.Error()
		}
		fmt.Printf("%s: %s\n", label, res)
	}
	return nil
}
