package procattr

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []uint64
		err  string
	}{
		{"", nil, ""},
		{"0", []uint64{1}, ""},
		{"0-3,7", []uint64{0x8f}, ""},
		{" 1 , 3-4 ,", []uint64{0x1a}, ""},
		{"64", []uint64{0, 1}, ""},
		{"3-1", nil, "backwards"},
		{"a", nil, "not a number"},
		{"-1", nil, "not a number"},
		{"8192", nil, "above"},
		{",", nil, "no member"},
	} {
		got, err := List(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("List(%q): got error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("List(%q) = %x, %v; want %x", tc.in, got, err, tc.want)
		}
	}
	for in, want := range map[string]string{"0-3,7": "0-3,7", " 1 , 3-4 ,": "1,3-4", "64": "64", "0,2,4-5": "0,2,4-5"} {
		if m, _ := List(in); Format(m) != want {
			t.Errorf("Format(List(%q)) = %q, want %q", in, Format(m), want)
		}
	}
}

func TestScheduler(t *testing.T) {
	got, err := Scheduler(&specs.Scheduler{Policy: specs.SchedBatch, Nice: 5, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}})
	if err != nil {
		t.Fatal(err)
	}
	want := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: 3, Nice: 5, Flags: unix.SCHED_FLAG_RESET_ON_FORK}
	if *got != *want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, tc := range []struct {
		s    specs.Scheduler
		want string
	}{
		{specs.Scheduler{}, "process.scheduler.policy: missing"},
		{specs.Scheduler{Policy: "SCHED_FOO"}, `process.scheduler.policy: unknown policy "SCHED_FOO"`},
		{specs.Scheduler{Policy: specs.SchedISO}, "SCHED_ISO is not implemented"},
		{specs.Scheduler{Policy: specs.SchedOther, Nice: 20}, "process.scheduler.nice 20"},
		{specs.Scheduler{Policy: specs.SchedFIFO}, "process.scheduler.priority 0: must be between 1 and 99"},
		{specs.Scheduler{Policy: specs.SchedRR, Priority: 100}, "process.scheduler.priority 100"},
		{specs.Scheduler{Policy: specs.SchedOther, Priority: 3}, "process.scheduler.priority: only for SCHED_FIFO and SCHED_RR"},
		{specs.Scheduler{Policy: specs.SchedOther, Runtime: 1}, "only for SCHED_DEADLINE"},
		{specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"X"}}, `process.scheduler.flags[0]: unknown flag "X"`},
	} {
		if _, err := Scheduler(&tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Scheduler(%+v): got %v, want %q", tc.s, err, tc.want)
		}
	}
}

func TestIOPriority(t *testing.T) {
	if v, err := IOPriority(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}); err != nil || v != 2<<13|6 {
		t.Errorf("got %#x, %v; want %#x", v, err, 2<<13|6)
	}
	if _, err := IOPriority(&specs.LinuxIOPriority{Class: "X"}); err == nil || !strings.Contains(err.Error(), "process.ioPriority.class") {
		t.Errorf("got %v", err)
	}
	if _, err := IOPriority(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 8}); err == nil || !strings.Contains(err.Error(), "process.ioPriority.priority 8") {
		t.Errorf("got %v", err)
	}
}

func TestPersonality(t *testing.T) {
	if v, err := Personality(&specs.LinuxPersonality{Domain: specs.PerLinux32}); err != nil || v != 8 {
		t.Errorf("LINUX32: got %d, %v", v, err)
	}
	for _, p := range []specs.LinuxPersonality{{}, {Domain: "BSD"}, {Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"X"}}} {
		if _, err := Personality(&p); err == nil || !strings.HasPrefix(err.Error(), "linux.personality.") {
			t.Errorf("%+v: got %v", p, err)
		}
	}
}

func TestMemoryPolicy(t *testing.T) {
	got, err := MemoryPolicy(&specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0,2", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}})
	if err != nil {
		t.Fatal(err)
	}
	want := &Mempolicy{Mode: unix.MPOL_INTERLEAVE | unix.MPOL_F_STATIC_NODES, Nodes: []uint64{5}, MaxNode: 65}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, tc := range []struct {
		m    specs.LinuxMemoryPolicy
		want string
	}{
		{specs.LinuxMemoryPolicy{}, "linux.memoryPolicy.mode: missing"},
		{specs.LinuxMemoryPolicy{Mode: "MPOL_X"}, "unknown mode"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind}, "MPOL_BIND needs at least one node"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "0"}, "MPOL_LOCAL takes no nodes"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "x"}, `linux.memoryPolicy.nodes "x"`},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{"F"}}, "linux.memoryPolicy.flags[0]"},
	} {
		if _, err := MemoryPolicy(&tc.m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.m, err, tc.want)
		}
	}
}

func TestCheckNodes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "possible"), []byte("0-3\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "online"), []byte("0-1\n"), 0o644)
	for _, tc := range []struct {
		mode  int
		nodes string
		want  string
	}{
		{unix.MPOL_BIND, "0-1", ""},
		{unix.MPOL_BIND, "2", "node 2 is not online (online: 0-1)"},
		{unix.MPOL_BIND, "4", "node 4 does not exist on this host (nodes 0-3)"},
		{unix.MPOL_BIND | unix.MPOL_F_STATIC_NODES, "2", ""},
		{unix.MPOL_BIND | unix.MPOL_F_RELATIVE_NODES, "7", ""},
	} {
		mask, _ := List(tc.nodes)
		err := CheckNodes(&Mempolicy{Mode: tc.mode, Nodes: mask}, dir)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%d %q: got %v, want %q", tc.mode, tc.nodes, err, tc.want)
		}
	}
}
