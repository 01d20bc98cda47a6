package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli v2 computes a flag's names at every call of Names(), each
// through a regular expression (cli.FlagNames strips what follows a
// comma, for flags still written in v1's "name, alias" form), and a
// command's run calls Names() for every flag once per flag it looks
// up: runFlagActions asks IsSet of every name of every flag, and IsSet
// walks the flags again. For exec's 17 flags and the 7 global ones that
// is about a thousand regexp replacements, ~0.3 ms of exec's second
// process here (perf: cli.FlagNames and regexp.(*Regexp).ReplaceAllString
// under runFlagActions). These wrappers give each flag its names once;
// every other method is the cli type's own, promoted.
//
// cli type-asserts the concrete *cli.BoolFlag in two places: its help
// text leaves out a bool's "(default: false)" only when
// DisableDefaultText is set (none of ours sets it, so the text is the
// same), and its shell completion (which we disable) skips hidden ones.
// TestFlagNamesCached checks that every verb's help is unchanged.

type boolFlag struct {
	*cli.BoolFlag
	names []string
}

type stringFlag struct {
	*cli.StringFlag
	names []string
}

type stringSliceFlag struct {
	*cli.StringSliceFlag
	names []string
}

type intFlag struct {
	*cli.IntFlag
	names []string
}

type int64SliceFlag struct {
	*cli.Int64SliceFlag
	names []string
}

type durationFlag struct {
	*cli.DurationFlag
	names []string
}

func (f *boolFlag) Names() []string        { return f.names }
func (f *stringFlag) Names() []string      { return f.names }
func (f *stringSliceFlag) Names() []string { return f.names }
func (f *intFlag) Names() []string         { return f.names }
func (f *int64SliceFlag) Names() []string  { return f.names }
func (f *durationFlag) Names() []string    { return f.names }

// cacheFlagNames returns flags with each wrapped as above; a flag of
// another type is kept as it is (slower, never wrong).
func cacheFlagNames(flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(flags))
	for i, f := range flags {
		out[i] = cacheNames(f)
	}
	return out
}

// cacheNames wraps one flag (cacheFlagNames).
func cacheNames(f cli.Flag) cli.Flag {
	switch t := f.(type) {
	case *cli.BoolFlag:
		return &boolFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.StringFlag:
		return &stringFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.StringSliceFlag:
		return &stringSliceFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.IntFlag:
		return &intFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.Int64SliceFlag:
		return &int64SliceFlag{t, flagNames(t.Name, t.Aliases)}
	case *cli.DurationFlag:
		return &durationFlag{t, flagNames(t.Name, t.Aliases)}
	}
	return f
}

// flagNames is cli.FlagNames without its regular expression, which
// every start of the runtime ran for each of ~150 flags (3.5% of a
// `state`'s CPU, perf): a name without a comma or a space is kept
// whole by it, and a name with one goes to it.
func flagNames(name string, aliases []string) []string {
	names := make([]string, 0, 1+len(aliases))
	for _, n := range append([]string{name}, aliases...) {
		if strings.ContainsAny(n, ", ") {
			return cli.FlagNames(name, aliases)
		}
		names = append(names, n)
	}
	return names
}
