package procenv

import (
	"reflect"
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
