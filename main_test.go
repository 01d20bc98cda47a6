package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal/early"
)

func TestReorderArgs(t *testing.T) {
	app := newApp()
	for _, tc := range []struct{ in, want string }{
		// Flags after the ID move in front of it, with their values.
		{"kill ID KILL --all", "kill --all ID KILL"},
		{"kill ID -a", "kill -a ID"},
		{"delete ID --force", "delete --force ID"},
		{"delete ID -f", "delete -f ID"},
		{"update ID --memory 1M", "update --memory 1M ID"},
		{"update ID --memory=1M --pids-limit 10", "update --memory=1M --pids-limit 10 ID"},
		{"update ID --memory -1", "update --memory -1 ID"},
		{"create ID --bundle b --pid-file p", "create --bundle b --pid-file p ID"},
		{"state ID --help", "state --help ID"},
		// A boolean flag takes no value: the signal stays an argument
		// (runc's cli v1 takes KILL for the container ID).
		{"kill ID --all KILL", "kill --all ID KILL"},
		// Global flags, with and without values, come first.
		{"--root /r --debug --log=l kill ID --all", "--root /r --debug --log=l kill --all ID"},
		// Already in order: unchanged.
		{"delete --force ID", "delete --force ID"},
		// After --, nothing moves.
		{"delete --force -- ID", "delete --force -- ID"},
		{"delete -- ID --force", "delete -- ID --force"},
		{"delete ID -- --force", "delete -- ID --force"},
		// An unknown flag stays where it is, for cli to refuse.
		{"delete ID --nosuch", "delete ID --nosuch"},
		// exec's arguments after the ID are the command line; ps's are
		// ps options.
		{"exec ID ls --all", "exec ID ls --all"},
		{"exec -t ID sh -c --tty", "exec -t ID sh -c --tty"},
		{"ps ID -ef --format json", "ps ID -ef --format json"},
		// No command, an unknown command or global flag: unchanged.
		{"--root /r", "--root /r"},
		{"nosuch ID --force", "nosuch ID --force"},
		{"--nosuch kill ID --all", "--nosuch kill ID --all"},
	} {
		got := strings.Join(reorderArgs(app, append([]string{"sr"}, strings.Fields(tc.in)...))[1:], " ")
		if got != tc.want {
			t.Errorf("reorderArgs(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Package early reads the global flags before cli can: its lists must
// be the CLI's, each name with whether it takes a value.
func TestEarlyKnowsTheGlobalFlags(t *testing.T) {
	app := newApp()
	want := map[string]bool{"help": false, "h": false, "version": false, "v": false}
	for _, f := range app.Flags {
		for _, n := range f.Names() {
			want[n] = takesValue(f)
		}
	}
	got := map[string]bool{}
	for _, n := range early.GlobalFlagsWithValue {
		got[n] = true
	}
	for _, n := range early.GlobalBoolFlags {
		got[n] = false
	}
	if !maps.Equal(got, want) {
		t.Fatalf("package early's global flags %v, the CLI's %v", got, want)
	}
}

// Wrapped flags keep their names and what cli does with them.
func TestFlagNamesCached(t *testing.T) {
	app := newApp()
	cliFlags := &cli.Command{Name: "(cli's help and version)", Flags: []cli.Flag{cli.HelpFlag, cli.VersionFlag}}
	for _, cmd := range append([]*cli.Command{{Name: "(global)", Flags: app.Flags}, cliFlags}, app.Commands...) {
		for _, f := range cmd.Flags {
			var inner cli.Flag
			switch w := f.(type) {
			case *boolFlag:
				inner = w.BoolFlag
			case *stringFlag:
				inner = w.StringFlag
			case *stringSliceFlag:
				inner = w.StringSliceFlag
			case *intFlag:
				inner = w.IntFlag
			case *int64SliceFlag:
				inner = w.Int64SliceFlag
			case *durationFlag:
				inner = w.DurationFlag
			default:
				t.Errorf("%s: flag %v (%T) is not wrapped", cmd.Name, f.Names(), f)
				continue
			}
			if !slices.Equal(f.Names(), inner.Names()) {
				t.Errorf("%s: names %v, cli's %v", cmd.Name, f.Names(), inner.Names())
			}
			if f.String() != inner.String() {
				t.Errorf("%s: help %q, cli's %q", cmd.Name, f.String(), inner.String())
			}
		}
	}
}

// flagNames is cli.FlagNames, which v1's "name, alias" form reaches.
func TestFlagNames(t *testing.T) {
	for _, tc := range []struct {
		name    string
		aliases []string
	}{{"root", nil}, {"log-format", []string{"lf"}}, {"d", []string{"detach"}}, {"name, n", nil}, {"a", []string{"b c", "d"}}, {"", nil}} {
		if got, want := flagNames(tc.name, tc.aliases), cli.FlagNames(tc.name, tc.aliases); !slices.Equal(got, want) {
			t.Errorf("flagNames(%q, %q) = %q, cli's %q", tc.name, tc.aliases, got, want)
		}
	}
}
