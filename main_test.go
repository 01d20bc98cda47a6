package main

import (
	"strings"
	"testing"
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
