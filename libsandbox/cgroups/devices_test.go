package cgroups

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestRules(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	withDefaults := func(r ...Rule) []Rule { return append(r, DefaultAllowed...) }
	for _, tc := range []struct {
		name string
		spec []specs.LinuxDeviceCgroup
		devs []specs.LinuxDevice
		want []Rule
	}{
		{name: "nothing: the defaults", want: withDefaults()},
		{
			name: "deny all, type and access defaulted",
			spec: []specs.LinuxDeviceCgroup{{Allow: false}},
			want: withDefaults(Rule{Type: 'a', Major: -1, Minor: -1, Access: "rwm"}),
		},
		{
			name: "in order, before the defaults",
			spec: []specs.LinuxDeviceCgroup{
				{Allow: false, Type: "a", Access: "rwm"},
				{Allow: true, Type: "c", Major: i(10), Minor: i(200), Access: "rw"},
				{Allow: true, Type: "b", Major: i(8), Access: "r"},
				{Allow: false, Type: "c", Major: i(-1), Minor: i(-1), Access: "m"},
			},
			want: withDefaults(
				Rule{Type: 'a', Major: -1, Minor: -1, Access: "rwm"},
				Rule{Type: 'c', Major: 10, Minor: 200, Access: "rw", Allow: true},
				Rule{Type: 'b', Major: 8, Minor: -1, Access: "r", Allow: true},
				Rule{Type: 'c', Major: -1, Minor: -1, Access: "m"},
			),
		},
		{
			name: "linux.devices after the defaults",
			spec: []specs.LinuxDeviceCgroup{{Allow: false}},
			devs: []specs.LinuxDevice{
				{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229},
				{Path: "/dev/tty0", Type: "u", Major: 4, Minor: 0},
				{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0},
				{Path: "/dev/fifo", Type: "p"}, // no device number: no rule
			},
			want: append(withDefaults(Rule{Type: 'a', Major: -1, Minor: -1, Access: "rwm"}),
				Rule{Type: 'c', Major: 10, Minor: 229, Access: "rwm", Allow: true},
				Rule{Type: 'c', Major: 4, Minor: 0, Access: "rwm", Allow: true},
				Rule{Type: 'b', Major: 8, Minor: 0, Access: "rwm", Allow: true},
			),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Rules(tc.spec, tc.devs)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rules = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRulesErrors(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		spec []specs.LinuxDeviceCgroup
		err  string
	}{
		{[]specs.LinuxDeviceCgroup{{Type: "x"}}, `linux.resources.devices[0].type "x": must be a, c or b`},
		{[]specs.LinuxDeviceCgroup{{Type: "char"}}, `linux.resources.devices[0].type "char": must be a, c or b`},
		{[]specs.LinuxDeviceCgroup{{Type: "c"}, {Type: "c", Major: i(-2)}}, `linux.resources.devices[1]: negative major or minor number`},
		{[]specs.LinuxDeviceCgroup{{Type: "c", Minor: i(-5)}}, `linux.resources.devices[0]: negative major or minor number`},
		{[]specs.LinuxDeviceCgroup{{Type: "c", Access: "rx"}}, `linux.resources.devices[0].access "rx": only r, w and m are allowed`},
		{[]specs.LinuxDeviceCgroup{{Type: "c", Access: "RW"}}, `linux.resources.devices[0].access "RW": only r, w and m are allowed`},
	} {
		_, err := Rules(tc.spec, nil)
		if err == nil || err.Error() != tc.err {
			t.Errorf("Rules(%+v) error = %v, want %v", tc.spec, err, tc.err)
		}
	}
}

func TestRuleString(t *testing.T) {
	for _, tc := range []struct {
		r    Rule
		want string
	}{
		{Rule{Type: 'a', Major: -1, Minor: -1, Access: "rwm"}, "a"},
		{Rule{Type: 'c', Major: 1, Minor: 3, Access: "rwm"}, "c 1:3 rwm"},
		{Rule{Type: 'c', Major: -1, Minor: -1, Access: "m"}, "c *:* m"},
		{Rule{Type: 'b', Major: 8, Minor: -1, Access: "r"}, "b 8:* r"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v.String() = %v, want %v", tc.r, got, tc.want)
		}
	}
}

func TestApplyV1Devices(t *testing.T) {
	rules := []Rule{
		{Type: 'a', Major: -1, Minor: -1, Access: "rwm"},
		{Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true},
		{Type: 'c', Major: 1, Minor: 5, Access: "w"},
		{Type: 'b', Major: -1, Minor: -1, Access: "m", Allow: true},
	}
	for _, tc := range []struct {
		reset bool
		want  []string
	}{
		{true, []string{"devices.deny=a", "devices.deny=a", "devices.allow=c 1:3 rwm", "devices.deny=c 1:5 w", "devices.allow=b *:* m"}},
		{false, []string{"devices.deny=a", "devices.allow=c 1:3 rwm", "devices.deny=c 1:5 w", "devices.allow=b *:* m"}},
	} {
		f := newFake(t, Legacy, "/")
		dir := filepath.Join(f.root, "devices", "c1")
		f.cgroup(dir, nil)
		if err := applyV1Devices(dir, rules, tc.reset); err != nil {
			t.Fatal(err)
		}
		if got := writesIn(f.takeWrites(), "devices/c1"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("reset=%v: writes = %q, want %q", tc.reset, got, tc.want)
		}
	}
}

func TestProgramGolden(t *testing.T) {
	rules := []Rule{
		{Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true},
		{Type: 'c', Major: 1, Minor: 5, Access: "w"},
		{Type: 'b', Major: -1, Minor: -1, Access: "m", Allow: true},
	}
	// Last rule first; the first one that matches decides.
	const want = `
0: LdXMemW dst: r2 src: r1 off: 0 imm: 0
1: AndImm32 dst: r2 imm: 65535
2: LdXMemW dst: r3 src: r1 off: 0 imm: 0
3: RShImm32 dst: r3 imm: 16
4: LdXMemW dst: r4 src: r1 off: 4 imm: 0
5: LdXMemW dst: r5 src: r1 off: 8 imm: 0
rule2:
6: JNEImm dst: r2 off: -1 imm: 1 <rule1>
7: MovReg32 dst: r6 src: r3
8: AndImm32 dst: r6 imm: 1
9: JNEReg dst: r6 off: -1 src: r3 <rule1>
10: MovImm dst: r0 imm: 1
11: Exit
rule1:
12: JNEImm dst: r2 off: -1 imm: 2 <rule0>
13: MovReg32 dst: r6 src: r3
14: AndImm32 dst: r6 imm: 4
15: JEqImm dst: r6 off: -1 imm: 0 <rule0>
16: JNEImm dst: r4 off: -1 imm: 1 <rule0>
17: JNEImm dst: r5 off: -1 imm: 5 <rule0>
18: MovImm dst: r0 imm: 0
19: Exit
rule0:
20: JNEImm dst: r2 off: -1 imm: 2 <deny>
21: JNEImm dst: r4 off: -1 imm: 1 <deny>
22: JNEImm dst: r5 off: -1 imm: 3 <deny>
23: MovImm dst: r0 imm: 1
24: Exit
deny:
25: MovImm dst: r0 imm: 0
26: Exit
`
	var lines []string
	for _, l := range strings.Split(Program(rules).String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if got := strings.Join(lines, "\n"); got != strings.TrimSpace(want) {
		t.Errorf("program =\n%v\nwant\n%v", got, strings.TrimSpace(want))
	}
}

// device is a request the kernel hands a BPF_PROG_TYPE_CGROUP_DEVICE
// program: a struct bpf_cgroup_dev_ctx.
type device struct {
	typ      byte // 'c' or 'b'
	maj, min uint32
	access   string // of "rwm"
}

func (d device) String() string {
	return fmt.Sprintf("%c %d:%d %s", d.typ, d.maj, d.min, d.access)
}

// run interprets a device program for d with the few instructions
// Program emits: 32-bit loads from the context, 32- and 64-bit
// and/rsh/mov, jeq/jne against an immediate or a register, ja, exit.
// It returns R0.
func run(t *testing.T, insns asm.Instructions, d device) int64 {
	t.Helper()
	typ := uint32(devcgChar)
	if d.typ == 'b' {
		typ = devcgBlock
	}
	ctx := []uint32{typ | uint32(accessBits(d.access))<<16, d.maj, d.min}
	syms, err := insns.SymbolOffsets()
	if err != nil {
		t.Fatal(err)
	}
	var reg [11]uint64
	for pc, steps := 0, 0; ; steps++ {
		if pc < 0 || pc >= len(insns) || steps > 10*len(insns) {
			t.Fatalf("%v: pc %d out of the program (or looping)", d, pc)
		}
		ins := insns[pc]
		op := ins.OpCode
		target := func() int {
			if ref := ins.Reference(); ref != "" {
				to, ok := syms[ref]
				if !ok {
					t.Fatalf("%d: %v: no symbol %s", pc, ins, ref)
				}
				return to
			}
			return pc + 1 + int(ins.Offset)
		}
		src := uint64(int64(ins.Constant))
		if op.Source() == asm.RegSource {
			src = reg[ins.Src]
		}
		switch cls := op.Class(); {
		case cls == asm.LdXClass && op.Mode() == asm.MemMode && op.Size() == asm.Word && ins.Src == asm.R1:
			if ins.Offset%4 != 0 || int(ins.Offset/4) >= len(ctx) {
				t.Fatalf("%d: %v: load outside the context", pc, ins)
			}
			reg[ins.Dst] = uint64(ctx[ins.Offset/4])
			pc++
		case cls.IsALU():
			var v uint64
			switch op.ALUOp() {
			case asm.Mov:
				v = src
			case asm.And:
				v = reg[ins.Dst] & src
			case asm.RSh:
				if cls == asm.ALUClass {
					v = uint64(uint32(reg[ins.Dst]) >> (src & 31))
				} else {
					v = reg[ins.Dst] >> (src & 63)
				}
			default:
				t.Fatalf("%d: %v: ALU op not interpreted", pc, ins)
			}
			if cls == asm.ALUClass {
				v = uint64(uint32(v))
			}
			reg[ins.Dst] = v
			pc++
		case cls == asm.JumpClass:
			switch op.JumpOp() {
			case asm.Exit:
				return int64(reg[asm.R0])
			case asm.Ja:
				pc = target()
			case asm.JEq:
				if reg[ins.Dst] == src {
					pc = target()
				} else {
					pc++
				}
			case asm.JNE:
				if reg[ins.Dst] != src {
					pc = target()
				} else {
					pc++
				}
			default:
				t.Fatalf("%d: %v: jump not interpreted", pc, ins)
			}
		default:
			t.Fatalf("%d: %v: instruction not interpreted", pc, ins)
		}
	}
}

// checkShape fails unless every instruction is reachable (the verifier
// refuses dead code), the program cannot run off its end, and it
// marshals (every jump's symbol exists).
func checkShape(t *testing.T, insns asm.Instructions) {
	t.Helper()
	syms, err := insns.SymbolOffsets()
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, len(insns))
	todo := []int{0}
	for len(todo) > 0 {
		pc := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if pc >= len(insns) {
			t.Errorf("control runs off the end of the program")
			continue
		}
		if seen[pc] {
			continue
		}
		seen[pc] = true
		ins := insns[pc]
		next := []int{pc + 1}
		if op := ins.OpCode; op.Class() == asm.JumpClass {
			switch op.JumpOp() {
			case asm.Exit:
				next = nil
			case asm.Ja:
				next = []int{syms[ins.Reference()]}
			default:
				next = append(next, syms[ins.Reference()])
			}
		}
		todo = append(todo, next...)
	}
	for pc, ok := range seen {
		if !ok {
			t.Errorf("instruction %d (%v) is unreachable", pc, insns[pc])
		}
	}
	if err := insns.Marshal(&bytes.Buffer{}, binary.LittleEndian); err != nil {
		t.Errorf("marshal: %v", err)
	}
}

func TestProgramBehaviour(t *testing.T) {
	allow := func(typ byte, maj, min int64, acc string) Rule {
		return Rule{Type: typ, Major: maj, Minor: min, Access: acc, Allow: true}
	}
	deny := func(typ byte, maj, min int64, acc string) Rule {
		return Rule{Type: typ, Major: maj, Minor: min, Access: acc}
	}
	type check struct {
		d    device
		want int64 // 1 allowed, 0 denied
	}
	for _, tc := range []struct {
		name   string
		rules  []Rule
		checks []check
	}{
		{
			name:  "no rules: deny",
			rules: nil,
			checks: []check{
				{device{'c', 1, 3, "r"}, 0},
				{device{'b', 8, 0, "rw"}, 0},
			},
		},
		{
			name:  "allow c 1:3 rwm",
			rules: []Rule{allow('c', 1, 3, "rwm")},
			checks: []check{
				{device{'c', 1, 3, "r"}, 1},
				{device{'c', 1, 3, "rwm"}, 1},
				{device{'c', 1, 5, "r"}, 0},
				{device{'c', 2, 3, "r"}, 0},
				{device{'b', 1, 3, "r"}, 0},
			},
		},
		{
			name:  "a later deny overrides an earlier allow",
			rules: []Rule{allow('c', 1, 3, "rwm"), deny('c', 1, 3, "rwm")},
			checks: []check{
				{device{'c', 1, 3, "r"}, 0},
			},
		},
		{
			name:  "a later allow overrides an earlier deny",
			rules: []Rule{deny('c', 1, 3, "rwm"), allow('c', 1, 3, "r")},
			checks: []check{
				{device{'c', 1, 3, "r"}, 1},
				{device{'c', 1, 3, "w"}, 0},
			},
		},
		{
			name:  "deny w denies what overlaps",
			rules: []Rule{allow('c', 1, 3, "rwm"), deny('c', 1, 3, "w")},
			checks: []check{
				{device{'c', 1, 3, "r"}, 1},
				{device{'c', 1, 3, "m"}, 1},
				{device{'c', 1, 3, "w"}, 0},
				{device{'c', 1, 3, "rw"}, 0},
			},
		},
		{
			name:  "allow r allows only subsets",
			rules: []Rule{allow('c', 1, 3, "r")},
			checks: []check{
				{device{'c', 1, 3, "r"}, 1},
				{device{'c', 1, 3, "rw"}, 0},
				{device{'c', 1, 3, "w"}, 0},
			},
		},
		{
			name:  "wildcard numbers",
			rules: []Rule{allow('c', -1, -1, "m"), allow('c', 136, -1, "rwm")},
			checks: []check{
				{device{'c', 9, 9, "m"}, 1},
				{device{'c', 9, 9, "r"}, 0},
				{device{'b', 9, 9, "m"}, 0},
				{device{'c', 136, 4, "rw"}, 1},
				{device{'c', 137, 4, "rw"}, 0},
			},
		},
		{
			name:  "type a with access",
			rules: []Rule{allow('a', -1, -1, "r")},
			checks: []check{
				{device{'c', 1, 3, "r"}, 1},
				{device{'b', 8, 0, "r"}, 1},
				{device{'b', 8, 0, "w"}, 0},
			},
		},
		{
			// The "a" rule decides everything below it: earlier rules
			// are left out (no unreachable code).
			name:  "a stops the program",
			rules: []Rule{allow('c', 1, 3, "rwm"), deny('a', -1, -1, "rwm"), allow('c', 1, 5, "rwm")},
			checks: []check{
				{device{'c', 1, 3, "r"}, 0},
				{device{'c', 1, 5, "r"}, 1},
				{device{'b', 8, 0, "r"}, 0},
			},
		},
		{
			name:  "allow a allows all",
			rules: []Rule{deny('c', 1, 3, "rwm"), allow('a', -1, -1, "rwm")},
			checks: []check{
				{device{'c', 1, 3, "r"}, 1},
				{device{'b', 8, 0, "rwm"}, 1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insns := Program(tc.rules)
			checkShape(t, insns)
			for _, c := range tc.checks {
				if got := run(t, insns, c.d); got != c.want {
					t.Errorf("%v: got %v, want %v", c.d, got, c.want)
				}
			}
		})
	}
}

func TestProgramSpecRules(t *testing.T) {
	// What a typical spec gives: deny all, then the defaults and a
	// linux.devices entry.
	i := func(v int64) *int64 { return &v }
	rules, err := Rules([]specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: i(10), Minor: i(200), Access: "rwm"},
	}, []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}})
	if err != nil {
		t.Fatal(err)
	}
	insns := Program(rules)
	checkShape(t, insns)
	// The first rule, deny a, ends the program: no "deny" label.
	if _, ok := mustSyms(t, insns)["deny"]; ok {
		t.Errorf("program has a deny label after a rule for every device")
	}
	for _, c := range []struct {
		d    device
		want int64
	}{
		{device{'c', 1, 3, "rw"}, 1},    // null
		{device{'c', 5, 2, "rw"}, 1},    // ptmx
		{device{'c', 136, 0, "rw"}, 1},  // pts/0
		{device{'c', 10, 200, "rw"}, 1}, // tun, from the spec
		{device{'c', 10, 229, "rw"}, 1}, // fuse, from linux.devices
		{device{'c', 10, 230, "rw"}, 0},
		{device{'b', 8, 0, "r"}, 0},
		{device{'b', 8, 0, "m"}, 1}, // mknod of anything
		{device{'c', 4, 1, "w"}, 0},
	} {
		if got := run(t, insns, c.d); got != c.want {
			t.Errorf("%v: got %v, want %v", c.d, got, c.want)
		}
	}
}

func mustSyms(t *testing.T, insns asm.Instructions) map[string]int {
	t.Helper()
	s, err := insns.SymbolOffsets()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
