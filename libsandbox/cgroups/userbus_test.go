package cgroups

import (
	"strings"
	"testing"
)

func TestUserBus(t *testing.T) {
	for _, tc := range []struct {
		env    map[string]string
		socket string // the one path that exists
		want   string // address, or the start of the error
	}{
		{map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x/bus", "XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/user/1000/bus", "unix:path=/x/bus"},
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/user/1000/bus", "unix:path=/run/user/1000/bus"},
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "", "--systemd-cgroup: the runtime runs without root"},
		{map[string]string{}, "", "--systemd-cgroup: the runtime runs without root"},
	} {
		got, err := UserBus(func(k string) string { return tc.env[k] }, func(p string) bool { return p == tc.socket })
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%v: got %q, want %q", tc.env, got, tc.want)
		}
	}
}
