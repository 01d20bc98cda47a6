package seccomp

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The filter compiler: the runtime's own, where runc and crun call
// libseccomp. Its meaning is libseccomp's (2.5, what runc and crun link
// on the distributions we meet), and the tests check it against
// libseccomp on the real profiles and on random ones
// (TestCompileMatchesLibseccomp, which runs both programs through a BPF
// interpreter on every interesting syscall number and argument):
//
//   - A section per architecture of the filter: the native one, and those
//     of linux.seccomp.architectures this kernel can run (x86 and x32 on
//     x86_64, arm on aarch64). seccomp_data.arch can carry no other value
//     here, so the sections libseccomp builds for other architectures can
//     never run: they are left out. A syscall of an architecture without
//     a section gets KILL_THREAD, libseccomp's default "bad arch" action.
//     On x86_64 without x32 a number from __X32_SYSCALL_BIT up is one
//     (libseccomp's jge; above the bit the kernel answers ENOSYS anyway),
//     but for -1 (a tracer's skipped syscall), which gets the default
//     action.
//   - A name is looked up per architecture in systab (generated from
//     libseccomp's tables); a name absent there adds nothing there. On x86
//     a socketcall(2)/ipc(2) call (socket, semop...) is also a rule on the
//     multiplexer for that call (muxRule: there we part from libseccomp,
//     which a versioned ipc call or a conditional rule got around).
//   - A rule whose action is the default action is dropped before
//     anything else, as runc does (libseccomp refuses such rules): it
//     does not shadow a later rule of another action for its syscall.
//   - A rule without conditions decides its syscall: the first such rule
//     wins, and conditional rules of that syscall are dropped. Otherwise
//     the conditional rules are tried in the profile's order, the first
//     whose conditions all hold deciding, else the default action.
//     (libseccomp orders rules of different actions by its own tree, or
//     refuses some with EEXIST; the runtime-spec gives no order, and
//     profiles do not rely on one: Docker's and podman's give a syscall's
//     conditional rules one action, or disjoint conditions.)
//   - Conditions compare the 64-bit argument on 64-bit architectures; on
//     32-bit ones (x86, x32, arm) only its low 32 bits, against the low
//     32 bits of the value (and of the mask): libseccomp's
//     _db_rule_gen_32. (x32's syscalls that have 64-bit entry points see
//     the whole register, so a rule on x32 that hangs on an argument's
//     high half is not enforced there, as under libseccomp; x32 is off
//     in most kernels: syscall.x32.) SCMP_CMP_MASKED_EQ is (arg & mask)
//     == (value & mask), and with a zero mask it is no condition at all.
//
// The program: load seccomp_data.arch, a jeq per section, else the bad
// arch action; in a section, load the number and find its verdict by a
// binary search over ranges of numbers that share one (a few jge where
// libseccomp's program runs a jeq per syscall), a verdict being a return
// or, for a syscall with conditional rules, their comparisons.

// Return values (linux/seccomp.h SECCOMP_RET_*).
const (
	retKillProcess = 0x80000000
	retKillThread  = 0x00000000
	retTrap        = 0x00030000
	retErrnoBase   = 0x00050000
	retUserNotif   = 0x7fc00000
	retTraceBase   = 0x7ff00000
	retLog         = 0x7ffc0000
	retAllow       = 0x7fff0000

	retBadArch = retKillThread // libseccomp's SCMP_FLTATR_ACT_BADARCH default
)

// struct seccomp_data.
const (
	offsetNr   = 0
	offsetArch = 4
	offsetArgs = 16
)

type archInfo struct {
	audit  uint32
	bits32 bool
}

var archInfos = [nTableArchs]archInfo{
	archX86_64:  {audit: auditArchX86_64},
	archX86:     {audit: auditArchI386, bits32: true},
	archX32:     {audit: auditArchX86_64, bits32: true},
	archAARCH64: {audit: auditArchAARCH64},
	archARM:     {audit: auditArchARM, bits32: true},
	archRISCV64: {audit: auditArchRISCV64},
}

// specTableArch is the table architecture of a spec name.
var specTableArch = map[specs.Arch]tableArch{
	specs.ArchX86_64:  archX86_64,
	specs.ArchX86:     archX86,
	specs.ArchX32:     archX32,
	specs.ArchAARCH64: archAARCH64,
	specs.ArchARM:     archARM,
	specs.ArchRISCV64: archRISCV64,
}

// family is the architectures a kernel of this build's architecture can
// run, native first.
func family(goarch string) ([]tableArch, error) {
	switch goarch {
	case "amd64":
		return []tableArch{archX86_64, archX86, archX32}, nil
	case "arm64":
		return []tableArch{archAARCH64, archARM}, nil
	case "riscv64":
		return []tableArch{archRISCV64}, nil
	}
	return nil, fmt.Errorf("linux.seccomp: not supported on %s", goarch)
}

// cond is one comparison, already cut to the architecture's width.
type cond struct {
	index       uint
	op          specs.LinuxSeccompOperator
	value, mask uint64
}

type condRule struct {
	conds []cond
	ret   uint32
}

// sysRules are one syscall number's rules in a section.
type sysRules struct {
	uncond bool
	ret    uint32 // when uncond
	cond   []condRule
	bits32 bool
}

// section is the rules of one audit architecture (x86_64 and x32 share
// one: x32's numbers carry __X32_SYSCALL_BIT).
type section struct {
	audit uint32
	rules map[uint32]*sysRules
}

// filterRules collects a profile's rules per section.
type filterRules struct {
	def      uint32
	sections []*section
	byArch   [nTableArchs]*section
}

func newFilterRules(def uint32, archs []tableArch) *filterRules {
	f := &filterRules{def: def}
	for _, a := range archs {
		if f.byArch[a] != nil {
			continue
		}
		info := archInfos[a]
		var s *section
		for _, x := range f.sections {
			if x.audit == info.audit {
				s = x
			}
		}
		if s == nil {
			s = &section{audit: info.audit, rules: make(map[uint32]*sysRules, 512)}
			f.sections = append(f.sections, s)
		}
		f.byArch[a] = s
	}
	return f
}

// add adds a rule for name to every section where it is a syscall;
// known reports whether it is one on any architecture of systab.
func (f *filterRules) add(name string, ret uint32, args []specs.LinuxSeccompArg) (known bool) {
	e := sysLookup(name)
	if e == nil {
		return false
	}
	for a, s := range f.byArch {
		if s == nil {
			continue
		}
		bits32 := archInfos[a].bits32
		if nr := e.nr[a]; nr >= 0 {
			s.add(uint32(nr), bits32, ret, cut(args, bits32))
		}
		if tableArch(a) == archX86 && e.mux != 0 {
			if nr, margs, ok := muxRule(e, ret, cut(args, bits32)); ok {
				s.add(nr, bits32, ret, cut(margs, bits32))
			}
		}
	}
	return true
}

// muxRule is the rule on x86's multiplexer for a rule on one of its
// calls (a name whose entry has mux set), with the rule's conditions
// already cut (conds): the multiplexer's number and its condition on
// argument 0, or ok false for none.
//
// The call is argument 0 of socketcall(2), and the low 16 bits of
// argument 0 of ipc(2): the kernel's ksys_ipc takes the high bits as a
// version (libseccomp compares all of argument 0 with the call, so that
// ipc(0x10001), semop, escaped a rule on semop). The call's own
// arguments are behind socketcall's pointer or shifted by one in ipc's,
// where no filter can compare them (libseccomp compares the
// multiplexer's argument 1-5 as if they were the call's, which makes a
// conditional rule mean something else there): a conditional rule that
// allows (ALLOW, LOG) adds nothing to the multiplexer, whose own rules or
// the default judge such calls, and one that refuses or hands the call
// over (ERRNO, KILL, TRAP, TRACE, NOTIFY) takes the whole call through
// the multiplexer. Either way a condition the filter cannot see never
// lets a call through.
func muxRule(e *sysEntry, ret uint32, conds []cond) (nr uint32, args []specs.LinuxSeccompArg, ok bool) {
	if len(conds) > 0 && (ret == retAllow || ret == retLog) {
		return 0, nil, false
	}
	if e.mux > 200 {
		return uint32(sysNumber("ipc", archX86)), []specs.LinuxSeccompArg{
			{Index: 0, Op: specs.OpMaskedEqual, Value: 0xffff, ValueTwo: uint64(e.mux - 200)}}, true
	}
	return uint32(sysNumber("socketcall", archX86)), []specs.LinuxSeccompArg{
		{Index: 0, Op: specs.OpEqualTo, Value: uint64(e.mux - 100)}}, true
}

// cut turns spec conditions into comparisons of the architecture's
// width, leaving out the masked comparisons with a zero mask (always
// true).
func cut(args []specs.LinuxSeccompArg, bits32 bool) []cond {
	var out []cond
	for _, a := range args {
		c := cond{index: a.Index, op: a.Op, value: a.Value}
		if a.Op == specs.OpMaskedEqual {
			c.mask, c.value = a.Value, a.ValueTwo
			if bits32 {
				c.mask &= 0xffffffff
			}
			if c.mask == 0 {
				continue
			}
			c.value &= c.mask
		}
		if bits32 {
			c.value &= 0xffffffff
		}
		out = append(out, c)
	}
	return out
}

func (s *section) add(nr uint32, bits32 bool, ret uint32, conds []cond) {
	r := s.rules[nr]
	if r == nil {
		r = &sysRules{bits32: bits32}
		s.rules[nr] = r
	}
	switch {
	case r.uncond:
		// The first rule without conditions decided.
	case len(conds) == 0:
		r.uncond, r.ret, r.cond = true, ret, nil
	default:
		r.cond = append(r.cond, condRule{conds: conds, ret: ret})
	}
}

// verdict is what a range of syscall numbers gets: a return, or the
// conditional rules of one number.
type verdict struct {
	ret   uint32
	rules *sysRules
}

type segment struct {
	lo uint32 // the range is lo up to the next segment's lo
	v  verdict
}

// segments partitions the 32-bit syscall numbers of a section into
// ranges of one verdict, in order.
func (f *filterRules) segments(s *section) []segment {
	// Without x32 on x86_64 the x32 numbers are a bad architecture
	// (but -1): libseccomp's "filter out x32".
	x32Bad := s.audit == auditArchX86_64 && f.byArch[archX32] == nil
	base := func(nr uint32) verdict {
		if x32Bad && nr >= x32SyscallBit && nr != 0xffffffff {
			return verdict{ret: retBadArch}
		}
		return verdict{ret: f.def}
	}
	starts := make([]uint32, 0, 2*len(s.rules)+3)
	starts = append(starts, 0)
	if x32Bad {
		starts = append(starts, x32SyscallBit, 0xffffffff)
	}
	for nr := range s.rules {
		starts = append(starts, nr)
		if nr != 0xffffffff {
			starts = append(starts, nr+1)
		}
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	var out []segment
	for _, lo := range starts {
		v := base(lo)
		if r := s.rules[lo]; r != nil {
			if r.uncond {
				v = verdict{ret: r.ret}
			} else {
				v = verdict{rules: r}
			}
		}
		if n := len(out); n > 0 && v.rules == nil && out[n-1].v.rules == nil && out[n-1].v.ret == v.ret {
			continue // the same return as the range before: one range
		}
		out = append(out, segment{lo: lo, v: v})
	}
	return out
}

// program compiles the collected rules.
func (f *filterRules) program() ([]byte, error) {
	a := &asm{}
	a.ld(offsetArch)
	blocks := make([]label, len(f.sections))
	for i, s := range f.sections {
		blocks[i] = a.newLabel()
		next := a.newLabel()
		a.jcc(bpfJeqK, s.audit, blocks[i], next)
		a.place(next)
	}
	a.ret(retBadArch)
	for i, s := range f.sections {
		a.place(blocks[i])
		a.ld(offsetNr)
		f.tree(a, f.segments(s))
	}
	return a.assemble()
}

// tree emits a binary search over segs (the number is in A).
func (f *filterRules) tree(a *asm, segs []segment) {
	if len(segs) == 1 {
		f.verdict(a, segs[0].v)
		return
	}
	mid := len(segs) / 2
	left, right := a.newLabel(), a.newLabel()
	a.jcc(bpfJgeK, segs[mid].lo, right, left)
	a.place(left)
	f.tree(a, segs[:mid])
	a.place(right)
	f.tree(a, segs[mid:])
}

func (f *filterRules) verdict(a *asm, v verdict) {
	if v.rules == nil {
		a.ret(v.ret)
		return
	}
	for _, r := range v.rules.cond {
		fail := a.newLabel()
		for i, c := range r.conds {
			pass := a.newLabel()
			cmp(a, c, v.rules.bits32, pass, fail)
			a.place(pass)
			if i == len(r.conds)-1 {
				a.ret(r.ret)
			}
		}
		a.place(fail)
	}
	a.ret(f.def)
}

// Offsets of an argument's halves in seccomp_data (its args are __u64 in
// the machine's byte order).
func argHalves(index uint) (lo, hi uint32) {
	off := uint32(offsetArgs + 8*index)
	if bigEndian {
		return off + 4, off
	}
	return off, off + 4
}

var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// cmp emits a comparison of an argument: to pass when it holds, to fail
// when not. 64-bit values are compared a half at a time: the high halves
// decide unless they are equal, then the low halves.
func cmp(a *asm, c cond, bits32 bool, pass, fail label) {
	lo, hi := argHalves(c.index)
	vlo, vhi := uint32(c.value), uint32(c.value>>32)
	mlo, mhi := uint32(c.mask), uint32(c.mask>>32)
	// NE, LT and LE are EQ, GE and GT with pass and fail swapped.
	op, negate := c.op, false
	switch op {
	case specs.OpNotEqual:
		op, negate = specs.OpEqualTo, true
	case specs.OpLessThan:
		op, negate = specs.OpGreaterEqual, true
	case specs.OpLessEqual:
		op, negate = specs.OpGreaterThan, true
	}
	t, f := pass, fail
	if negate {
		t, f = fail, pass
	}
	code := uint16(bpfJeqK) // EQ, MASKED_EQ
	switch op {
	case specs.OpGreaterThan:
		code = bpfJgtK
	case specs.OpGreaterEqual:
		code = bpfJgeK
	}
	if !bits32 && !(op == specs.OpMaskedEqual && mhi == 0) {
		next := a.newLabel()
		a.ld(hi)
		switch op {
		case specs.OpEqualTo:
			a.jcc(bpfJeqK, vhi, next, f)
		case specs.OpMaskedEqual:
			a.and(mhi)
			a.jcc(bpfJeqK, vhi, next, f)
		default: // GT, GE: a higher high half holds, a lower fails
			eq := a.newLabel()
			a.jcc(bpfJgtK, vhi, t, eq)
			a.place(eq)
			a.jcc(bpfJeqK, vhi, next, f)
		}
		a.place(next)
	}
	a.ld(lo)
	if op == specs.OpMaskedEqual {
		if mlo == 0 {
			// (lo & 0) == 0: holds.
			a.jump(t)
			return
		}
		a.and(mlo)
	}
	a.jcc(code, vlo, t, f)
}

// nativeFamily is family(runtime.GOARCH).
func nativeFamily() ([]tableArch, error) { return family(runtime.GOARCH) }
