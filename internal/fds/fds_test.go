package fds

import (
	"os"
	"reflect"
	"testing"
)

func TestListAdd(t *testing.T) {
	a, b, c := os.Stdin, os.Stdout, os.Stderr
	for _, tc := range []struct {
		name  string
		first int
		add   []string
		want  []string
	}{
		{"none", 3, nil, nil},
		{"from 3", 3, []string{"sync-fd", "log-fd", "fifo-fd"}, []string{"--sync-fd=3", "--log-fd=4", "--fifo-fd=5"}},
		// With --preserve-fds=2, fds 3 and 4 are the caller's.
		{"after preserved fds", 5, []string{"sync-fd", "log-fd"}, []string{"--sync-fd=5", "--log-fd=6"}},
	} {
		l := New(tc.first)
		files := []*os.File{a, b, c}
		for i, name := range tc.add {
			l.Add(name, files[i])
		}
		if !reflect.DeepEqual(l.Args, tc.want) {
			t.Errorf("%s: args: got %q, want %q", tc.name, l.Args, tc.want)
		}
		if got, want := len(l.Files), len(tc.add); got != want {
			t.Errorf("%s: files: got %d, want %d", tc.name, got, want)
		}
		for i := range l.Files {
			if l.Files[i] != files[i] {
				t.Errorf("%s: Files[%d]: got %v, want %v", tc.name, i, l.Files[i].Name(), files[i].Name())
			}
		}
	}
}

// What Add writes, Parse reads back: the child finds each file at the
// number it was given (ExtraFiles[i] is fd 3+i).
func TestAddParseRoundTrip(t *testing.T) {
	l := New(3)
	l.Add("sync-fd", os.Stdin)
	l.Add("log-fd", os.Stdout)
	args := append([]string{"init", "--debug"}, l.Args...)
	for name, want := range map[string]int{"sync-fd": 3, "log-fd": 4} {
		got, err := Parse(args, name)
		if err != nil || got != want {
			t.Errorf("Parse(%q, %q): got %d, %v; want %d, nil", args, name, got, err, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		name string
		want int
		ok   bool
	}{
		{[]string{"--sync-fd=3"}, "sync-fd", 3, true},
		{[]string{"--log-fd=4", "--sync-fd=17"}, "sync-fd", 17, true},
		{[]string{"--sync-fd=5", "--sync-fd=6"}, "sync-fd", 5, true}, // the first wins
		{nil, "sync-fd", -1, false},
		{[]string{"--log-fd=4"}, "sync-fd", -1, false},
		{[]string{"--sync-fd"}, "sync-fd", -1, false},
		{[]string{"--sync-fd="}, "sync-fd", -1, false},
		{[]string{"--sync-fd=x"}, "sync-fd", -1, false},
		{[]string{"--sync-fd=-1"}, "sync-fd", -1, false},
		// 0, 1 and 2 are stdio, never a passed file.
		{[]string{"--sync-fd=2"}, "sync-fd", -1, false},
		{[]string{"--sync-fd=0"}, "sync-fd", -1, false},
		{[]string{"--sync-fd-x=3"}, "sync-fd", -1, false},
		{[]string{"-sync-fd=3"}, "sync-fd", -1, false},
	} {
		got, err := Parse(tc.args, tc.name)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q, %q): got %d, %v; want %d, ok=%v", tc.args, tc.name, got, err, tc.want, tc.ok)
		}
	}
}

func TestHas(t *testing.T) {
	for _, tc := range []struct {
		args []string
		name string
		want bool
	}{
		{[]string{"--exec"}, "exec", true},
		{[]string{"--sync-fd=3", "--exec"}, "exec", true},
		{nil, "exec", false},
		{[]string{"--exec=1"}, "exec", false},
		{[]string{"-exec"}, "exec", false},
		{[]string{"exec"}, "exec", false},
		{[]string{"--executable"}, "exec", false},
	} {
		if got := Has(tc.args, tc.name); got != tc.want {
			t.Errorf("Has(%q, %q): got %v, want %v", tc.args, tc.name, got, tc.want)
		}
	}
}
