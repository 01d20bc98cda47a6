package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var restoreCommand = &cli.Command{
	Name:      "restore",
	Usage:     "restore a container from a checkpoint with CRIU",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "path to the bundle (holds config.json)"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the container is restored"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the restored process's pid to"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the restored terminal's pty master"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "accepted for runc's command line: the runtime is never a subreaper"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "accepted for runc's command line: CRIU sets up the root, not pivot_root"},
		&cli.StringFlag{Name: "lsm-profile", Usage: "TYPE:NAME of an LSM profile to restore the processes with, instead of the image's"},
		&cli.StringFlag{Name: "lsm-mount-context", Usage: "an LSM mount context for the restored mounts, instead of the image's"},
	}, criuFlags...),
	Before: beforeSpawn,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		co, err := criuOptions(c)
		if err != nil {
			return err
		}
		opts := &libsandbox.CreateOpts{
			Bundle:        c.String("bundle"),
			PidFile:       c.String("pid-file"),
			ConsoleSocket: c.String("console-socket"),
			NoPivot:       c.Bool("no-pivot"),
			Foreground:    !c.Bool("detach"),
			SystemdCgroup: c.Bool("systemd-cgroup"),
		}
		// Not the raw bytes: restore changes the spec before create saves it.
		spec, _, err := loadSpec(opts.Bundle)
		if err != nil {
			return err
		}
		status, err := libsandbox.RunRestore(root(c), c.Args().First(), spec, opts, co)
		if err != nil {
			return err
		}
		// As run: the container's exit status is ours.
		os.Exit(status)
		return nil
	},
}
