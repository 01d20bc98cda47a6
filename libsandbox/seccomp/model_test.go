package seccomp

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// model is what a profile means for one syscall, evaluated directly from
// the profile (program.go's rules, without BPF): the tests hold the
// compiled program to it on every input, and it to libseccomp's program
// on the profiles whose meaning libseccomp settles.
func model(s *specs.LinuxSeccomp, in input) uint32 {
	ret := func(a specs.LinuxSeccompAction, e *uint) uint32 {
		r, err := action(a, e)
		if err != nil {
			panic(err)
		}
		return r
	}
	def := ret(s.DefaultAction, s.DefaultErrnoRet)
	fam, err := nativeFamily()
	if err != nil {
		panic(err)
	}
	present := []tableArch{fam[0]}
	for _, a := range s.Architectures {
		if ta, ok := specTableArch[a]; ok && slices.Contains(fam, ta) {
			present = append(present, ta)
		}
	}
	// Which architecture's rules judge the syscall.
	arch := tableArch(-1)
	for _, a := range present {
		if archInfos[a].audit != in.arch {
			continue
		}
		if in.arch == auditArchX86_64 {
			x32 := in.nr >= x32SyscallBit
			if x32 != (a == archX32) {
				continue
			}
		}
		arch = a
	}
	if arch < 0 {
		if in.arch == auditArchX86_64 && slices.Contains(present, archX86_64) && in.nr == 0xffffffff {
			return def // a tracer's skipped syscall: no x32 section needed
		}
		return retBadArch
	}
	bits32 := archInfos[arch].bits32
	holds := func(c specs.LinuxSeccompArg) bool {
		a, v, m := in.args[c.Index], c.Value, ^uint64(0)
		if bits32 {
			a, v, m = a&0xffffffff, v&0xffffffff, 0xffffffff
		}
		switch c.Op {
		case specs.OpEqualTo:
			return a == v
		case specs.OpNotEqual:
			return a != v
		case specs.OpLessThan:
			return a < v
		case specs.OpLessEqual:
			return a <= v
		case specs.OpGreaterThan:
			return a > v
		case specs.OpGreaterEqual:
			return a >= v
		case specs.OpMaskedEqual:
			m &= c.Value
			return a&m == c.ValueTwo&m
		}
		panic(c.Op)
	}
	tautology := func(c specs.LinuxSeccompArg) bool {
		m := c.Value
		if bits32 {
			m &= 0xffffffff
		}
		return c.Op == specs.OpMaskedEqual && m == 0
	}
	type rule struct {
		args []specs.LinuxSeccompArg
		ret  uint32
	}
	var uncond *uint32
	var conds []rule
	add := func(args []specs.LinuxSeccompArg, r uint32) {
		var real []specs.LinuxSeccompArg
		for _, c := range args {
			if !tautology(c) {
				real = append(real, c)
			}
		}
		if len(real) == 0 {
			if uncond == nil {
				uncond = &r
			}
			return
		}
		conds = append(conds, rule{real, r})
	}
	for _, sc := range s.Syscalls {
		r := ret(sc.Action, sc.ErrnoRet)
		if r == def {
			continue
		}
		// Conditions on one argument twice: a rule each (runc's).
		rules := [][]specs.LinuxSeccompArg{sc.Args}
		seen := map[uint]bool{}
		for _, c := range sc.Args {
			if seen[c.Index] {
				rules = nil
				for i := range sc.Args {
					rules = append(rules, sc.Args[i:i+1])
				}
				break
			}
			seen[c.Index] = true
		}
		for _, name := range sc.Names {
			e := sysLookup(name)
			if e == nil {
				continue
			}
			for _, args := range rules {
				if e.nr[arch] >= 0 && uint32(e.nr[arch]) == in.nr {
					add(args, r)
				}
				if arch == archX86 && e.mux != 0 {
					// The multiplexer's rule (muxRule): for the call,
					// none for a conditional ALLOW or LOG, the whole
					// call for any other conditional rule.
					mux, call := "socketcall", specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: uint64(e.mux % 100)}
					if e.mux > 200 {
						mux, call = "ipc", specs.LinuxSeccompArg{Index: 0, Op: specs.OpMaskedEqual, Value: 0xffff, ValueTwo: uint64(e.mux % 100)}
					}
					real := slices.ContainsFunc(args, func(c specs.LinuxSeccompArg) bool { return !tautology(c) })
					if uint32(sysNumber(mux, archX86)) == in.nr && !(real && (r == retAllow || r == retLog)) {
						add([]specs.LinuxSeccompArg{call}, r)
					}
				}
			}
		}
	}
	if uncond != nil {
		return *uncond
	}
	for _, r := range conds {
		ok := true
		for _, c := range r.args {
			ok = ok && holds(c)
		}
		if ok {
			return r.ret
		}
	}
	return def
}
