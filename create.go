package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var createFlags = []cli.Flag{
	&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "path to the bundle (holds config.json)"},
	&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master (process.terminal)"},
	&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the container's process"},
	&cli.StringFlag{Name: "pid-file", Usage: "file to write the container process's pid to"},
	&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot_root (for a rootfs on a ramdisk)"},
	&cli.BoolFlag{Name: "no-new-keyring", Usage: "do not give the container a new session keyring"},
	&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many extra fds (3...) to the container"},
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container",
	ArgsUsage: "<container-id>",
	Flags:     createFlags,
	Before:    beforeSpawn,
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
		ct, err := libsandbox.Create(root(c), c.Args().First(), spec, opts)
		if err != nil {
			return err
		}
		ct.Close()
		return nil
	},
}
