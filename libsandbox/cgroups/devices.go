package cgroups

import (
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Rule is one device cgroup rule.
type Rule struct {
	Type   byte  // 'a' (all), 'c' or 'b'
	Major  int64 // -1: any
	Minor  int64 // -1: any
	Access string
	Allow  bool
}

func (r Rule) String() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return fmt.Sprint(n)
	}
	if r.Type == 'a' {
		return "a"
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}

func wildcard(t byte, maj, min int64, acc string) Rule {
	return Rule{Type: t, Major: maj, Minor: min, Access: acc, Allow: true}
}

// DefaultAllowed are the devices every container may use, appended after
// the spec's rules as runc does: mknod of anything (the device must still
// be allowed to be opened), the runtime-spec default devices, the pty
// multiplexer and the ptys.
var DefaultAllowed = []Rule{
	wildcard('c', -1, -1, "m"),
	wildcard('b', -1, -1, "m"),
	wildcard('c', 1, 3, "rwm"),    // null
	wildcard('c', 1, 5, "rwm"),    // zero
	wildcard('c', 1, 7, "rwm"),    // full
	wildcard('c', 1, 8, "rwm"),    // random
	wildcard('c', 1, 9, "rwm"),    // urandom
	wildcard('c', 5, 0, "rwm"),    // tty
	wildcard('c', 5, 2, "rwm"),    // ptmx
	wildcard('c', 136, -1, "rwm"), // pts/*
}

// Rules turns linux.resources.devices into rules, checking each (errors
// name the entry), then appends the default devices and the devices of
// linux.devices, which the container must be able to use.
func Rules(spec []specs.LinuxDeviceCgroup, devs []specs.LinuxDevice) ([]Rule, error) {
	var out []Rule
	for i, d := range spec {
		field := fmt.Sprintf("linux.resources.devices[%d]", i)
		r := Rule{Type: 'a', Major: -1, Minor: -1, Access: d.Access, Allow: d.Allow}
		switch d.Type {
		case "", "a":
		case "c", "b":
			r.Type = d.Type[0]
		default:
			return nil, fmt.Errorf("%s.type %q: must be a, c or b", field, d.Type)
		}
		if d.Major != nil {
			r.Major = *d.Major
		}
		if d.Minor != nil {
			r.Minor = *d.Minor
		}
		if r.Major < -1 || r.Minor < -1 {
			return nil, fmt.Errorf("%s: negative major or minor number", field)
		}
		if r.Access == "" {
			r.Access = "rwm"
		}
		for _, c := range r.Access {
			if !strings.ContainsRune("rwm", c) {
				return nil, fmt.Errorf("%s.access %q: only r, w and m are allowed", field, d.Access)
			}
		}
		out = append(out, r)
	}
	out = append(out, DefaultAllowed...)
	for _, d := range devs {
		switch d.Type {
		case "c", "u":
			out = append(out, wildcard('c', d.Major, d.Minor, "rwm"))
		case "b":
			out = append(out, wildcard('b', d.Major, d.Minor, "rwm"))
		}
	}
	return out, nil
}

// Constants of struct bpf_cgroup_dev_ctx (include/uapi/linux/bpf.h).
const (
	devcgBlock = 1
	devcgChar  = 2
	accMknod   = 1
	accRead    = 2
	accWrite   = 4
)

func accessBits(a string) int32 {
	var b int32
	for _, c := range a {
		switch c {
		case 'm':
			b |= accMknod
		case 'r':
			b |= accRead
		case 'w':
			b |= accWrite
		}
	}
	return b
}

// Program compiles rules into a BPF_PROG_TYPE_CGROUP_DEVICE program. The
// runtime spec's rules are ordered and a later rule overrides an earlier
// one, so the program tries them last to first and the first match
// decides; nothing matching is denied. An allow rule matches when the
// requested access is a subset of its access; a deny rule as soon as the
// two overlap (safer than runc's subset test for deny rules).
func Program(rules []Rule) asm.Instructions {
	insts := asm.Instructions{
		// R2 = type, R3 = access, R4 = major, R5 = minor
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.And.Imm32(asm.R2, 0xffff),
		asm.LoadMem(asm.R3, asm.R1, 0, asm.Word),
		asm.RSh.Imm32(asm.R3, 16),
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word),
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word),
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		next := fmt.Sprintf("rule%d", i-1)
		if i == 0 {
			next = "deny"
		}
		var block asm.Instructions
		switch r.Type {
		case 'c':
			block = append(block, asm.JNE.Imm(asm.R2, devcgChar, next))
		case 'b':
			block = append(block, asm.JNE.Imm(asm.R2, devcgBlock, next))
		}
		if acc := accessBits(r.Access); acc != accMknod|accRead|accWrite {
			block = append(block, asm.Mov.Reg32(asm.R6, asm.R3), asm.And.Imm32(asm.R6, acc))
			if r.Allow {
				block = append(block, asm.JNE.Reg(asm.R6, asm.R3, next))
			} else {
				block = append(block, asm.JEq.Imm(asm.R6, 0, next))
			}
		}
		if r.Major >= 0 {
			block = append(block, asm.JNE.Imm(asm.R4, int32(r.Major), next))
		}
		if r.Minor >= 0 {
			block = append(block, asm.JNE.Imm(asm.R5, int32(r.Minor), next))
		}
		allow := int32(0)
		if r.Allow {
			allow = 1
		}
		unconditional := len(block) == 0
		block = append(block, asm.Mov.Imm(asm.R0, allow), asm.Return())
		block[0] = block[0].WithSymbol(fmt.Sprintf("rule%d", i))
		insts = append(insts, block...)
		if unconditional {
			// A rule matching everything ("a", rwm: the usual
			// deny-all first rule) decides every access that gets
			// this far; the verifier rejects the unreachable code
			// that would follow.
			return insts
		}
	}
	insts = append(insts, asm.Mov.Imm(asm.R0, 0).WithSymbol("deny"), asm.Return())
	return insts
}

// attachDeviceFilter loads the program and attaches it to the cgroup
// dir; programs attached before (by an earlier update) are detached once
// the new one is in place, so there is never a moment without a filter.
func attachDeviceFilter(dir string, rules []Rule) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.CGroupDevice,
		Instructions: Program(rules),
		License:      "Apache-2.0",
	})
	if err != nil {
		return fmt.Errorf("linux.resources.devices: load device filter: %w", err)
	}
	defer prog.Close()
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	old, _ := link.QueryPrograms(link.QueryOptions{Target: int(f.Fd()), Attach: ebpf.AttachCGroupDevice})
	if err := link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  int(f.Fd()),
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	}); err != nil {
		return fmt.Errorf("linux.resources.devices: attach device filter to %s: %w", dir, err)
	}
	if old != nil {
		for _, p := range old.Programs {
			op, err := ebpf.NewProgramFromID(p.ID)
			if err != nil {
				continue
			}
			link.RawDetachProgram(link.RawDetachProgramOptions{Target: int(f.Fd()), Program: op, Attach: ebpf.AttachCGroupDevice})
			op.Close()
		}
	}
	return nil
}

// applyV1Devices writes the rules, in order, to devices.allow and
// devices.deny: the v1 controller keeps the same "later rule wins"
// semantics when fed one rule at a time. reset first denies everything
// (an update replaces the whole list).
func applyV1Devices(dir string, rules []Rule, reset bool) error {
	if reset {
		if err := write(dir, "devices.deny", "a", "linux.resources.devices"); err != nil {
			return err
		}
	}
	for _, r := range rules {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		if err := write(dir, file, r.String(), "linux.resources.devices"); err != nil {
			return err
		}
	}
	return nil
}
