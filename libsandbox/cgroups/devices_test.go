package cgroups

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

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
			name: "linux.devices after the deny all, before the user's other rules",
			spec: []specs.LinuxDeviceCgroup{
				{Allow: false},
				{Allow: false, Type: "c", Major: i(10), Minor: i(229), Access: "rwm"},
			},
			devs: []specs.LinuxDevice{
				{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229},
				{Path: "/dev/tty0", Type: "u", Major: 4, Minor: 0},
				{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0},
				{Path: "/dev/fifo", Type: "p"}, // no device number: no rule
			},
			want: withDefaults(
				Rule{Type: 'a', Major: -1, Minor: -1, Access: "rwm"},
				Rule{Type: 'c', Major: 10, Minor: 229, Access: "rwm", Allow: true},
				Rule{Type: 'c', Major: 4, Minor: 0, Access: "rwm", Allow: true},
				Rule{Type: 'b', Major: 8, Minor: 0, Access: "rwm", Allow: true},
				Rule{Type: 'c', Major: 10, Minor: 229, Access: "rwm"},
			),
		},
		{
			name: "linux.devices after the last a rule; no rules: first",
			spec: []specs.LinuxDeviceCgroup{
				{Allow: true, Type: "c", Major: i(1), Minor: i(11), Access: "r"},
				{Allow: false, Type: "a", Access: "w"}, // an a rule is all access
				{Allow: false, Type: "c", Major: i(10), Minor: i(229), Access: "w"},
			},
			devs: []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}},
			want: withDefaults(
				Rule{Type: 'c', Major: 1, Minor: 11, Access: "r", Allow: true},
				Rule{Type: 'a', Major: -1, Minor: -1, Access: "rwm"},
				Rule{Type: 'c', Major: 10, Minor: 229, Access: "rwm", Allow: true},
				Rule{Type: 'c', Major: 10, Minor: 229, Access: "w"},
			),
		},
		{
			name: "no user rules: linux.devices first",
			devs: []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}},
			want: withDefaults(Rule{Type: 'c', Major: 10, Minor: 229, Access: "rwm", Allow: true}),
		},
		{
			// As in runc: the spec's /dev/null replaces the default
			// rule, so that a deny of it holds.
			name: "a default device in linux.devices leaves the defaults",
			spec: []specs.LinuxDeviceCgroup{
				{Allow: false},
				{Allow: false, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"},
			},
			devs: []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}},
			want: append([]Rule{
				{Type: 'a', Major: -1, Minor: -1, Access: "rwm"},
				{Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true},
				{Type: 'c', Major: 1, Minor: 3, Access: "rwm"},
			}, without(DefaultAllowed, Rule{Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true})...),
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

// without returns rules without r.
func without(rules []Rule, r Rule) []Rule {
	var out []Rule
	for _, x := range rules {
		if x != r {
			out = append(out, x)
		}
	}
	return out
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
		if err := f.fs.applyV1Devices(dir, rules, tc.reset); err != nil {
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
	// Last rule first; the first one that matches decides. A failed
	// check jumps to the next rule's first instruction (the kernel
	// counts the offset from the instruction after the jump).
	const want = `
0: r2 = *(u32 *)(r1 + 0)
1: w2 &= 65535
2: r3 = *(u32 *)(r1 + 0)
3: w3 >>= 16
4: r4 = *(u32 *)(r1 + 4)
5: r5 = *(u32 *)(r1 + 8)
6: if r2 != 1 goto +5
7: w6 = w3
8: w6 &= 1
9: if r6 != r3 goto +2
10: r0 = 1
11: exit
12: if r2 != 2 goto +7
13: w6 = w3
14: w6 &= 4
15: if r6 == 0 goto +4
16: if r4 != 1 goto +3
17: if r5 != 5 goto +2
18: r0 = 0
19: exit
20: if r2 != 2 goto +4
21: if r4 != 1 goto +3
22: if r5 != 3 goto +2
23: r0 = 1
24: exit
25: r0 = 0
26: exit
`
	var lines []string
	for pc, ins := range Program(rules) {
		lines = append(lines, fmt.Sprintf("%d: %s", pc, disasm(ins)))
	}
	if got := strings.Join(lines, "\n"); got != strings.TrimSpace(want) {
		t.Errorf("program =\n%v\nwant\n%v", got, strings.TrimSpace(want))
	}
}

// TestInsnEncoding checks the bytes the kernel reads for each
// constructor against struct bpf_insn encodings written out by hand
// (opcode, dst|src<<4, off le16, imm le32), as the loader passes the
// slice's memory itself. The runtime is built for little-endian hosts.
func TestInsnEncoding(t *testing.T) {
	if unsafe.Sizeof(Insn{}) != 8 {
		t.Fatalf("sizeof(Insn) = %d, want 8", unsafe.Sizeof(Insn{}))
	}
	for _, tc := range []struct {
		ins  Insn
		want string
	}{
		{ldxW(R2, R1, 0), "6112000000000000"},
		{ldxW(R5, R1, 8), "6115080000000000"},
		{and32Imm(R2, 0xffff), "54020000ffff0000"},
		{rsh32Imm(R3, 16), "7403000010000000"},
		{mov32Reg(R6, R3), "bc36000000000000"},
		{mov64Imm(R0, 1), "b700000001000000"},
		{jneImm(R2, 1, 5), "5502050001000000"},
		{jneImm(R4, 136, -2), "5504feff88000000"},
		{jeqImm(R6, 0, 4), "1506040000000000"},
		{jneReg(R6, R3, 2), "5d36020000000000"},
		{exit(), "9500000000000000"},
	} {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&tc.ins)), 8)
		if got := hex.EncodeToString(b); got != tc.want {
			t.Errorf("%s: bytes %s, want %s", disasm(tc.ins), got, tc.want)
		}
	}
}

// disasm prints an instruction in the verifier log's syntax, decoding
// the opcode's bits (not trusting our constructors' names).
func disasm(ins Insn) string {
	dst, src := ins.Regs&0x0f, ins.Regs>>4
	operand := fmt.Sprint(ins.Imm)
	if ins.Op&srcX != 0 {
		operand = fmt.Sprintf("r%d", src)
	}
	switch cls := ins.Op & 0x07; cls {
	case classLDX:
		if ins.Op == classLDX|sizeW|modeMEM {
			return fmt.Sprintf("r%d = *(u32 *)(r%d + %d)", dst, src, ins.Off)
		}
	case classALU, classALU64:
		r := "r"
		if cls == classALU {
			r = "w"
			if ins.Op&srcX != 0 {
				operand = fmt.Sprintf("w%d", src)
			}
		}
		op := map[uint8]string{aluAND: "&=", aluRSH: ">>=", aluMOV: "="}[ins.Op&0xf0]
		if op != "" {
			return fmt.Sprintf("%s%d %s %s", r, dst, op, operand)
		}
	case classJMP:
		if ins.Op == classJMP|jmpEXIT {
			return "exit"
		}
		op := map[uint8]string{jmpJEQ: "==", jmpJNE: "!="}[ins.Op&0xf0]
		if op != "" {
			return fmt.Sprintf("if r%d %s %s goto %+d", dst, op, operand, ins.Off)
		}
	}
	return fmt.Sprintf("unknown %02x %02x %d %d", ins.Op, ins.Regs, ins.Off, ins.Imm)
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

// run interprets a device program for d, decoding the raw instructions
// the way the kernel does, for the few kinds Program emits: 32-bit
// loads from the context, 32- and 64-bit and/rsh/mov, jeq/jne against
// an immediate or a register, exit. It returns R0.
func run(t *testing.T, insns []Insn, d device) int64 {
	t.Helper()
	typ := uint32(devcgChar)
	if d.typ == 'b' {
		typ = devcgBlock
	}
	ctx := []uint32{typ | uint32(accessBits(d.access))<<16, d.maj, d.min}
	var reg [11]uint64
	for pc, steps := 0, 0; ; steps++ {
		if pc < 0 || pc >= len(insns) || steps > 10*len(insns) {
			t.Fatalf("%v: pc %d out of the program (or looping)", d, pc)
		}
		ins := insns[pc]
		dst, srcReg := ins.Regs&0x0f, ins.Regs>>4
		if dst > 10 || srcReg > 10 {
			t.Fatalf("%d: %s: no such register", pc, disasm(ins))
		}
		src := uint64(int64(ins.Imm)) // sign-extended, as the kernel does
		if ins.Op&srcX != 0 {
			src = reg[srcReg]
		}
		switch cls := ins.Op & 0x07; {
		case ins.Op == classLDX|sizeW|modeMEM && srcReg == uint8(R1):
			if ins.Off%4 != 0 || ins.Off < 0 || int(ins.Off/4) >= len(ctx) {
				t.Fatalf("%d: %s: load outside the context", pc, disasm(ins))
			}
			reg[dst] = uint64(ctx[ins.Off/4])
			pc++
		case cls == classALU || cls == classALU64:
			var v uint64
			switch ins.Op & 0xf0 {
			case aluMOV:
				v = src
			case aluAND:
				v = reg[dst] & src
			case aluRSH:
				if cls == classALU {
					v = uint64(uint32(reg[dst]) >> (src & 31))
				} else {
					v = reg[dst] >> (src & 63)
				}
			default:
				t.Fatalf("%d: %s: ALU op not interpreted", pc, disasm(ins))
			}
			if cls == classALU {
				v = uint64(uint32(v))
			}
			reg[dst] = v
			pc++
		case cls == classJMP:
			var taken bool
			switch ins.Op & 0xf0 {
			case jmpEXIT:
				return int64(reg[R0])
			case jmpJEQ:
				taken = reg[dst] == src
			case jmpJNE:
				taken = reg[dst] != src
			default:
				t.Fatalf("%d: %s: jump not interpreted", pc, disasm(ins))
			}
			pc++
			if taken {
				pc += int(ins.Off)
			}
		default:
			t.Fatalf("%d: %s: instruction not interpreted", pc, disasm(ins))
		}
	}
}

// checkShape fails unless every instruction is reachable (the verifier
// refuses dead code), every jump lands inside the program, and control
// cannot run off its end.
func checkShape(t *testing.T, insns []Insn) {
	t.Helper()
	seen := make([]bool, len(insns))
	todo := []int{0}
	for len(todo) > 0 {
		pc := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if pc < 0 || pc >= len(insns) {
			t.Errorf("control leaves the program (to %d of %d)", pc, len(insns))
			continue
		}
		if seen[pc] {
			continue
		}
		seen[pc] = true
		ins := insns[pc]
		next := []int{pc + 1}
		if ins.Op&0x07 == classJMP {
			switch ins.Op & 0xf0 {
			case jmpEXIT:
				next = nil
			default: // conditional: both ways
				next = append(next, pc+1+int(ins.Off))
			}
		}
		todo = append(todo, next...)
	}
	for pc, ok := range seen {
		if !ok {
			t.Errorf("instruction %d (%s) is unreachable", pc, disasm(insns[pc]))
		}
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
	// The first rule, deny a, ends the program: its two instructions
	// take the place of the final deny, which would be unreachable.
	if got, want := len(insns), len(Program(rules[1:])); got != want {
		t.Errorf("program has %d instructions, want %d (as without the deny-all rule)", got, want)
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

// A device in linux.devices that the user's rules deny stays denied, on
// v2 (the program) and on v1 (the deny is written after the allow, and
// the kernel's devices.deny takes the access out of the exception the
// allow made); without the deny it is allowed. Issue 11 item 6.
func TestRulesUserDenyWins(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	kmsg := []specs.LinuxDevice{{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}}
	denyAll := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	for _, tc := range []struct {
		name string
		spec []specs.LinuxDeviceCgroup
		want int64
		// v1 are the writes for c 1:11, in order.
		v1 []string
	}{
		{"listed", []specs.LinuxDeviceCgroup{denyAll}, 1, []string{"devices.allow=c 1:11 rwm"}},
		{
			"listed and denied",
			[]specs.LinuxDeviceCgroup{denyAll, {Allow: false, Type: "c", Major: i(1), Minor: i(11), Access: "rwm"}},
			0,
			[]string{"devices.allow=c 1:11 rwm", "devices.deny=c 1:11 rwm"},
		},
		{
			"listed, read denied",
			[]specs.LinuxDeviceCgroup{denyAll, {Allow: false, Type: "c", Major: i(1), Minor: i(11), Access: "r"}},
			0,
			[]string{"devices.allow=c 1:11 rwm", "devices.deny=c 1:11 r"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := Rules(tc.spec, kmsg)
			if err != nil {
				t.Fatal(err)
			}
			insns := Program(rules)
			checkShape(t, insns)
			if got := run(t, insns, device{'c', 1, 11, "r"}); got != tc.want {
				t.Errorf("v2: read c 1:11: got %v, want %v", got, tc.want)
			}
			if got := run(t, insns, device{'c', 1, 3, "rw"}); got != 1 {
				t.Errorf("v2: /dev/null: got %v, want 1", got)
			}

			f := newFake(t, Legacy, "/")
			dir := filepath.Join(f.root, "devices", "c1")
			f.cgroup(dir, nil)
			if err := f.fs.applyV1Devices(dir, rules, true); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range writesIn(f.takeWrites(), "devices/c1") {
				if strings.Contains(w, "c 1:11 ") {
					got = append(got, w)
				}
			}
			if !reflect.DeepEqual(got, tc.v1) {
				t.Errorf("v1: writes for c 1:11 = %q, want %q", got, tc.v1)
			}
		})
	}
}
