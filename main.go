// sandbox-runtime is an OCI runtime: it turns an OCI bundle into an
// isolated Linux process, with runc's command line.
//
// Since Go 1.25 the runtime keeps the cgroup CPU limit files open to
// track GOMAXPROCS. In the init stage those are the container's own
// cgroup files, opened on the host and held while init waits for
// `start`: whoever reached init's fds could write its own CPU limits
// through them. A container runtime has no use for the feature.
// Nor is it CPU-bound or long-lived enough to want the watcher.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/nsexec"
)

// version is set by the Makefile (-X main.version=...).
var (
	version = "0.1.0-dev"
	commit  = ""
)

func init() {
	// The re-executed init stage must run before anything else touches
	// the process: no flag parsing, no logger setup.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		nsexec.Main(os.Args[2:])
	}
}

func main() {
	app := cli.NewApp()
	app.Name = "sandbox-runtime"
	app.Usage = "run OCI containers (runc-compatible command line)"
	v := []string{version}
	if commit != "" {
		v = append(v, "commit: "+commit)
	}
	v = append(v, "spec: "+specs.Version, "go: "+runtime.Version())
	app.Version = strings.Join(v, "\n")
	app.EnableBashCompletion = false
	app.Flags = []cli.Flag{
		&cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
		&cli.StringFlag{Name: "log", Usage: "write logs to this file instead of stderr"},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
		&cli.StringFlag{Name: "root", Value: "/run/sandbox-runtime", Usage: "directory for container state"},
		&cli.BoolFlag{Name: "systemd-cgroup", Usage: "the container's cgroup is a systemd scope (linux.cgroupsPath is slice:prefix:name)"},
		&cli.StringFlag{Name: "criu", Hidden: true, Usage: "accepted for runc compatibility; unused"},
		&cli.StringFlag{Name: "rootless", Hidden: true, Usage: "accepted for runc compatibility; unused"},
	}
	app.Commands = []*cli.Command{
		createCommand,
		deleteCommand,
		eventsCommand,
		execCommand,
		featuresCommand,
		killCommand,
		listCommand,
		pauseCommand,
		psCommand,
		resumeCommand,
		runCommand,
		specCommand,
		startCommand,
		stateCommand,
		updateCommand,
	}
	app.Before = setupLogging
	// Errors are printed by fatal, in runc's way; cli must not print
	// them again nor exit on its own.
	app.ExitErrHandler = func(*cli.Context, error) {}
	cli.ErrWriter = os.Stderr
	if err := app.Run(os.Args); err != nil {
		fatal(err)
	}
}

func setupLogging(c *cli.Context) error {
	if c.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	switch f := c.String("log-format"); f {
	case "text":
		logrus.SetFormatter(&logrus.TextFormatter{DisableColors: true, FullTimestamp: true, TimestampFormat: time.RFC3339Nano})
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano})
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
// elsewhere. Exit status 1.
func fatal(err error) {
	logrus.Error(err)
	if logrus.StandardLogger().Out != io.Writer(os.Stderr) {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(1)
}
