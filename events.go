package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "print a container's resource usage and OOM events as JSON lines",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5_000_000_000, Usage: "time between stats events"},
		&cli.BoolFlag{Name: "stats", Usage: "print one stats event and exit"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		if c.Duration("interval") <= 0 {
			return fmt.Errorf("--interval: must be positive")
		}
		ct, err := libsandbox.LoadUnlocked(root(c), c.Args().First())
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		if c.Bool("stats") {
			ev, err := ct.Stats()
			if err != nil {
				return err
			}
			return enc.Encode(ev)
		}
		return ct.Events(c.Duration("interval"), func(ev *libsandbox.Event) error { return enc.Encode(ev) })
	},
}
