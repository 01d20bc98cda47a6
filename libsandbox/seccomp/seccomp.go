// Package seccomp compiles a runtime-spec linux.seccomp section into a
// BPF program, with its own compiler (program.go) that gives a profile
// libseccomp's meaning, checked against libseccomp by the tests: the
// runtime links no C. The init stage receives the compiled program in its
// config and loads it with a raw seccomp(2) call (see nsexec).
//
// Why not libseccomp, as runc and crun: it was the runtime's one use of
// cgo, and cgo's cost is paid by every start of the binary, every verb
// and init's re-execution alike, seccomp or not: glibc's static start-up
// and cgo's runtime took ~0.8 ms of a 3 ms `list` (3.0 -> 2.2 ms, means of
// 300, docs/bench.md), the binary was 1.1 MB larger, and init carried
// glibc's pages into the container's memory charge.
package seccomp

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

var operators = []specs.LinuxSeccompOperator{
	specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
	specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
}

var actions = []specs.LinuxSeccompAction{
	specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
	specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify,
}

// action converts a spec action to the filter's return value. errnoRet
// is used by ERRNO (default EPERM) and TRACE (the message to the tracer,
// EPERM too, as in runc).
func action(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	ret := uint32(unix.EPERM)
	if errnoRet != nil {
		// The kernel keeps 12 bits of the errno (MAX_ERRNO 4095): a
		// larger value would come out as another errno.
		if *errnoRet > 4095 {
			return 0, fmt.Errorf("errnoRet %d is above the largest errno, 4095", *errnoRet)
		}
		ret = uint32(*errnoRet)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return retKillThread, nil
	case specs.ActKillProcess:
		return retKillProcess, nil
	case specs.ActTrap:
		return retTrap, nil
	case specs.ActErrno:
		return retErrnoBase | ret, nil
	case specs.ActTrace:
		return retTraceBase | ret, nil
	case specs.ActAllow:
		return retAllow, nil
	case specs.ActLog:
		return retLog, nil
	case specs.ActNotify:
		return retUserNotif, nil
	}
	return 0, fmt.Errorf("unknown action %q", a)
}

// actionAvailable reports whether the kernel knows an action. KILL_THREAD,
// TRAP, ERRNO, TRACE and ALLOW are seccomp filters' own (Linux 3.5); the
// later ones are asked for with SECCOMP_GET_ACTION_AVAIL (Linux 4.14,
// itself as old as LOG and KILL_PROCESS), so that create does not make a
// system call per rule.
func actionAvailable(ret uint32) bool {
	act := ret & 0xffff0000 // SECCOMP_RET_ACTION_FULL
	if act != retLog && act != retKillProcess && act != retUserNotif {
		return true
	}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&act)))
	return e == 0
}

// Compile turns s into a BPF program. Errors name the field at fault; a
// syscall name unknown on every architecture is skipped with a debug
// message, as runc does (profiles list syscalls of every architecture and
// kernel).
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
	if !actionAvailable(def) {
		return nil, fmt.Errorf("linux.seccomp.defaultAction: %s is not supported by this kernel", s.DefaultAction)
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
	archs, err := filterArchs(s)
	if err != nil {
		return nil, err
	}
	rules := newFilterRules(def, archs)
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
		if err := checkArgs(sc.Args, field); err != nil {
			return nil, err
		}
		if !actionAvailable(act) {
			return nil, fmt.Errorf("%s.action: %s is not supported by this kernel", field, sc.Action)
		}
		if act == def {
			// Dropped, as runc does (libseccomp refuses such a rule):
			// a later rule of another action for the same syscall
			// then decides, as under runc (program.go).
			continue
		}
		for _, name := range sc.Names {
			for _, args := range splitArgs(sc.Args) {
				if !rules.add(name, act, args) {
					logrus.Debugf("seccomp: syscall %q unknown on every architecture, skipped", name)
					break
				}
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
	prog.Filter, err = rules.program()
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	if refuses(s.DefaultAction, s.DefaultErrnoRet) {
		prog.Filter = append(enosysStub(lastSyscalls(s, archs)), prog.Filter...)
		if len(prog.Filter)/8 > maxInsns {
			return nil, fmt.Errorf("linux.seccomp: the filter has %d instructions, the kernel's limit is %d", len(prog.Filter)/8, maxInsns)
		}
	}
	return prog, nil
}

// filterArchs is the architectures the filter has sections for: the
// native one, and those of linux.seccomp.architectures this kernel can
// run (program.go says why the others are left out).
func filterArchs(s *specs.LinuxSeccomp) ([]tableArch, error) {
	fam, err := nativeFamily()
	if err != nil {
		return nil, err
	}
	out := []tableArch{fam[0]} // its own array: appending must not write into fam
	for i, a := range s.Architectures {
		if !knownArch(a) {
			return nil, fmt.Errorf("linux.seccomp.architectures[%d]: unknown architecture %q", i, a)
		}
		ta, ok := specTableArch[a]
		if !ok || !slices.Contains(fam, ta) {
			logrus.Debugf("seccomp: %s cannot run on this kernel: no section for it", a)
			continue
		}
		if !slices.Contains(out, ta) {
			out = append(out, ta)
		}
	}
	return out, nil
}

// specArchs are the architecture names of the runtime-spec.
var specArchs = []specs.Arch{
	specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
	specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64, specs.ArchMIPSEL64N32,
	specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390, specs.ArchS390X,
	specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64,
	specs.ArchM68K, specs.ArchSH, specs.ArchSHEB,
}

func knownArch(a specs.Arch) bool { return slices.Contains(specArchs, a) }

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

func checkArgs(args []specs.LinuxSeccompArg, field string) error {
	for j, a := range args {
		if !slices.Contains(operators, a.Op) {
			return fmt.Errorf("%s.args[%d].op: unknown operator %q", field, j, a.Op)
		}
		if a.Index > 5 {
			return fmt.Errorf("%s.args[%d].index: %d, a syscall has at most 6 arguments", field, j, a.Index)
		}
	}
	return nil
}

// splitArgs is the rules a syscall entry's conditions make. Several
// conditions on the same argument are not one rule (it would AND them
// into nothing, as libseccomp would): as runc, they become one rule each,
// matched with OR.
func splitArgs(args []specs.LinuxSeccompArg) [][]specs.LinuxSeccompArg {
	seen := map[uint]bool{}
	for _, c := range args {
		if seen[c.Index] {
			out := make([][]specs.LinuxSeccompArg, len(args))
			for i := range args {
				out[i] = args[i : i+1]
			}
			return out
		}
		seen[c.Index] = true
	}
	return [][]specs.LinuxSeccompArg{args}
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
	for _, op := range operators {
		f.Operators = append(f.Operators, string(op))
	}
	// Every name is accepted; sections are built for those this
	// kernel can run (program.go).
	for _, a := range specArchs {
		f.Archs = append(f.Archs, string(a))
	}
	for name, v := range flags {
		f.KnownFlags = append(f.KnownFlags, string(name))
		if FlagSupported(v) {
			f.SupportedFlags = append(f.SupportedFlags, string(name))
		}
	}
	return f
}
