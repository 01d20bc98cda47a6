package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print a container's state as JSON",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		ct, err := libsandbox.LoadUnlocked(root(c), c.Args().First())
		if err != nil {
			return err
		}
		return printJSON(ct.State())
	},
}
