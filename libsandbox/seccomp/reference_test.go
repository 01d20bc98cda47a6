package seccomp

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// libseccompProgram compiles s with libseccomp as runc does (and as this
// runtime did before it had its own compiler): the reference that
// TestCompileMatchesLibseccomp holds program.go to. It returns
// libseccomp's program alone (without the ENOSYS stub), or ok false when
// libseccomp refuses the profile.
func libseccompProgram(t testing.TB, s *specs.LinuxSeccomp) (prog []byte, ok bool) {
	t.Helper()
	lact := func(a specs.LinuxSeccompAction, errnoRet *uint) libseccomp.ScmpAction {
		ret, err := action(a, errnoRet)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ret == retKillThread:
			return libseccomp.ActKillThread
		case ret == retKillProcess:
			return libseccomp.ActKillProcess
		case ret == retTrap:
			return libseccomp.ActTrap
		case ret&0xffff0000 == retErrnoBase:
			return libseccomp.ActErrno.SetReturnCode(int16(ret & 0xffff))
		case ret&0xffff0000 == retTraceBase:
			return libseccomp.ActTrace.SetReturnCode(int16(ret & 0xffff))
		case ret == retAllow:
			return libseccomp.ActAllow
		case ret == retLog:
			return libseccomp.ActLog
		case ret == retUserNotif:
			return libseccomp.ActNotify
		}
		t.Fatalf("no libseccomp action for %#x", ret)
		return 0
	}
	ops := map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
		specs.OpNotEqual:     libseccomp.CompareNotEqual,
		specs.OpLessThan:     libseccomp.CompareLess,
		specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
		specs.OpEqualTo:      libseccomp.CompareEqual,
		specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
		specs.OpGreaterThan:  libseccomp.CompareGreater,
		specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
	}
	def := lact(s.DefaultAction, s.DefaultErrnoRet)
	filter, err := libseccomp.NewFilter(def)
	if err != nil {
		t.Fatal(err)
	}
	defer filter.Release()
	for _, a := range s.Architectures {
		arch, err := libseccomp.GetArchFromString(strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_")))
		if err != nil {
			t.Fatal(err)
		}
		if err := filter.AddArch(arch); err != nil {
			return nil, false
		}
	}
	for _, sc := range s.Syscalls {
		act := lact(sc.Action, sc.ErrnoRet)
		if act == def {
			continue
		}
		var conds []libseccomp.ScmpCondition
		dup := map[uint]bool{}
		split := false
		for _, a := range sc.Args {
			var c libseccomp.ScmpCondition
			if a.Op == specs.OpMaskedEqual {
				c, err = libseccomp.MakeCondition(a.Index, ops[a.Op], a.Value, a.ValueTwo)
			} else {
				c, err = libseccomp.MakeCondition(a.Index, ops[a.Op], a.Value)
			}
			if err != nil {
				t.Fatal(err)
			}
			split = split || dup[a.Index]
			dup[a.Index] = true
			conds = append(conds, c)
		}
		for _, name := range sc.Names {
			call, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				continue
			}
			switch {
			case len(conds) == 0:
				err = filter.AddRule(call, act)
			case !split:
				err = filter.AddRuleConditional(call, act, conds)
			default:
				for _, c := range conds {
					if err = filter.AddRuleConditional(call, act, []libseccomp.ScmpCondition{c}); err != nil {
						break
					}
				}
			}
			if err != nil {
				return nil, false
			}
		}
	}
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	mf := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer mf.Close()
	if err := filter.ExportBPF(mf); err != nil {
		return nil, false
	}
	if _, err := mf.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(mf)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%8 != 0 {
		t.Fatal(fmt.Errorf("libseccomp exported %d bytes", len(b)))
	}
	return b, true
}
