package libsandbox

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWithContainerDefaults(t *testing.T) {
	base := &specs.Process{
		ApparmorProfile: "container-profile",
		SelinuxLabel:    "system_u:system_r:container_t:s0",
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 123, Soft: 123}},
		Args:            []string{"sleep"},
	}
	own := []specs.POSIXRlimit{{Type: "RLIMIT_NPROC", Hard: 9, Soft: 9}}
	for _, tc := range []struct {
		name string
		proc specs.Process
		want specs.Process
	}{
		{"none set: the container's", specs.Process{Args: []string{"sh"}},
			specs.Process{Args: []string{"sh"}, ApparmorProfile: base.ApparmorProfile, SelinuxLabel: base.SelinuxLabel, Rlimits: base.Rlimits}},
		{"all set: its own", specs.Process{Args: []string{"sh"}, ApparmorProfile: "mine", SelinuxLabel: "l", Rlimits: own},
			specs.Process{Args: []string{"sh"}, ApparmorProfile: "mine", SelinuxLabel: "l", Rlimits: own}},
		{"some set", specs.Process{ApparmorProfile: "mine"},
			specs.Process{ApparmorProfile: "mine", SelinuxLabel: base.SelinuxLabel, Rlimits: base.Rlimits}},
	} {
		in := tc.proc
		got := withContainerDefaults(&in, base)
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, *got, tc.want)
		}
		if !reflect.DeepEqual(in, tc.proc) {
			t.Errorf("%s: the caller's process was changed", tc.name)
		}
	}
	if got := withContainerDefaults(&specs.Process{Args: []string{"x"}}, nil); got.ApparmorProfile != "" || got.Rlimits != nil {
		t.Errorf("no container process: got %+v", *got)
	}
}
