package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list a container's processes",
	ArgsUsage: "<container-id> [ps options]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table (ps output) or json (pids)"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, minArgs); err != nil {
			return err
		}
		ct, err := libsandbox.LoadUnlocked(root(c), c.Args().First())
		if err != nil {
			return err
		}
		pids, err := ct.Processes()
		if err != nil {
			return err
		}
		switch f := c.String("format"); f {
		case "json":
			// One line, as runc's.
			return json.NewEncoder(os.Stdout).Encode(pids)
		case "table":
			args := c.Args().Slice()[1:]
			if len(args) == 0 {
				args = []string{"-ef"}
			}
			return psTable(pids, args)
		default:
			return fmt.Errorf("--format: invalid value %q (table or json)", f)
		}
	},
}

// psTable runs the host's ps and keeps the header and the container's
// lines, found by the PID column, as runc does.
func psTable(pids []int, args []string) error {
	out, err := exec.Command("ps", args...).Output()
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("ps %s: output has no PID column", strings.Join(args, " "))
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	fmt.Println(lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) > col {
			if p, err := strconv.Atoi(f[col]); err == nil && in[p] {
				fmt.Println(l)
			}
		}
	}
	return nil
}
