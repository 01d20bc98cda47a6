package cgroups

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestProgramLoads loads the device filter of typical rule lists into
// the kernel: the verifier refuses a program with unreachable code, as
// after a rule that matches everything.
func TestProgramLoads(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading BPF programs needs root")
	}
	var maj, min int64 = 1, 11
	for _, tc := range []struct {
		name string
		spec []specs.LinuxDeviceCgroup
		// last are appended after the defaults.
		last []Rule
	}{
		{"default spec: deny all first", []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, nil},
		{"deny all, then an allow", []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: &maj, Minor: &min, Access: "w"}}, nil},
		{"allow all first", []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}, nil},
		{"allow all last", nil, []Rule{{Type: 'a', Major: -1, Minor: -1, Access: "rwm", Allow: true}}},
		{"no rules", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := Rules(tc.spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			rules = append(rules, tc.last...)
			prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
				Type:         ebpf.CGroupDevice,
				Instructions: Program(rules),
				License:      "Apache-2.0",
			})
			if errors.Is(err, ebpf.ErrNotSupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatalf("load %v: %v", rules, err)
			}
			prog.Close()
		})
	}
}
