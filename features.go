package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print what this runtime supports (runtime-spec features JSON)",
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, exactArgs); err != nil {
			return err
		}
		f := libsandbox.Features()
		libsandbox.CheckpointFeatures(f, c.String("criu"))
		return printJSON(f)
	},
}
