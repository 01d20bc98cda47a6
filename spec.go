package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var specCommand = &cli.Command{
	Name:  "spec",
	Usage: "write a default config.json into the bundle",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "bundle directory (default: current directory)"},
		&cli.BoolFlag{Name: "rootless", Usage: "a config for an unprivileged user"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, exactArgs); err != nil {
			return err
		}
		name := filepath.Join(c.String("bundle"), "config.json")
		if _, err := os.Stat(name); err == nil {
			return errors.New("File config.json exists. Remove it first")
		}
		b, err := json.MarshalIndent(libsandbox.DefaultSpec(c.Bool("rootless")), "", "\t")
		if err != nil {
			return err
		}
		if err := os.WriteFile(name, append(b, '\n'), 0o666); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		return nil
	},
}
