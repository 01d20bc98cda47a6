package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container, and wait for it",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the container has started"},
		&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "accepted for runc's command line: the runtime is never a subreaper"},
	}, createFlags...),
	Before: beforeSpawn,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		opts, spec, err := createOptions(c)
		if err != nil {
			return err
		}
		if err := sealSelfToJoin(c, spec); err != nil {
			return err
		}
		opts.Foreground = !c.Bool("detach")
		status, err := libsandbox.Run(root(c), c.Args().First(), spec, opts, c.Bool("keep"))
		if err != nil {
			return err
		}
		// The container's exit status is ours (128+N for signal N).
		os.Exit(status)
		return nil
	},
}
