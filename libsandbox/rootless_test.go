package libsandbox

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestLimitAsked(t *testing.T) {
	for in, want := range map[string]string{
		`null`: "",
		`{}`:   "", // podman's without cgroups
		`{"devices":[{"allow":false,"access":"rwm"}]}`: "",
		`{"memory":{}}`:                                     "",
		`{"memory":{"limit":1048576}}`:                      "linux.resources.memory.limit",
		`{"cpu":{"shares":512,"cpus":"0"}}`:                 "linux.resources.cpu.cpus",
		`{"pids":{"limit":10}}`:                             "linux.resources.pids.limit",
		`{"unified":{"memory.max":"1M"}}`:                   "linux.resources.unified",
		`{"hugepageLimits":[{"pageSize":"2MB","limit":0}]}`: "linux.resources.hugepageLimits",
		`{"blockIO":{"weight":10},"memory":{"swap":1}}`:     "linux.resources.memory.swap",
	} {
		var r *specs.LinuxResources
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			t.Fatal(err)
		}
		if got := limitAsked(r); got != want {
			t.Errorf("limitAsked(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestIdentityMap(t *testing.T) {
	for in, want := range map[string]bool{
		"         0          0 4294967295\n": true,
		"         0       1001          1\n": false,
		"0 0 4294967295\n1 1 1\n":            false,
		"":                                   false,
	} {
		if got := identityMap(strings.NewReader(in)); got != want {
			t.Errorf("identityMap(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestUserSystemd(t *testing.T) {
	for _, tc := range []struct {
		euid    int
		userns  bool
		xdg     string
		want    bool
		comment string
	}{
		{1000, false, "/run/user/1000", true, "a user"},
		{1000, false, "", true, "a user without XDG_RUNTIME_DIR: the bus error names the flag"},
		{0, false, "/run/user/0", false, "the host's root"},
		{0, true, "/run/user/1000", true, "rootless podman's user namespace"},
		{0, true, "", false, "a rootful engine in an unprivileged system container, as a service"},
		{0, true, "/run/user/0/", false, "root's login session in a system container"},
	} {
		if got := userSystemd(tc.euid, tc.userns, tc.xdg); got != tc.want {
			t.Errorf("%s: userSystemd(%d, %v, %q) = %v, want %v", tc.comment, tc.euid, tc.userns, tc.xdg, got, tc.want)
		}
	}
}
