// Package seccomp compiles a runtime-spec linux.seccomp section into a
// BPF program with libseccomp (libseccomp-golang): the runtime's one use of
// cgo. The init stage does not link against libseccomp's state at all: it
// receives the compiled program in its config and loads it with a raw
// seccomp(2) call (see nsexec), so the setup path itself stays cgo-free.
package seccomp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
)

// Filter flags of seccomp(2) (linux/seccomp.h).
const (
	flagTsync            = 1 << 0
	flagLog              = 1 << 1
	flagSpecAllow        = 1 << 2
	flagNewListener      = 1 << 3
	flagTsyncESRCH       = 1 << 4
	flagWaitKillableRecv = 1 << 5
)

var flags = map[specs.LinuxSeccompFlag]uint{
	specs.LinuxSeccompFlagLog:              flagLog,
	specs.LinuxSeccompFlagSpecAllow:        flagSpecAllow,
	specs.LinuxSeccompFlagWaitKillableRecv: flagWaitKillableRecv,
	"SECCOMP_FILTER_FLAG_TSYNC":            flagTsync,
	"SECCOMP_FILTER_FLAG_TSYNC_ESRCH":      flagTsyncESRCH,
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

var actions = []specs.LinuxSeccompAction{
	specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
	specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify,
}

// action converts a spec action. errnoRet is used by ERRNO (default
// EPERM) and TRACE (default 0... the message to the tracer, EPERM as in runc).
func action(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	ret := int16(unix.EPERM)
	if errnoRet != nil {
		// The kernel keeps 12 bits of the errno (MAX_ERRNO 4095): a
		// larger value would come out as another errno.
		if *errnoRet > 4095 {
			return libseccomp.ActInvalid, fmt.Errorf("errnoRet %d is above the largest errno, 4095", *errnoRet)
		}
		ret = int16(*errnoRet)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return libseccomp.ActKillThread, nil
	case specs.ActKillProcess:
		return libseccomp.ActKillProcess, nil
	case specs.ActTrap:
		return libseccomp.ActTrap, nil
	case specs.ActErrno:
		return libseccomp.ActErrno.SetReturnCode(ret), nil
	case specs.ActTrace:
		return libseccomp.ActTrace.SetReturnCode(ret), nil
	case specs.ActAllow:
		return libseccomp.ActAllow, nil
	case specs.ActLog:
		return libseccomp.ActLog, nil
	case specs.ActNotify:
		return libseccomp.ActNotify, nil
	}
	return libseccomp.ActInvalid, fmt.Errorf("unknown action %q", a)
}

// Compile turns s into a BPF program. Errors name the field at fault; a
// syscall name libseccomp does not know on this architecture is skipped
// with a debug message, as runc does (profiles list syscalls of every
// architecture and kernel).
func Compile(s *specs.LinuxSeccomp) (*initcfg.Seccomp, error) {
	def, err := action(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp.defaultAction: %w", err)
	}
	if s.DefaultErrnoRet != nil && s.DefaultAction != specs.ActErrno && s.DefaultAction != specs.ActTrace {
		return nil, fmt.Errorf("linux.seccomp.defaultErrnoRet: only for SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s", s.DefaultAction)
	}
	prog := &initcfg.Seccomp{}
	if s.DefaultAction == specs.ActNotify {
		return nil, errors.New("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (the runtime would need every syscall answered)")
	}
	for _, f := range s.Flags {
		v, ok := flags[f]
		if !ok {
			return nil, fmt.Errorf("linux.seccomp.flags: unknown flag %q", f)
		}
		if !FlagSupported(v) {
			return nil, fmt.Errorf("linux.seccomp.flags: %s is not supported by this kernel", f)
		}
		prog.Flags |= v
	}
	filter, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	defer filter.Release()
	for i, a := range s.Architectures {
		arch, err := scmpArch(a)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp.architectures[%d]: unknown architecture %q", i, a)
		}
		if err := filter.AddArch(arch); err != nil {
			return nil, fmt.Errorf("linux.seccomp.architectures[%d] %s: %w", i, a, err)
		}
	}
	for i, sc := range s.Syscalls {
		field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
		act, err := action(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("%s.action: %w", field, err)
		}
		if sc.ErrnoRet != nil && sc.Action != specs.ActErrno && sc.Action != specs.ActTrace {
			return nil, fmt.Errorf("%s.errnoRet: only for SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s", field, sc.Action)
		}
		if len(sc.Names) == 0 {
			return nil, fmt.Errorf("%s.names: empty", field)
		}
		if sc.Action == specs.ActNotify {
			prog.Notify = true
		}
		conds, err := conditions(sc.Args, field)
		if err != nil {
			return nil, err
		}
		if act == def {
			// libseccomp refuses a rule whose action is the default;
			// it would change nothing anyway.
			continue
		}
		for _, name := range sc.Names {
			call, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				logrus.Debugf("seccomp: syscall %q unknown on this architecture, skipped", name)
				continue
			}
			if err := addRule(filter, call, act, conds); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", field, name, err)
			}
		}
	}
	if prog.Notify {
		prog.Flags |= flagNewListener
		if s.ListenerPath == "" {
			// runc says "seccomp listenerPath is not set".
			return nil, errors.New("linux.seccomp.listenerPath: seccomp listenerPath is not set (SCMP_ACT_NOTIFY needs a listener)")
		}
		// init hands the listener fd over with sendmsg(2) after the
		// filter is loaded: the filter must let that call through.
		if a := actionFor(s, "sendmsg"); a != specs.ActAllow && a != specs.ActLog {
			return nil, fmt.Errorf("linux.seccomp: with SCMP_ACT_NOTIFY the profile must allow sendmsg (it is %s): the runtime passes the listener fd with it", a)
		}
	} else if s.ListenerPath != "" {
		return nil, errors.New("linux.seccomp.listenerPath: set, but no syscall uses SCMP_ACT_NOTIFY")
	}
	prog.ListenerPath = s.ListenerPath
	prog.ListenerMetadata = s.ListenerMetadata
	if prog.Flags&flagWaitKillableRecv != 0 && !prog.Notify {
		return nil, errors.New("linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs SCMP_ACT_NOTIFY rules")
	}
	prog.Filter, err = export(filter)
	if err != nil {
		return nil, err
	}
	if refuses(s.DefaultAction, s.DefaultErrnoRet) {
		archs, err := lastSyscalls(s)
		if err != nil {
			return nil, err
		}
		prog.Filter = append(enosysStub(archs), prog.Filter...)
		if len(prog.Filter)/8 > 4096 {
			return nil, fmt.Errorf("linux.seccomp: the filter has %d instructions, the kernel's limit is 4096", len(prog.Filter)/8)
		}
	}
	return prog, nil
}

// specArchs are the architecture names of the runtime-spec.
var specArchs = []specs.Arch{
	specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
	specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64, specs.ArchMIPSEL64N32,
	specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390, specs.ArchS390X,
	specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64,
	specs.ArchM68K, specs.ArchSH, specs.ArchSHEB,
}

// scmpArch converts a spec architecture name ("SCMP_ARCH_AARCH64").
func scmpArch(a specs.Arch) (libseccomp.ScmpArch, error) {
	return libseccomp.GetArchFromString(strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_")))
}

// actionFor is the action the spec gives a syscall called without
// argument conditions.
func actionFor(s *specs.LinuxSeccomp, name string) specs.LinuxSeccompAction {
	for _, sc := range s.Syscalls {
		if len(sc.Args) > 0 {
			continue
		}
		for _, n := range sc.Names {
			if n == name {
				return sc.Action
			}
		}
	}
	return s.DefaultAction
}

func conditions(args []specs.LinuxSeccompArg, field string) ([]libseccomp.ScmpCondition, error) {
	var out []libseccomp.ScmpCondition
	for j, a := range args {
		op, ok := operators[a.Op]
		if !ok {
			return nil, fmt.Errorf("%s.args[%d].op: unknown operator %q", field, j, a.Op)
		}
		if a.Index > 5 {
			return nil, fmt.Errorf("%s.args[%d].index: %d, a syscall has at most 6 arguments", field, j, a.Index)
		}
		var c libseccomp.ScmpCondition
		var err error
		if op == libseccomp.CompareMaskedEqual {
			c, err = libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
		} else {
			c, err = libseccomp.MakeCondition(a.Index, op, a.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("%s.args[%d]: %w", field, j, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// addRule adds a rule. Several conditions on the same argument cannot be
// one libseccomp rule (it would AND them into nothing): as runc, they
// become one rule each, matched with OR.
func addRule(f *libseccomp.ScmpFilter, call libseccomp.ScmpSyscall, act libseccomp.ScmpAction, conds []libseccomp.ScmpCondition) error {
	if len(conds) == 0 {
		return f.AddRule(call, act)
	}
	seen := map[uint]bool{}
	dup := false
	for _, c := range conds {
		if seen[c.Argument] {
			dup = true
		}
		seen[c.Argument] = true
	}
	if !dup {
		return f.AddRuleConditional(call, act, conds)
	}
	for _, c := range conds {
		if err := f.AddRuleConditional(call, act, []libseccomp.ScmpCondition{c}); err != nil {
			return err
		}
	}
	return nil
}

// export returns the filter's BPF instructions (struct sock_filter, 8
// bytes each, native endian).
func export(f *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	mf := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer mf.Close()
	if err := f.ExportBPF(mf); err != nil {
		return nil, fmt.Errorf("linux.seccomp: export BPF: %w", err)
	}
	if _, err := mf.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(mf)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 || len(b)%8 != 0 {
		return nil, fmt.Errorf("linux.seccomp: libseccomp exported %d bytes, not a BPF program", len(b))
	}
	if len(b)/8 > 4096 {
		return nil, fmt.Errorf("linux.seccomp: the filter has %d instructions, the kernel's limit is 4096", len(b)/8)
	}
	return b, nil
}

// FlagSupported asks the kernel whether it knows a filter flag: with a
// NULL program, a known flag fails with EFAULT and an unknown one with
// EINVAL.
func FlagSupported(flag uint) bool {
	if flag == flagWaitKillableRecv {
		// Only valid together with a listener.
		flag |= flagNewListener
	}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flag), 0)
	return e == unix.EFAULT
}

// Features describes what this build and kernel support, for `features`.
type Features struct {
	Actions, Operators, Archs, KnownFlags, SupportedFlags []string
}

// Supported reports it.
func Supported() Features {
	var f Features
	for _, a := range actions {
		f.Actions = append(f.Actions, string(a))
	}
	for op := range operators {
		f.Operators = append(f.Operators, string(op))
	}
	// The spec's names, for those the linked libseccomp knows: the Go
	// binding names more than an older C library supports (loongarch64
	// needs 2.6). EDOM is a known architecture of the other byte order,
	// which one filter cannot mix with this machine's.
	if probe, err := libseccomp.NewFilter(libseccomp.ActAllow); err == nil {
		for _, a := range specArchs {
			arch, err := scmpArch(a)
			if err != nil {
				continue
			}
			if err := probe.AddArch(arch); err == nil || errors.Is(err, syscall.EDOM) {
				f.Archs = append(f.Archs, string(a))
			}
		}
		probe.Release()
	}
	for name, v := range flags {
		f.KnownFlags = append(f.KnownFlags, string(name))
		if FlagSupported(v) {
			f.SupportedFlags = append(f.SupportedFlags, string(name))
		}
	}
	return f
}
