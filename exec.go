package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "run a new process in a running container",
	ArgsUsage: "<container-id> <command> [args...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "a runtime-spec process JSON file (overrides the flags below)"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the process"},
		&cli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable (NAME=value)"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-terminal"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid]"},
		&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional gids"},
		&cli.StringFlag{Name: "process-label", Usage: "SELinux label of the process"},
		&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile of the process"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability (never to the inheritable set)"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process has started"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the process's pid to"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many extra fds (3...) to the process"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an existing sub-cgroup of the container: <path>, or <controller>[,<controller>...]:<path> (cgroup v1; repeatable)"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container (the exec completes once it is resumed)"},
	},
	Before: func(c *cli.Context) error { return execFailed(beforeExec(c)) },
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, minArgs); err != nil {
			return err
		}
		status, err := runExec(c)
		if err != nil {
			return execFailed(err)
		}
		os.Exit(status)
		return nil
	},
}

// execFailed words an exec that could not start its process as runc
// does, with exit status 255: the process's own status is 0-255 too,
// but a caller (podman, containerd) tells runc's failure by the "exec
// failed: " prefix and 255.
func execFailed(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{err: fmt.Errorf("exec failed: %w", err), code: 255}
}

// runExec starts the process and, in the foreground, returns its exit
// status.
func runExec(c *cli.Context) (int, error) {
	if n := c.Int("preserve-fds"); n < 0 {
		return 0, fmt.Errorf("--preserve-fds: %d is negative", n)
	}
	ct, err := libsandbox.LoadUnlocked(root(c), c.Args().First())
	if err != nil {
		return 0, err
	}
	spec, err := ct.Spec()
	if err != nil {
		return 0, err
	}
	proc, err := execProcess(c, spec.Process)
	if err != nil {
		return 0, err
	}
	sub, err := subCgroupPaths(c.StringSlice("cgroup"))
	if err != nil {
		return 0, err
	}
	return ct.RunExec(&libsandbox.ExecOpts{
		Process:       proc,
		ConsoleSocket: c.String("console-socket"),
		PidfdSocket:   c.String("pidfd-socket"),
		PidFile:       c.String("pid-file"),
		PreserveFds:   c.Int("preserve-fds"),
		Foreground:    !c.Bool("detach"),
		IgnorePaused:  c.Bool("ignore-paused"),
		SubCgroups:    sub,
	})
}

// subCgroupPaths reads the --cgroup arguments, as runc: one "path" (every
// hierarchy; the form for cgroup v2), or one or more
// "controller[,controller...]:path" (cgroup v1), each controller once. It
// returns a controller -> path map ("" for every hierarchy), nil for none.
func subCgroupPaths(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	paths := make(map[string]string, len(args))
	for _, a := range args {
		ctrls, path, ok := strings.Cut(a, ":")
		if !ok {
			if len(args) != 1 {
				return nil, fmt.Errorf("invalid --cgroup argument: %s (missing <controller>: prefix)", a)
			}
			paths[""] = a
			continue
		}
		for _, ctrl := range strings.Split(ctrls, ",") {
			if ctrl == "" {
				return nil, fmt.Errorf("invalid --cgroup argument: %s (empty <controller> prefix)", a)
			}
			if _, ok := paths[ctrl]; ok {
				return nil, fmt.Errorf("invalid --cgroup argument(s): controller %s specified multiple times", ctrl)
			}
			paths[ctrl] = path
		}
	}
	return paths, nil
}

// execProcess reads --process, or builds the process from the
// container's own and the flags, as runc does.
func execProcess(c *cli.Context, base *specs.Process) (*specs.Process, error) {
	if path := c.String("process"); path != "" {
		b, err := os.ReadFile(path)
		if fd, ok := ownFd(path); ok && fd > 2+c.Int("preserve-fds") {
			// Kept open for this read by beforeExec; not the process's.
			unix.Close(fd)
		}
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("--process %s: invalid process JSON: %w", path, err)
		}
		return &p, nil
	}
	if c.NArg() < 2 {
		return nil, fmt.Errorf("exec: no command given (args after the container ID, or --process)")
	}
	p := &specs.Process{}
	if base != nil {
		// A copy of what is changed below (the rest is shared: base,
		// decoded for us, is not used again). Not a JSON round trip:
		// encoding specs.Process costs encoding/json's type tables
		// (~0.3 ms), which specjson's decode did without.
		*p = *base
		p.Env = slices.Clone(base.Env)
		p.User.AdditionalGids = slices.Clone(base.User.AdditionalGids)
		if c := base.Capabilities; c != nil {
			p.Capabilities = &specs.LinuxCapabilities{
				Bounding:    slices.Clone(c.Bounding),
				Effective:   slices.Clone(c.Effective),
				Inheritable: slices.Clone(c.Inheritable),
				Permitted:   slices.Clone(c.Permitted),
				Ambient:     slices.Clone(c.Ambient),
			}
		}
	}
	p.Args = c.Args().Slice()[1:]
	p.Terminal = c.Bool("tty")
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	// Appended, as runc does: the process's env is deduplicated later,
	// the last value of a name winning (procenv.Prepare).
	p.Env = append(p.Env, c.StringSlice("env")...)
	if u := c.String("user"); u != "" {
		uid, gid, hasGid := strings.Cut(u, ":")
		n, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: uid must be a number", u)
		}
		p.User.UID = uint32(n)
		if hasGid {
			g, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: gid must be a number", u)
			}
			p.User.GID = uint32(g)
		}
	}
	for _, g := range c.Int64Slice("additional-gids") {
		if g < 0 || g > 1<<32-1 {
			return nil, fmt.Errorf("--additional-gids: %d is not a gid", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if l := c.String("process-label"); l != "" {
		p.SelinuxLabel = l
	}
	if a := c.String("apparmor"); a != "" {
		p.ApparmorProfile = a
	}
	if c.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		// CVE-2022-29162: an added capability goes to the bounding,
		// effective and permitted sets, never inheritable. runc 1.5
		// adds it to ambient too when the process has an inheritable
		// list at all, so that a user other than root keeps it across
		// execve where the kernel allows (an ambient capability must be
		// inheritable; one it refuses is a warning).
		for _, name := range caps {
			name = strings.ToUpper(name)
			if !strings.HasPrefix(name, "CAP_") {
				name = "CAP_" + name
			}
			p.Capabilities.Bounding = append(p.Capabilities.Bounding, name)
			p.Capabilities.Effective = append(p.Capabilities.Effective, name)
			p.Capabilities.Permitted = append(p.Capabilities.Permitted, name)
			if p.Capabilities.Inheritable != nil {
				p.Capabilities.Ambient = append(p.Capabilities.Ambient, name)
			}
		}
	}
	return p, nil
}
