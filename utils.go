package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/specjson"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal"
)

const (
	exactArgs = iota
	minArgs
	maxArgs
)

// checkArgs checks the number of positional arguments, with runc's words.
func checkArgs(c *cli.Context, want, kind int) error {
	n := c.NArg()
	var err error
	switch {
	case kind == exactArgs && n != want:
		err = fmt.Errorf("%s: %q requires exactly %d argument(s)", os.Args[0], c.Command.Name, want)
	case kind == minArgs && n < want:
		err = fmt.Errorf("%s: %q requires a minimum of %d argument(s)", os.Args[0], c.Command.Name, want)
	case kind == maxArgs && n > want:
		err = fmt.Errorf("%s: %q requires a maximum of %d argument(s)", os.Args[0], c.Command.Name, want)
	}
	if err != nil {
		// As runc: the command's usage on stdout, then the error.
		fmt.Fprint(c.App.Writer, "Incorrect Usage.\n\n")
		// From the app's context: in the command's own, cli looks
		// for the name among the command's subcommands.
		if l := c.Lineage(); len(l) > 1 {
			_ = cli.ShowCommandHelp(l[1], c.Command.Name)
		}
	}
	return err
}

// loadSpec reads bundle/config.json; it returns the file's bytes too.
func loadSpec(bundle string) (*specs.Spec, []byte, error) {
	name := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("bundle %s: config.json not found", bundle)
		}
		return nil, nil, err
	}
	var s specs.Spec
	if err := specjson.Unmarshal(b, &s); err != nil {
		return nil, nil, fmt.Errorf("%s: invalid JSON: %w", name, err)
	}
	return &s, b, nil
}

func root(c *cli.Context) string { return c.String("root") }

// sealSelf re-executes the runtime from a sealed copy of its binary
// before it forks a child into a container's existing pid namespace: the
// child is visible there between fork and execve, with our binary as its
// /proc/PID/exe, which a container with CAP_SYS_PTRACE could open and
// write once we have exited (CVE-2019-5736; see libsandbox/exeseal).
// exec always does; create and run when they join a pid namespace by
// path (a new one has nobody in it to look). The state root is the
// overlay's empty layer, as a container's state directory is later.
func sealSelf(c *cli.Context) error {
	if err := os.MkdirAll(root(c), 0o700); err != nil {
		return err
	}
	return exeseal.Reexec(root(c))
}

// inheritOnlyPreserved marks every fd of ours from 3+--preserve-fds on
// close-on-exec, before create, run or exec start anything: the caller's
// other open files (a shell's, a log it writes) must not reach init,
// which holds what it inherits until it execs the user's program, all
// the time a created container waits for `start` (CVE-2016-9962 class;
// the fds the runtime passes are its own, made after this).
//
// Each of the preserved numbers must be open: one the caller left empty
// would be taken by the next file we open (a namespace, a cgroup file
// opened as host root), which would then be handed to the container's
// process under the caller's name for it (a review saw exec's cgroup
// tasks files there). runc fails on such a number too (dup2: bad file
// descriptor) unless a file of its own happens to be there.
func inheritOnlyPreserved(c *cli.Context) error {
	n := max(c.Int("preserve-fds"), 0)
	first := 3 + n
	//
	// Some files of ours are open by now (the --log file, the Go
	// runtime's netpoller when stdio is non-blocking): each was opened
	// close-on-exec, as every file the runtime opens is, while one the
	// caller passed through its execve cannot be (execve closed those),
	// so that flag tells them apart (a second review found the log file
	// handed on as fd 3).
	for fd := 3; fd < first; fd++ {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == unix.EBADF || err == nil && flags&unix.FD_CLOEXEC != 0 {
			return fmt.Errorf("--preserve-fds %d: fd %d is not open (fds 3 to %d are passed on, and each must be open)", n, fd, first-1)
		}
	}
	err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	// Before Linux 5.11: one by one.
	ents, rerr := os.ReadDir("/proc/self/fd")
	if rerr != nil {
		return fmt.Errorf("close-on-exec: %w", err)
	}
	for _, e := range ents {
		if fd, aerr := strconv.Atoi(e.Name()); aerr == nil && fd >= first {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

// beforeSpawn is the Before of create and run.
func beforeSpawn(c *cli.Context) error { return inheritOnlyPreserved(c) }

// beforeExec is the Before of exec.
//
// A --process given as an fd of ours (`-p <(...)`: /dev/fd/63) stays
// open across the re-execution, to be read once after it: a pipe cannot
// be read twice, and its fd is one inheritOnlyPreserved has just marked
// close-on-exec. It reaches nothing in the container (the process gets
// only stdio and the preserved fds) and is closed once read.
func beforeExec(c *cli.Context) error {
	if err := inheritOnlyPreserved(c); err != nil {
		return err
	}
	if fd, ok := ownFd(c.String("process")); ok {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return fmt.Errorf("--process %s: %w", c.String("process"), err)
		}
	}
	return sealSelf(c)
}

// ownFd returns N when path names our fd N: /dev/fd/N, /proc/self/fd/N,
// /proc/thread-self/fd/N or /proc/<our pid>/fd/N.
func ownFd(path string) (int, bool) {
	dir, name := filepath.Split(filepath.Clean(path))
	switch filepath.Clean(dir) {
	case "/dev/fd", "/proc/self/fd", "/proc/thread-self/fd", "/proc/" + strconv.Itoa(os.Getpid()) + "/fd":
	default:
		return 0, false
	}
	fd, err := strconv.Atoi(name)
	if err != nil || fd < 0 || strconv.Itoa(fd) != name {
		return 0, false
	}
	return fd, true
}

// sealSelfToJoin calls sealSelf if the spec joins a pid namespace.
func sealSelfToJoin(c *cli.Context, spec *specs.Spec) error {
	if spec.Linux == nil {
		return nil
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace && ns.Path != "" {
			return sealSelf(c)
		}
	}
	return nil
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// createOptions reads the flags create and run share, and the bundle's
// config.json.
func createOptions(c *cli.Context) (*libsandbox.CreateOpts, *specs.Spec, error) {
	if n := c.Int("preserve-fds"); n < 0 {
		return nil, nil, fmt.Errorf("--preserve-fds: %d is negative", n)
	}
	opts := &libsandbox.CreateOpts{
		Bundle:        c.String("bundle"),
		PidFile:       c.String("pid-file"),
		ConsoleSocket: c.String("console-socket"),
		PidfdSocket:   c.String("pidfd-socket"),
		NoPivot:       c.Bool("no-pivot"),
		NoNewKeyring:  c.Bool("no-new-keyring"),
		PreserveFds:   c.Int("preserve-fds"),
		SystemdCgroup: c.Bool("systemd-cgroup"),
	}
	spec, raw, err := loadSpec(opts.Bundle)
	if err != nil {
		return nil, nil, err
	}
	opts.SpecJSON = raw
	return opts, spec, nil
}

// honorXDGRuntimeDir reports whether --root defaults to a directory in
// $XDG_RUNTIME_DIR: when the runtime runs without root, as runc's
// shouldHonorXDGRuntimeDir decides: not as uid 0, or as uid 0 of a user
// namespace that is not root's own ($USER is not root).
func honorXDGRuntimeDir() bool {
	if os.Geteuid() != 0 {
		return true
	}
	if !libsandbox.InUserNS() {
		return false
	}
	u, ok := os.LookupEnv("USER")
	return !ok || u != "root"
}

// defaultRoot is --root's default: /run/sandbox-runtime, or, without
// root, $XDG_RUNTIME_DIR/sandbox-runtime (runc: /run/user/UID/runc); ""
// when that is wanted and $XDG_RUNTIME_DIR is not set (checkRoot says
// so).
func defaultRoot() string {
	if !honorXDGRuntimeDir() {
		return "/run/sandbox-runtime"
	}
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
		return filepath.Join(xdg, "sandbox-runtime")
	}
	return ""
}

// statelessCommands need no state root.
var statelessCommands = map[string]bool{"": true, "spec": true, "features": true, "help": true, "h": true}

// checkRoot makes sure, before a command that keeps or reads state
// runs, that the default state root of a runtime without root exists
// and is the user's: made 0700 with the sticky bit, which keeps it from
// $XDG_RUNTIME_DIR's clean-up (XDG Base Directory specification), as
// runc does. An explicit --root is the caller's: used as it is.
func checkRoot(c *cli.Context) error {
	if c.IsSet("root") || !honorXDGRuntimeDir() || statelessCommands[c.Args().First()] {
		return nil
	}
	for _, a := range c.Args().Slice() {
		if a == "-h" || a == "--help" {
			return nil // `state --help`
		}
	}
	const fix = "the runtime runs without root, and keeps its state in $XDG_RUNTIME_DIR/sandbox-runtime: set XDG_RUNTIME_DIR to a directory of yours (/run/user/%d, where a login made one), or pass --root"
	dir := c.String("root")
	if dir == "" {
		return fmt.Errorf("--root: not given and $XDG_RUNTIME_DIR is not set: "+fix, os.Geteuid())
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--root: %s unusable: %w; "+fix, dir, err, os.Geteuid())
	}
	if err := os.Chmod(dir, 0o700|os.ModeSticky); err != nil {
		return fmt.Errorf("--root: %s unusable: %w; "+fix, dir, err, os.Geteuid())
	}
	return nil
}
