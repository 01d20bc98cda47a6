package cgroups

import (
	"fmt"
	"os"
	"strings"

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

// defaultPaths names the device node of the DefaultAllowed rules that
// have one. A linux.devices entry with that path takes the rule's place
// (runc's createDevices, libcontainer/specconv/spec_linux.go:1024-1041),
// so that the user's rules decide about it too.
var defaultPaths = map[Rule]string{
	wildcard('c', 1, 3, "rwm"): "/dev/null",
	wildcard('c', 1, 5, "rwm"): "/dev/zero",
	wildcard('c', 1, 7, "rwm"): "/dev/full",
	wildcard('c', 1, 8, "rwm"): "/dev/random",
	wildcard('c', 1, 9, "rwm"): "/dev/urandom",
	wildcard('c', 5, 0, "rwm"): "/dev/tty",
}

// Rules turns linux.resources.devices into rules, checking each (errors
// name the entry), and adds the devices of linux.devices, which the
// container may use unless those rules say otherwise, and the defaults.
//
// The order decides: the last rule that matches an access wins (Program;
// applyV1Devices writes them in order). runc 1.5 orders the user's rules
// first, then its AllowedDevices (libcontainer/specconv/spec_linux.go:
// CreateCgroupConfig appends them at :990-993, after the user's at
// :837-866), and applies them in that order through its devices
// emulator (cgroups/devices/devices_emulator.go Apply: a rule of type
// "a", whatever its access, resets everything to allow-all or deny-all;
// a later rule overrides an earlier one) on v1 as well as for the v2
// eBPF program (cgroups/devices/devicefilter.go:26-67). runc puts no
// rule at all for linux.devices (createDevices returns only the
// AllowedDevices): there a device the spec lists is unusable unless a
// rule allows it. We allow them, but at the place where the user's
// rules start to matter: right after the user's last "a" rule (the
// "deny all" a spec begins with, or at the start: with no rules
// everything is denied), so that every later rule of the user's, a deny
// of the same device included, overrides the allow. (They used to come
// last, after the defaults, so that a deny of a device in linux.devices
// did nothing: issue 11 item 6.) The defaults stay last, as in runc,
// where users cannot deny them either (cyphar's comment on
// AllowedDevices, spec_linux.go:220-235).
func Rules(spec []specs.LinuxDeviceCgroup, devs []specs.LinuxDevice) ([]Rule, error) {
	var user []Rule
	reset := 0 // the index after the user's last "a" rule
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
		if r.Type == 'a' {
			// All access: the v1 kernel ("a" written to devices.allow
			// or devices.deny) and runc's emulator ignore the access
			// of an "a" rule; Program must not tell it apart either.
			r.Access = "rwm"
			reset = i + 1
		}
		user = append(user, r)
	}
	out := make([]Rule, 0, len(user)+len(devs)+len(DefaultAllowed))
	out = append(out, user[:reset]...)
	listed := map[string]bool{}
	for _, d := range devs {
		listed[d.Path] = true
		switch d.Type {
		case "c", "u":
			out = append(out, wildcard('c', d.Major, d.Minor, "rwm"))
		case "b":
			out = append(out, wildcard('b', d.Major, d.Minor, "rwm"))
		}
	}
	out = append(out, user[reset:]...)
	for _, r := range DefaultAllowed {
		if p, ok := defaultPaths[r]; !ok || !listed[p] {
			out = append(out, r)
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
//
// Each rule is one block of checks, each jumping past the block's end
// (to the next rule's block, or the final deny) when it fails, so a
// jump's offset is known as soon as its block is: the kernel counts it
// from the instruction after the jump.
func Program(rules []Rule) []Insn {
	insns := []Insn{
		// R2 = type, R3 = access, R4 = major, R5 = minor
		ldxW(R2, R1, 0),
		and32Imm(R2, 0xffff),
		ldxW(R3, R1, 0),
		rsh32Imm(R3, 16),
		ldxW(R4, R1, 4),
		ldxW(R5, R1, 8),
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		var block []Insn
		var toNext []int // the jumps to the end of block
		check := func(jump Insn) {
			toNext = append(toNext, len(block))
			block = append(block, jump)
		}
		switch r.Type {
		case 'c':
			check(jneImm(R2, devcgChar, 0))
		case 'b':
			check(jneImm(R2, devcgBlock, 0))
		}
		if acc := accessBits(r.Access); acc != accMknod|accRead|accWrite {
			block = append(block, mov32Reg(R6, R3), and32Imm(R6, acc))
			if r.Allow {
				check(jneReg(R6, R3, 0))
			} else {
				check(jeqImm(R6, 0, 0))
			}
		}
		if r.Major >= 0 {
			check(jneImm(R4, int32(r.Major), 0))
		}
		if r.Minor >= 0 {
			check(jneImm(R5, int32(r.Minor), 0))
		}
		allow := int32(0)
		if r.Allow {
			allow = 1
		}
		unconditional := len(block) == 0
		block = append(block, mov64Imm(R0, allow), exit())
		for _, j := range toNext {
			block[j].Off = int16(len(block) - (j + 1))
		}
		insns = append(insns, block...)
		if unconditional {
			// A rule matching everything ("a", rwm: the usual
			// deny-all first rule) decides every access that gets
			// this far; the verifier rejects the unreachable code
			// that would follow.
			return insns
		}
	}
	return append(insns, mov64Imm(R0, 0), exit()) // deny
}

// attachDeviceFilter loads the program and attaches it to the cgroup
// dir; our programs attached before (by an earlier update) are detached
// once the new one is in place, so there is never a moment without a
// filter.
func attachDeviceFilter(dir string, rules []Rule) error {
	prog, err := loadDeviceProgram(Program(rules))
	if err != nil {
		return fmt.Errorf("linux.resources.devices: load device filter: %w", err)
	}
	defer unix.Close(prog)
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	cgroup := int(f.Fd())
	// An error leaves old empty: programs we cannot list stay attached.
	// That is safe, as every attached program must allow an access:
	// they can only deny more than the new rules, never allow more.
	old, _ := queryDevicePrograms(cgroup)
	if err := attachDeviceProgram(cgroup, prog); err != nil {
		return fmt.Errorf("linux.resources.devices: attach device filter to %s: %w", dir, err)
	}
	for _, id := range old {
		fd, err := progFdByID(id)
		if err != nil {
			continue // detached meanwhile
		}
		// Only ours: under the systemd driver systemd attaches its own
		// program (sd_devices) from the unit's DeviceAllow and replaces
		// it itself; detaching it would leave systemd believing in a
		// program that is gone. A name we cannot read is taken for ours.
		if name, err := progName(fd); err != nil || name == deviceProgName {
			detachDeviceProgram(cgroup, fd)
		}
		unix.Close(fd)
	}
	return nil
}

// applyV1Devices writes the rules, in order, to devices.allow and
// devices.deny: the v1 controller keeps the same "later rule wins"
// semantics when fed one rule at a time. reset first denies everything
// (an update replaces the whole list).
func (fs *fsys) applyV1Devices(dir string, rules []Rule, reset bool) error {
	if reset {
		if err := fs.write(dir, "devices.deny", "a", "linux.resources.devices"); err != nil {
			return err
		}
	}
	for _, r := range rules {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		if err := fs.write(dir, file, r.String(), "linux.resources.devices"); err != nil {
			return err
		}
	}
	return nil
}
