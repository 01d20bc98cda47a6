package procenv

import (
	"reflect"
	"strings"
	"testing"
)

func TestPrepare(t *testing.T) {
	home := func() string { return "/root" }
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"runc's example", []string{"HOME=", "ONE=two", "ONE=", "PATH=/bin"}, []string{"ONE=", "PATH=/bin", "HOME=/root"}},
		{"home kept", []string{"HOME=/h", "A=1"}, []string{"HOME=/h", "A=1"}},
		{"home missing", []string{"A=1"}, []string{"A=1", "HOME=/root"}},
		{"last wins, at its place", []string{"A=1", "B=2", "A=3"}, []string{"B=2", "A=3", "HOME=/root"}},
		{"empty home after a set one", []string{"HOME=/h", "HOME="}, []string{"HOME=/root"}},
		{"nil", nil, []string{"HOME=/root"}},
		{"value with =", []string{"A=b=c", "HOME=/x"}, []string{"A=b=c", "HOME=/x"}},
	} {
		if got := Prepare(tc.env, home); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPrepareCallsHomeOnlyWhenNeeded(t *testing.T) {
	called := false
	Prepare([]string{"HOME=/h"}, func() string { called = true; return "" })
	if called {
		t.Error("home() called although HOME is set")
	}
}

func TestHome(t *testing.T) {
	const passwd = "root:x:0:0:root:/root:/bin/sh\n" +
		"# a comment line\n" +
		"user:x:1000:1000:A User:/home/user:/bin/sh\n" +
		"nohome:x:1001:1001:::/bin/sh\n" +
		"short:x:1002\n" +
		"dup:x:1000:1000::/elsewhere:/bin/sh\n"
	for _, tc := range []struct {
		uid  uint32
		want string
	}{
		{0, "/root"},
		{1000, "/home/user"}, // the first entry wins
		{1001, "/"},          // empty home
		{1002, "/"},          // too few fields
		{4242, "/"},          // none
	} {
		if got := Home(strings.NewReader(passwd), tc.uid); got != tc.want {
			t.Errorf("Home(%d): got %q, want %q", tc.uid, got, tc.want)
		}
	}
}
