package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var killCommand = &cli.Command{
	Name:      "kill",
	Usage:     "send a signal to a container's process",
	ArgsUsage: "<container-id> [signal]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "signal every process of the container"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, minArgs); err != nil {
			return err
		}
		if err := checkArgs(c, 2, maxArgs); err != nil {
			return err
		}
		sigName := "SIGTERM"
		if c.NArg() == 2 {
			sigName = c.Args().Get(1)
		}
		sig, err := parseSignal(sigName)
		if err != nil {
			return err
		}
		ct, err := libsandbox.Load(root(c), c.Args().First())
		if err != nil {
			return err
		}
		defer ct.Close()
		return ct.Signal(sig, c.Bool("all"))
	},
}

// parseSignal accepts "TERM", "SIGTERM", "term" and "15"; and 0, which
// sends nothing but checks that init is alive (kill(2)), the liveness
// probe scripts make with `runc kill ID 0`.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("unknown signal %q", s)
	}
	return sig, nil
}
