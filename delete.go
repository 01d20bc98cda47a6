package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "delete a container and what it holds",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill a created or running container first"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		id := c.Args().First()
		ct, err := libsandbox.Load(root(c), id)
		if errors.Is(err, libsandbox.ErrNotExist) {
			// A create that died before writing any state leaves a
			// bare directory: remove it, as runc does.
			if rerr := libsandbox.RemoveLeftover(root(c), id); rerr != nil {
				return rerr
			}
			if c.Bool("force") {
				return nil
			}
		}
		if err != nil {
			return err
		}
		defer ct.Close()
		return ct.Destroy(c.Bool("force"))
	},
}
