package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start the user process of a created container",
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
		return ct.Start()
	},
}
