package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/report"
)

var reportCommand = &cli.Command{
	Name:  "report",
	Usage: "what isolation a container really has, read from the host",
	Description: `Reads, from the host and without entering the container or believing
anything it says: its namespaces, ids and capabilities, no_new_privs,
seccomp and LSM label, its root and mounts, masked and read-only paths,
device nodes, its cgroup's limits and usage; then the findings, each
with why it matters. The JSON is documented in docs/report.md.`,
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		f := c.String("format")
		if f != "table" && f != "json" {
			return fmt.Errorf("--format: invalid value %q (table or json)", f)
		}
		ct, err := libsandbox.LoadUnlocked(root(c), c.Args().First())
		if err != nil {
			return err
		}
		r, err := ct.Report()
		if err != nil {
			return err
		}
		if f == "json" {
			return printJSON(r)
		}
		return report.WriteTable(os.Stdout, r)
	},
}
