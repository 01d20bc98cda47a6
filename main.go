// sandbox-runtime is an OCI runtime: it turns an OCI bundle into an
// isolated Linux process, with runc's command line.
//
// Since Go 1.25 the runtime keeps the cgroup CPU limit files open to
// track GOMAXPROCS. In the init stage those are the container's own
// cgroup files, found through the host's /proc and cgroup mounts (init
// starts in a copy of the host's mount namespace, or in a joined one
// that has the host's root: create refuses a container's) and held
// while init waits for `start`: whoever reached init's fds could write
// its own CPU limits through them. A container runtime has no use for the feature.
// Nor is it CPU-bound or long-lived enough to want the watcher.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu"
	// exec's first process re-executes from the sealed copy in this
	// package's initialiser, before the heavy ones (see its comment).
	_ "github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal/early"
	// The init stage runs from this package's initialiser, before the
	// initialisers it does not need (see its comment): the re-executed
	// init stage must run before anything else touches the process, no
	// flag parsing, no logger setup.
	_ "github.com/sandbox-runtime/sandbox-runtime/nsexec/initstage"
)

// version is set by the Makefile (-X main.version=...).
var (
	version = "0.1.0-dev"
	commit  = ""
)

func main() {
	app := newApp()
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		fatal(err)
	}
}

func newApp() *cli.App {
	app := cli.NewApp()
	app.Name = "sandbox-runtime"
	app.Usage = "run OCI containers (runc-compatible command line)"
	v := []string{version}
	if commit != "" {
		v = append(v, "commit: "+commit)
	}
	v = append(v, "spec: "+specs.Version, "go: "+runtime.Version())
	app.Version = strings.Join(v, "\n")
	cli.VersionPrinter = printVersion
	app.EnableBashCompletion = false
	// runc's cli v1 does not split slice flags at commas: `-e A=1,2`
	// is one variable, `--cgroup cpu,cpuacct:sub` one argument.
	app.DisableSliceFlagSeparator = true
	app.Flags = []cli.Flag{
		&cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
		&cli.StringFlag{Name: "log", Usage: "write logs to this file instead of stderr"},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
		&cli.StringFlag{Name: "root", Value: defaultRoot(), Usage: "directory for container state (in a tmpfs); without root, $XDG_RUNTIME_DIR/sandbox-runtime"},
		&cli.BoolFlag{Name: "systemd-cgroup", Usage: "the container's cgroup is a systemd scope (linux.cgroupsPath is slice:prefix:name)"},
		&cli.StringFlag{Name: "criu", Value: "criu", Usage: "the criu binary checkpoint and restore run"},
		&cli.StringFlag{Name: "rootless", Hidden: true, Usage: "accepted for runc compatibility; unused"},
	}
	app.Commands = []*cli.Command{
		checkpointCommand,
		createCommand,
		deleteCommand,
		eventsCommand,
		execCommand,
		featuresCommand,
		killCommand,
		listCommand,
		pauseCommand,
		psCommand,
		reportCommand,
		restoreCommand,
		resumeCommand,
		runCommand,
		specCommand,
		startCommand,
		stateCommand,
		updateCommand,
	}
	// cli appends its own help and version flags to every command's,
	// and asks their names as often as ours.
	cli.HelpFlag = cacheNames(cli.HelpFlag)
	cli.VersionFlag = cacheNames(cli.VersionFlag)
	app.Flags = cacheFlagNames(app.Flags)
	for _, cmd := range app.Commands {
		cmd.Flags = cacheFlagNames(cmd.Flags)
		logVerb(cmd)
	}
	app.Before = func(c *cli.Context) error {
		if err := setupLogging(c); err != nil {
			return err
		}
		return checkRoot(c)
	}
	// Errors are printed by fatal, in runc's way; cli must not print
	// them again nor exit on its own.
	app.ExitErrHandler = func(*cli.Context, error) {}
	cli.ErrWriter = os.Stderr
	return app
}

// printVersion prints the version lines and whether checkpoint and
// restore work here, with the criu of --criu: asked only when the
// version is (it runs criu twice, some tens of milliseconds).
func printVersion(c *cli.Context) {
	fmt.Fprintf(c.App.Writer, "%s version %s\n", c.App.Name, c.App.Version)
	line := "criu: "
	v, err := libsandbox.CriuStatus(c.String("criu"))
	switch {
	case v == 0:
		line += "not usable: " + err.Error()
	case err != nil:
		line += criu.FormatVersion(v) + ", not usable here: " + err.Error()
	default:
		line += criu.FormatVersion(v) + ", checkpoint and restore work here"
	}
	fmt.Fprintln(c.App.Writer, line)
}

// logVerb makes cmd log, at debug level, that it runs and with what
// arguments, and that it returned: with --debug every verb says what it
// did, and the library adds its own steps (runc's --debug does the same
// for its verbs).
func logVerb(cmd *cli.Command) {
	action := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		logrus.Debug(strings.Join(append([]string{cmd.Name}, c.Args().Slice()...), " "))
		err := action(c)
		if err == nil {
			logrus.Debugf("%s: done", cmd.Name)
		}
		return err
	}
}

// keepArgOrder are the commands whose arguments after the container ID
// belong to something else: exec's are the command line, ps's are ps(1)
// options (runc's SkipArgReorder).
var keepArgOrder = map[string]bool{"exec": true, "ps": true}

// reorderArgs moves the flags of a command that are written after its
// arguments (`kill ID --all`, `update ID --memory 1M`, `delete ID
// --force`) in front of them, as runc's urfave/cli v1 does before it
// parses them: scripts written for runc rely on it, and cli v2's parser
// stops at the first argument. Only flags the command defines move,
// each with its value when it takes one (v1 also took the argument
// after a boolean flag for its value, so that runc reads `kill ID --all
// KILL` as container KILL; that is a bug no script can rely on). A `--`
// that is not a flag's value ends the flags: what follows stays an
// argument.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	// The command is the first argument after the global flags.
	i := 1
	for i < len(args) {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		f := findFlag(app.Flags, a)
		if f == nil {
			return args // an unknown global flag: cli reports it
		}
		if takesValue(f) && !strings.Contains(a, "=") {
			i++
		}
		i++
	}
	if i >= len(args) || args[i] == "--" {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil || keepArgOrder[cmd.Name] {
		return args
	}
	var flags, rest []string
	tail := args[i+1:]
	for j := 0; j < len(tail); j++ {
		a := tail[j]
		if a == "--" {
			rest = append(append([]string{"--"}, rest...), tail[j+1:]...)
			break
		}
		f := findFlag(cmd.Flags, a)
		if f == nil {
			if name := flagName(a); name == "help" || name == "h" {
				flags = append(flags, a)
			} else {
				rest = append(rest, a)
			}
			continue
		}
		flags = append(flags, a)
		if takesValue(f) && !strings.Contains(a, "=") && j+1 < len(tail) {
			j++
			flags = append(flags, tail[j])
		}
	}
	out := append([]string{}, args[:i+1]...)
	return append(append(out, flags...), rest...)
}

// flagName is the name in "-x", "--name" or "--name=value"; "" if arg
// is not written as a flag.
func flagName(arg string) string {
	if len(arg) < 2 || arg[0] != '-' || arg == "--" {
		return ""
	}
	name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	name, _, _ = strings.Cut(name, "=")
	return name
}

// findFlag returns the flag of flags that arg names, or nil.
func findFlag(flags []cli.Flag, arg string) cli.Flag {
	name := flagName(arg)
	if name == "" {
		return nil
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}

func setupLogging(c *cli.Context) error {
	// runc's lines: logrus's own formatters, as runc leaves them (times
	// to the second; on a terminal, "ERRO[0000] msg" in colour). With
	// --debug, times to the nanosecond: the debug log times create's
	// steps (docs/bench.md).
	debug := c.Bool("debug")
	stamp := ""
	if debug {
		logrus.SetLevel(logrus.DebugLevel)
		stamp = time.RFC3339Nano
	}
	switch f := c.String("log-format"); f {
	case "text":
		t := &logrus.TextFormatter{}
		if debug {
			t = &logrus.TextFormatter{DisableColors: true, FullTimestamp: true, TimestampFormat: stamp}
		}
		logrus.SetFormatter(t)
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{TimestampFormat: stamp})
	default:
		return fmt.Errorf("--log-format: unknown format %q (text or json)", f)
	}
	if p := c.String("log"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("--log: %w", err)
		}
		logrus.SetOutput(f)
	}
	return nil
}

// fatal prints err as runc does: through the logger (containerd reads the
// last error line of --log), and on stderr too when the log goes
// elsewhere. Exit status 1, or an exitError's, or cli's code.
func fatal(err error) {
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	} else if ce, ok := err.(cli.ExitCoder); ok && strings.HasPrefix(err.Error(), "No help topic for ") {
		// cli's one error with a code of its own: "No help topic for
		// 'X'" (an unknown command, or `help X`), 3. runc's cli v1
		// prints it through runc's error writer, which logs what it is
		// given, Fprintln's newline included, and exits with the code:
		// the same line and status here. Only cli's own, unwrapped:
		// a hook's or CRIU's *exec.ExitError has an ExitCode too, and
		// its failure is status 1 with its own message.
		code = ce.ExitCode()
		err = fmt.Errorf("%w\n", err)
	}
	logrus.Error(err)
	if logrus.StandardLogger().Out != io.Writer(os.Stderr) {
		fmt.Fprintln(os.Stderr, strings.TrimSuffix(err.Error(), "\n"))
	}
	os.Exit(code)
}

// exitError is an error that ends the program with code instead of 1.
type exitError struct {
	err  error
	code int
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }
