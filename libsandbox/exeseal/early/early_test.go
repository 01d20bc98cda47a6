package early

import (
	"os"
	"strings"
	"testing"
)

func TestVerb(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"sr exec id true", "exec"},
		{"sr --root /r exec id true", "exec"},
		{"sr --root=/r --debug exec id", "exec"},
		{"sr -root /r -debug exec id", "exec"},
		{"sr --log l --log-format json --systemd-cgroup --criu c --rootless true exec id", "exec"},
		{"sr --debug=false exec id", "exec"},
		// exec as a flag's value is not the command.
		{"sr --root exec state id", "state"},
		{"sr --log exec", ""},
		// A flag that is not ours: cli decides, main re-executes.
		{"sr --nosuch exec id", ""},
		{"sr --nosuch=1 exec id", ""},
		{"sr -- exec id", ""},
		{"sr", ""},
		{"sr --root /r", ""},
		{"sr state id", "state"},
		{"sr - exec", "-"},
	} {
		if got := Verb(strings.Fields(tc.args)); got != tc.want {
			t.Errorf("Verb(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := Verb([]string{"sr", "", "exec"}); got != "" {
		t.Errorf("an empty argument: %q, want none", got)
	}
}

// TestRuntimeArgs: the linkname names what package os takes as os.Args,
// the argv the kernel put on the stack, never /proc/self/cmdline.
func TestRuntimeArgs(t *testing.T) {
	got, want := runtimeArgs(), os.Args
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
		t.Fatalf("runtimeArgs() = %q, os.Args = %q", got, want)
	}
}
