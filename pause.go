package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var pauseCommand = &cli.Command{
	Name:      "pause",
	Usage:     "freeze every process of a container",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		ct, err := libsandbox.Load(root(c), c.Args().First())
		if err != nil {
			return err
		}
		defer ct.Close()
		return ct.Pause()
	},
}

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "thaw a paused container",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		ct, err := libsandbox.Load(root(c), c.Args().First())
		if err != nil {
			return err
		}
		defer ct.Close()
		return ct.Resume()
	},
}
