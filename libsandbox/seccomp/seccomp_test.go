package seccomp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
)

func u(v uint) *uint { return &v }

// allowAll is a profile with default ALLOW and the given rules.
func allowAll(rules ...specs.LinuxSyscall) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: rules}
}

func rule(act specs.LinuxSeccompAction, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: act}
}

// compile compiles s and checks what every program must be: whole
// struct sock_filter entries, at least one.
func compile(t *testing.T, s *specs.LinuxSeccomp) *initcfg.Seccomp {
	t.Helper()
	p, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if len(p.Filter) == 0 || len(p.Filter)%8 != 0 {
		t.Fatalf("Compile: filter of %d bytes, want a non-empty multiple of 8", len(p.Filter))
	}
	return p
}

type insn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

func decode(prog []byte) []insn {
	var out []insn
	for i := 0; i+8 <= len(prog); i += 8 {
		out = append(out, insn{
			code: binary.NativeEndian.Uint16(prog[i:]),
			jt:   prog[i+2], jf: prog[i+3],
			k: binary.NativeEndian.Uint32(prog[i+4:]),
		})
	}
	return out
}

// nativeArch is the AUDIT_ARCH_* value of the machine the tests run on.
func nativeArch(t *testing.T) uint32 {
	t.Helper()
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64
	}
	t.Skipf("no AUDIT_ARCH value written down for %s", runtime.GOARCH)
	return 0
}

// eval runs a classic BPF program on a struct seccomp_data as the kernel
// would and returns the SECCOMP_RET_* value. It knows the instructions
// libseccomp emits, and fails the test on any other.
func eval(t *testing.T, prog []byte, arch uint32, nr int, args ...uint64) uint32 {
	t.Helper()
	// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer;
	// u64 args[6]; native endian.
	var data [64]byte
	binary.NativeEndian.PutUint32(data[0:], uint32(nr))
	binary.NativeEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.NativeEndian.PutUint64(data[16+8*i:], a)
	}
	insns := decode(prog)
	var A uint32
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		jump := func(cond bool) {
			if cond {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		}
		switch in.code {
		case 0x20: // BPF_LD|BPF_W|BPF_ABS
			if in.k > 60 || in.k%4 != 0 {
				t.Fatalf("pc %d: load of seccomp_data offset %d", pc, in.k)
			}
			A = binary.NativeEndian.Uint32(data[in.k:])
		case 0x00: // BPF_LD|BPF_W|BPF_IMM
			A = in.k
		case 0x54: // BPF_ALU|BPF_AND|BPF_K
			A &= in.k
		case 0x05: // BPF_JMP|BPF_JA
			pc += int(in.k)
		case 0x15: // BPF_JMP|BPF_JEQ|BPF_K
			jump(A == in.k)
		case 0x25: // BPF_JMP|BPF_JGT|BPF_K
			jump(A > in.k)
		case 0x35: // BPF_JMP|BPF_JGE|BPF_K
			jump(A >= in.k)
		case 0x45: // BPF_JMP|BPF_JSET|BPF_K
			jump(A&in.k != 0)
		case 0x06: // BPF_RET|BPF_K
			return in.k
		case 0x16: // BPF_RET|BPF_A
			return A
		default:
			t.Fatalf("pc %d: instruction %#04x not known to this test", pc, in.code)
		}
	}
	t.Fatalf("the program ran off its end")
	return 0
}

// Each action becomes the kernel's SECCOMP_RET_* value, with errnoRet in
// the data bits of ERRNO and TRACE (EPERM when unset, as runc); a
// syscall without a rule gets the default action.
func TestCompileActions(t *testing.T) {
	arch := nativeArch(t)
	for _, tc := range []struct {
		act      specs.LinuxSeccompAction
		errnoRet *uint
		want     uint32
	}{
		{specs.ActErrno, nil, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{specs.ActErrno, u(38), unix.SECCOMP_RET_ERRNO | 38},
		{specs.ActErrno, u(0), unix.SECCOMP_RET_ERRNO},
		{specs.ActTrace, nil, unix.SECCOMP_RET_TRACE | uint32(unix.EPERM)},
		{specs.ActTrace, u(5), unix.SECCOMP_RET_TRACE | 5},
		{specs.ActKill, nil, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActKillThread, nil, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActKillProcess, nil, unix.SECCOMP_RET_KILL_PROCESS},
		{specs.ActTrap, nil, unix.SECCOMP_RET_TRAP},
		{specs.ActLog, nil, unix.SECCOMP_RET_LOG},
		{specs.ActAllow, nil, unix.SECCOMP_RET_ALLOW},
	} {
		name := string(tc.act)
		if tc.errnoRet != nil {
			name += "/" + strconv.Itoa(int(*tc.errnoRet))
		}
		t.Run(name, func(t *testing.T) {
			// A default no case uses, so that it cannot be taken
			// for the rule's action.
			const def = unix.SECCOMP_RET_ERRNO | 99
			// The rule's syscall has the larger number: one above
			// every syscall the profile names answers ENOSYS (see
			// TestEnosysStub), not the default.
			r := rule(tc.act, "getppid")
			r.ErrnoRet = tc.errnoRet
			p := compile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: u(99), Syscalls: []specs.LinuxSyscall{r}})
			if got := eval(t, p.Filter, arch, unix.SYS_GETPPID); got != tc.want {
				t.Errorf("getppid: got %#x, want %#x", got, tc.want)
			}
			if got := eval(t, p.Filter, arch, unix.SYS_GETPID); got != def {
				t.Errorf("getpid: got %#x, want the default %#x", got, def)
			}
			if p.Notify || p.Flags != 0 {
				t.Errorf("Notify, Flags: got %v, %#x; want false, 0", p.Notify, p.Flags)
			}
		})
	}
}

func TestCompileDefaultAction(t *testing.T) {
	arch := nativeArch(t)
	for _, tc := range []struct {
		act      specs.LinuxSeccompAction
		errnoRet *uint
		want     uint32
	}{
		{specs.ActErrno, nil, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{specs.ActErrno, u(38), unix.SECCOMP_RET_ERRNO | 38},
		{specs.ActTrace, u(7), unix.SECCOMP_RET_TRACE | 7},
		{specs.ActKillProcess, nil, unix.SECCOMP_RET_KILL_PROCESS},
		{specs.ActTrap, nil, unix.SECCOMP_RET_TRAP},
		{specs.ActLog, nil, unix.SECCOMP_RET_LOG},
		{specs.ActAllow, nil, unix.SECCOMP_RET_ALLOW},
	} {
		t.Run(string(tc.act), func(t *testing.T) {
			p := compile(t, &specs.LinuxSeccomp{DefaultAction: tc.act, DefaultErrnoRet: tc.errnoRet})
			if got := eval(t, p.Filter, arch, unix.SYS_GETPID); got != tc.want {
				t.Errorf("got %#x, want %#x", got, tc.want)
			}
		})
	}
}

// A bad profile is refused with the field at fault.
func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *specs.LinuxSeccomp
		want string
	}{
		{"unknown default action", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}, "linux.seccomp.defaultAction"},
		{"empty default action", &specs.LinuxSeccomp{}, "linux.seccomp.defaultAction"},
		{"notify as default", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"}, "linux.seccomp.defaultAction"},
		{"defaultErrnoRet with ALLOW", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: u(1)}, "linux.seccomp.defaultErrnoRet"},
		{"unknown action", allowAll(rule(specs.ActErrno, "getpid"), rule("SCMP_ACT_BOGUS", "getppid")), "linux.seccomp.syscalls[1].action"},
		{"errnoRet on ALLOW", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"getpid"}, Action: specs.ActAllow, ErrnoRet: u(1)}}}, "linux.seccomp.syscalls[0].errnoRet"},
		{"no names", allowAll(rule(specs.ActErrno)), "linux.seccomp.syscalls[0].names"},
		{"unknown architecture", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Architectures: []specs.Arch{specs.ArchX86_64, "SCMP_ARCH_PDP11"}}, "linux.seccomp.architectures[1]"},
		{"unknown operator", allowAll(specs.LinuxSyscall{Names: []string{"getpid"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 1, Value: 1, Op: "SCMP_CMP_BOGUS"}}}),
			"linux.seccomp.syscalls[0].args[1].op"},
		{"argument index 6", allowAll(specs.LinuxSyscall{Names: []string{"getpid"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 6, Value: 1, Op: specs.OpEqualTo}}}), "linux.seccomp.syscalls[0].args[0].index"},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_BOGUS"}}, "linux.seccomp.flags"},
		{"WAIT_KILLABLE_RECV without notify", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}}, "linux.seccomp.flags"},
		{"notify without listenerPath", allowAll(rule(specs.ActNotify, "mkdir")), "linux.seccomp.listenerPath"},
		{"listenerPath without notify", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/l.sock"}, "linux.seccomp.listenerPath"},
		{"notify with sendmsg denied", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, ListenerPath: "/run/l.sock",
			Syscalls: []specs.LinuxSyscall{rule(specs.ActNotify, "mkdir"), rule(specs.ActAllow, "execve")}}, "sendmsg"},
		{"notify with sendmsg notified", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/l.sock",
			Syscalls: []specs.LinuxSyscall{rule(specs.ActNotify, "mkdir", "sendmsg")}}, "sendmsg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.s)
			if err == nil {
				t.Fatalf("got a filter of %d bytes, want an error naming %s", len(p.Filter), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to name %s", err, tc.want)
			}
		})
	}
}

// Profiles name syscalls of every architecture and kernel: one this
// libseccomp does not know is skipped, and the rest of its rule applies.
func TestCompileUnknownSyscallSkipped(t *testing.T) {
	p := compile(t, allowAll(rule(specs.ActErrno, "no_such_syscall_at_all", "getpid")))
	if got, want := eval(t, p.Filter, nativeArch(t), unix.SYS_GETPID), unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM); got != want {
		t.Errorf("getpid: got %#x, want %#x", got, want)
	}
}

func TestCompileFlags(t *testing.T) {
	for _, tc := range []struct {
		flags []specs.LinuxSeccompFlag
		want  uint
	}{
		{nil, 0},
		{[]specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}, unix.SECCOMP_FILTER_FLAG_LOG},
		{[]specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow},
			unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	} {
		t.Run(fmt.Sprint(tc.flags), func(t *testing.T) {
			p := compile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: tc.flags})
			if p.Flags != tc.want {
				t.Errorf("Flags: got %#x, want %#x", p.Flags, tc.want)
			}
		})
	}
}

func TestCompileNotify(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *specs.LinuxSeccomp
	}{
		{"default allow", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}},
		{"sendmsg allowed", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{rule(specs.ActAllow, "sendmsg", "execve")}}},
		{"sendmsg logged", &specs.LinuxSeccomp{DefaultAction: specs.ActKill,
			Syscalls: []specs.LinuxSyscall{rule(specs.ActLog, "sendmsg")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			s.ListenerPath = "/run/listener.sock"
			s.ListenerMetadata = "meta"
			s.Syscalls = append(s.Syscalls, rule(specs.ActNotify, "mkdir", "mkdirat"))
			p := compile(t, s)
			if !p.Notify {
				t.Error("Notify: got false, want true")
			}
			if p.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
				t.Errorf("Flags: got %#x, want NEW_LISTENER set", p.Flags)
			}
			if p.ListenerPath != s.ListenerPath || p.ListenerMetadata != s.ListenerMetadata {
				t.Errorf("listener: got %q %q, want %q %q", p.ListenerPath, p.ListenerMetadata, s.ListenerPath, s.ListenerMetadata)
			}
			if got := eval(t, p.Filter, nativeArch(t), unix.SYS_MKDIRAT); got != unix.SECCOMP_RET_USER_NOTIF {
				t.Errorf("mkdirat: got %#x, want USER_NOTIF %#x", got, unix.SECCOMP_RET_USER_NOTIF)
			}
		})
	}
}

// The native architecture is always in the filter; the others only when
// listed, and a syscall of an architecture not in the filter is killed
// (libseccomp's bad-architecture action). amd64 and its 32-bit ABI, i386,
// whose getpid is number 20.
func TestCompileArchitectures(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the i386 syscall number below is for an amd64 host")
	}
	const i386Getpid = 20
	eperm := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	for _, tc := range []struct {
		name        string
		archs       []specs.Arch
		native, x86 uint32
	}{
		{"none listed", nil, eperm, unix.SECCOMP_RET_KILL_THREAD},
		{"native listed", []specs.Arch{specs.ArchX86_64}, eperm, unix.SECCOMP_RET_KILL_THREAD},
		{"x86 listed", []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}, eperm, eperm},
		{"only x86 listed", []specs.Arch{specs.ArchX86}, eperm, eperm},
		// Foreign machines of the same byte order: accepted, and they
		// change nothing here.
		{"foreign", []specs.Arch{specs.ArchAARCH64, specs.ArchARM, specs.ArchPPC64LE, specs.ArchRISCV64, specs.ArchMIPSEL64},
			eperm, unix.SECCOMP_RET_KILL_THREAD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := compile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: tc.archs,
				Syscalls: []specs.LinuxSyscall{rule(specs.ActErrno, "getpid")}})
			if got := eval(t, p.Filter, unix.AUDIT_ARCH_X86_64, unix.SYS_GETPID); got != tc.native {
				t.Errorf("x86_64 getpid: got %#x, want %#x", got, tc.native)
			}
			if got := eval(t, p.Filter, unix.AUDIT_ARCH_I386, i386Getpid); got != tc.x86 {
				t.Errorf("i386 getpid: got %#x, want %#x", got, tc.x86)
			}
		})
	}
}

// What the compiled filter does, loaded in a helper process: the test
// binary re-executed, which sets no_new_privs, loads the filter with
// seccomp(2) on a locked thread and then either makes one raw syscall
// and exits with its errno (0 for success; the profile must allow
// exit_group), or execs a program (for the KILL variants that kill only
// the calling thread, and for TRAP, whose SIGSYS the Go runtime would
// turn into a crash of its own).

const (
	helperSetupFailed = 250
)

func TestSeccompHelper(t *testing.T) {
	if os.Getenv("GO_WANT_HELPER_PROCESS") != "1" {
		return // run by the other tests only
	}
	os.Exit(helper())
}

func helper() int {
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "helper: "+format+"\n", a...)
		return helperSetupFailed
	}
	if len(args) < 2 {
		return fail("usage: call NR [ARG...] | exec PATH [ARG...]")
	}
	filter, err := os.ReadFile(os.Getenv("SECCOMP_TEST_FILTER"))
	if err != nil {
		return fail("%v", err)
	}
	flags, _ := strconv.ParseUint(os.Getenv("SECCOMP_TEST_FLAGS"), 0, 32)
	insns := decode(filter)
	prog := make([]unix.SockFilter, len(insns))
	for i, in := range insns {
		prog[i] = unix.SockFilter{Code: in.code, Jt: in.jt, Jf: in.jf, K: in.k}
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}

	// Everything the syscall needs is built before the filter is loaded.
	var nr uintptr
	var a [6]uintptr
	var argv0 string
	switch args[0] {
	case "call":
		n, err := strconv.ParseUint(args[1], 0, 64)
		if err != nil {
			return fail("syscall number %q", args[1])
		}
		nr = uintptr(n)
		for i, s := range args[2:] {
			if p, ok := strings.CutPrefix(s, "str:"); ok {
				b, _ := unix.BytePtrFromString(p)
				a[i] = uintptr(unsafe.Pointer(b))
				continue
			}
			v, err := strconv.ParseInt(s, 0, 64)
			if err != nil {
				return fail("argument %q", s)
			}
			a[i] = uintptr(v)
		}
	case "exec":
		argv0 = args[1]
	default:
		return fail("unknown mode %q", args[0])
	}
	// No core files from the deaths under test.
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	// seccomp(2) filters the calling thread only.
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fail("no_new_privs: %v", err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return fail("seccomp(2): %v", e)
	}
	if argv0 != "" {
		err := unix.Exec(argv0, args[1:], os.Environ())
		return fail("exec %s: %v", argv0, err)
	}
	_, _, e := unix.RawSyscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	unix.RawSyscall(unix.SYS_EXIT_GROUP, uintptr(e), 0, 0)
	return 0 // not reached: exit_group is allowed or the test is wrong
}

// outcome is how the helper ended: the syscall's errno (0: success), or
// the signal that killed it.
type outcome struct {
	errno  syscall.Errno
	signal syscall.Signal
}

func (o outcome) String() string {
	if o.signal != 0 {
		return "killed by " + o.signal.String()
	}
	if o.errno == 0 {
		return "success"
	}
	return fmt.Sprintf("errno %d (%v)", int(o.errno), o.errno)
}

func runFiltered(t *testing.T, p *initcfg.Seccomp, args ...string) outcome {
	t.Helper()
	f := filepath.Join(t.TempDir(), "filter")
	if err := os.WriteFile(f, p.Filter, 0o600); err != nil {
		t.Fatal(err)
	}
	// A filter that kills only the helper's thread (a KILL_THREAD where
	// KILL_PROCESS was meant) leaves the rest of it waiting for ever.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"-test.run=^TestSeccompHelper$", "-test.count=1", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "GO_WANT_HELPER_PROCESS=1", "SECCOMP_TEST_FILTER="+f,
		"SECCOMP_TEST_FLAGS="+strconv.FormatUint(uint64(p.Flags), 10))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("helper: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("helper did not end within 10 s: %s", stderr.String())
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return outcome{signal: ws.Signal()}
	}
	if ws.ExitStatus() == helperSetupFailed {
		t.Fatalf("helper: %s", stderr.String())
	}
	return outcome{errno: syscall.Errno(ws.ExitStatus())}
}

func arg(op specs.LinuxSeccompOperator, index uint, v ...uint64) specs.LinuxSeccompArg {
	a := specs.LinuxSeccompArg{Index: index, Op: op, Value: v[0]}
	if len(v) > 1 {
		a.ValueTwo = v[1]
	}
	return a
}

func TestFilterBehaviour(t *testing.T) {
	getpid := strconv.Itoa(unix.SYS_GETPID)
	call := func(args ...string) []string { return append([]string{"call", getpid}, args...) }
	// A default-deny profile must let the helper report and return from
	// a signal handler (the Go runtime's preemption signal).
	helperNeeds := rule(specs.ActAllow, "exit_group", "rt_sigreturn")
	cond := func(act specs.LinuxSeccompAction, args ...specs.LinuxSeccompArg) *specs.LinuxSeccomp {
		return allowAll(specs.LinuxSyscall{Names: []string{"getpid"}, Action: act, Args: args})
	}
	errnoRet := func(act specs.LinuxSeccompAction, ret uint, names ...string) *specs.LinuxSeccomp {
		r := rule(act, names...)
		r.ErrnoRet = u(ret)
		return allowAll(r)
	}
	const sigsys = syscall.SIGSYS
	for _, tc := range []struct {
		name string
		s    *specs.LinuxSeccomp
		args []string
		want outcome
	}{
		{"no rules", allowAll(), call(), outcome{}},
		{"ERRNO", allowAll(rule(specs.ActErrno, "getpid")), call(), outcome{errno: unix.EPERM}},
		{"ERRNO errnoRet 38", errnoRet(specs.ActErrno, 38, "getpid"), call(), outcome{errno: unix.ENOSYS}},
		{"ERRNO errnoRet 38 mkdirat", errnoRet(specs.ActErrno, 38, "mkdirat"),
			[]string{"call", strconv.Itoa(unix.SYS_MKDIRAT), strconv.Itoa(unix.AT_FDCWD), "str:" + filepath.Join(t.TempDir(), "d"), "0o700"},
			outcome{errno: unix.ENOSYS}},
		{"default ERRNO defaultErrnoRet", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: u(uint(unix.EXDEV)),
			Syscalls: []specs.LinuxSyscall{helperNeeds}}, call(), outcome{errno: unix.EXDEV}},
		{"ALLOW under default ERRNO", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{helperNeeds, rule(specs.ActAllow, "getpid")}}, call(), outcome{}},
		// Without a tracer the kernel fails a TRACE syscall with ENOSYS,
		// whatever errnoRet says (seccomp(2)).
		{"TRACE without tracer", errnoRet(specs.ActTrace, 5, "getpid"), call(), outcome{errno: unix.ENOSYS}},
		{"LOG", allowAll(rule(specs.ActLog, "getpid")), call(), outcome{}},
		{"KILL_PROCESS", allowAll(rule(specs.ActKillProcess, "getpid")), call(), outcome{signal: sigsys}},

		{"EQ matches", cond(specs.ActErrno, arg(specs.OpEqualTo, 0, 5)), call("5"), outcome{errno: unix.EPERM}},
		{"EQ differs", cond(specs.ActErrno, arg(specs.OpEqualTo, 0, 5)), call("6"), outcome{}},
		{"NE", cond(specs.ActErrno, arg(specs.OpNotEqual, 0, 5)), call("6"), outcome{errno: unix.EPERM}},
		{"NE equal", cond(specs.ActErrno, arg(specs.OpNotEqual, 0, 5)), call("5"), outcome{}},
		{"LT", cond(specs.ActErrno, arg(specs.OpLessThan, 0, 5)), call("4"), outcome{errno: unix.EPERM}},
		{"LT equal", cond(specs.ActErrno, arg(specs.OpLessThan, 0, 5)), call("5"), outcome{}},
		{"LE equal", cond(specs.ActErrno, arg(specs.OpLessEqual, 0, 5)), call("5"), outcome{errno: unix.EPERM}},
		{"GT", cond(specs.ActErrno, arg(specs.OpGreaterThan, 0, 5)), call("6"), outcome{errno: unix.EPERM}},
		{"GT equal", cond(specs.ActErrno, arg(specs.OpGreaterThan, 0, 5)), call("5"), outcome{}},
		{"GE equal", cond(specs.ActErrno, arg(specs.OpGreaterEqual, 0, 5)), call("5"), outcome{errno: unix.EPERM}},
		// MASKED_EQ: (arg & value) == valueTwo. 0x03 tells it from
		// the swapped (arg & valueTwo) == (value & valueTwo).
		{"MASKED_EQ matches", cond(specs.ActErrno, arg(specs.OpMaskedEqual, 0, 0x0f, 0x01)), call("0x31"), outcome{errno: unix.EPERM}},
		{"MASKED_EQ other bits under the mask", cond(specs.ActErrno, arg(specs.OpMaskedEqual, 0, 0x0f, 0x01)), call("0x03"), outcome{}},
		{"MASKED_EQ differs", cond(specs.ActErrno, arg(specs.OpMaskedEqual, 0, 0x0f, 0x01)), call("0x32"), outcome{}},
		{"argument 3", cond(specs.ActErrno, arg(specs.OpEqualTo, 3, 9)), call("0", "0", "0", "9"), outcome{errno: unix.EPERM}},
		// Conditions on different arguments must all hold.
		{"two arguments both", cond(specs.ActErrno, arg(specs.OpEqualTo, 0, 1), arg(specs.OpEqualTo, 1, 2)), call("1", "2"), outcome{errno: unix.EPERM}},
		{"two arguments one", cond(specs.ActErrno, arg(specs.OpEqualTo, 0, 1), arg(specs.OpEqualTo, 1, 2)), call("1", "3"), outcome{}},
		// Several on one argument: either one (as runc; AND of two EQ
		// on one value could never hold).
		{"one argument twice, first", cond(specs.ActErrno, arg(specs.OpEqualTo, 0, 5), arg(specs.OpEqualTo, 0, 7)), call("5"), outcome{errno: unix.EPERM}},
		{"one argument twice, second", cond(specs.ActErrno, arg(specs.OpEqualTo, 0, 5), arg(specs.OpEqualTo, 0, 7)), call("7"), outcome{errno: unix.EPERM}},
		{"one argument twice, neither", cond(specs.ActErrno, arg(specs.OpEqualTo, 0, 5), arg(specs.OpEqualTo, 0, 7)), call("6"), outcome{}},
		{"unknown name skipped", allowAll(rule(specs.ActErrno, "no_such_syscall_at_all", "getpid")), call(), outcome{errno: unix.EPERM}},
		{"architectures listed", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64},
			Syscalls:      []specs.LinuxSyscall{rule(specs.ActErrno, "getpid")}}, call(), outcome{errno: unix.EPERM}},
		{"flag LOG", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
			Syscalls: []specs.LinuxSyscall{rule(specs.ActErrno, "getpid")}}, call(), outcome{errno: unix.EPERM}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runFiltered(t, compile(t, tc.s), tc.args...); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// KILL and KILL_THREAD kill the calling thread only, and TRAP's SIGSYS
// would be caught by the Go runtime: a single-threaded mkdir(1) under the
// filter shows them, and must not have made its directory.
func TestFilterBehaviourExec(t *testing.T) {
	mkdir, err := exec.LookPath("mkdir")
	if err != nil {
		t.Skip("needs mkdir(1):", err)
	}
	for _, tc := range []struct {
		act  specs.LinuxSeccompAction
		want outcome
	}{
		{specs.ActAllow, outcome{}},
		{specs.ActKill, outcome{signal: syscall.SIGSYS}},
		{specs.ActKillThread, outcome{signal: syscall.SIGSYS}},
		{specs.ActKillProcess, outcome{signal: syscall.SIGSYS}},
		{specs.ActTrap, outcome{signal: syscall.SIGSYS}},
		{specs.ActErrno, outcome{errno: 1}}, // mkdir(1) exits 1 on failure
	} {
		t.Run(string(tc.act), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			got := runFiltered(t, compile(t, allowAll(rule(tc.act, "mkdir", "mkdirat"))), "exec", mkdir, dir)
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			_, err := os.Stat(dir)
			if made, want := err == nil, tc.act == specs.ActAllow; made != want {
				t.Errorf("directory made: got %v, want %v", made, want)
			}
		})
	}
}

// `features` reports architectures by the spec's names, each one a
// profile may list: Compile accepts it, or refuses it only for its byte
// order (EDOM: one filter cannot mix them).
func TestSupportedArchs(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range Supported().Archs {
		seen[a] = true
		_, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.Arch(a)}})
		if err != nil && !errors.Is(err, syscall.EDOM) {
			t.Errorf("%s is reported, but a profile with it fails: %v", a, err)
		}
	}
	for _, a := range []specs.Arch{specs.ArchX86, specs.ArchX86_64, specs.ArchAARCH64, specs.ArchPPC64LE, specs.ArchS390X} {
		if !seen[string(a)] {
			t.Errorf("%s: not reported (got %q)", a, Supported().Archs)
		}
	}
}

// A syscall numbered above every one the profile names answers ENOSYS
// under a refusing default (runc's patchbpf stub), so that software
// probing for a newer syscall (clone3, openat2) falls back; one below
// keeps the default; an allowing default, or one that is ENOSYS
// already, needs no stub.
func TestEnosysStub(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("syscall numbers written down for amd64")
	}
	const (
		clone3, openat2 = 435, 437
		x32Bit          = 0x40000000
	)
	enosys := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	eperm := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	allow := rule(specs.ActAllow, "read", "write", "openat")
	for _, tc := range []struct {
		name  string
		s     specs.LinuxSeccomp
		nr    int
		arch  uint32
		want  uint32
		stub  bool
		notEq bool // want is what it must not be
	}{
		{"newer than the profile: ENOSYS", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{allow}}, openat2, unix.AUDIT_ARCH_X86_64, enosys, true, false},
		{"clone3 too", specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess, Syscalls: []specs.LinuxSyscall{allow}}, clone3, unix.AUDIT_ARCH_X86_64, enosys, true, false},
		{"older, unnamed: the default", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{allow}}, unix.SYS_GETPID, unix.AUDIT_ARCH_X86_64, eperm, true, false},
		{"named: its rule", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{allow}}, unix.SYS_OPENAT, unix.AUDIT_ARCH_X86_64, unix.SECCOMP_RET_ALLOW, true, false},
		{"x32 call without x32 in the profile: not the stub's", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{allow}}, openat2 | x32Bit, unix.AUDIT_ARCH_X86_64, enosys, true, true},
		{"x32 in the profile: its own last", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX32}, Syscalls: []specs.LinuxSyscall{allow}}, openat2 | x32Bit, unix.AUDIT_ARCH_X86_64, enosys, true, false},
		{"i386 in the profile", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86}, Syscalls: []specs.LinuxSyscall{allow}}, 437, unix.AUDIT_ARCH_I386, enosys, true, false},
		{"allowing default: no stub", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule(specs.ActErrno, "getpid")}}, openat2, unix.AUDIT_ARCH_X86_64, unix.SECCOMP_RET_ALLOW, false, false},
		{"ENOSYS default: no stub", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: u(uint(unix.ENOSYS)), Syscalls: []specs.LinuxSyscall{allow}}, unix.SYS_GETPID, unix.AUDIT_ARCH_X86_64, enosys, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := compile(t, &tc.s)
			got := eval(t, p.Filter, tc.arch, tc.nr)
			if tc.notEq && got == tc.want || !tc.notEq && got != tc.want {
				t.Errorf("syscall %#x: got %#x, want %s%#x", tc.nr, got, map[bool]string{true: "not "}[tc.notEq], tc.want)
			}
			// libseccomp's programs start by loading the arch; the
			// stub does too, but then compares it with a constant
			// before anything else.
			ins := decode(p.Filter)
			hasStub := len(ins) > 1 && ins[1].code == 0x15 &&
				(ins[1].k == unix.AUDIT_ARCH_X86_64 || ins[1].k == unix.AUDIT_ARCH_I386) && containsRet(p.Filter, enosys)
			if tc.stub && !hasStub {
				t.Errorf("no ENOSYS stub, want one")
			}
		})
	}
}

func containsRet(prog []byte, k uint32) bool {
	for _, in := range decode(prog) {
		if in.code == 0x06 && in.k == k {
			return true
		}
	}
	return false
}
