package seccomp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The compiler is held to libseccomp's meaning: for a profile, its program
// and libseccomp's (the reference, reference_test.go) must return the same
// on every seccomp_data this kernel can produce that could tell them
// apart: every architecture of the machine's family and one it has not,
// every number a rule names and its neighbours, the ranges' edges
// (x32's bit, -1), and arguments around every value a condition
// compares with (its neighbours, other high halves, bits outside a
// mask). A difference fails with the profile and the input.

// mainProgram is Compile's program without the ENOSYS stub (which is
// not libseccomp's: TestEnosysStub checks it).
func mainProgram(t *testing.T, s *specs.LinuxSeccomp) []byte {
	t.Helper()
	p, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if !refuses(s.DefaultAction, s.DefaultErrnoRet) {
		return p.Filter
	}
	archs, err := filterArchs(s)
	if err != nil {
		t.Fatal(err)
	}
	return p.Filter[len(enosysStub(lastSyscalls(s, archs))):]
}

type input struct {
	arch uint32
	nr   uint32
	args [6]uint64
}

// inputs are the seccomp_data worth asking about s.
func inputs(s *specs.LinuxSeccomp, r *rand.Rand, perRule int) []input {
	fam, _ := nativeFamily()
	audits := map[uint32]bool{0xdeadbeef: true}
	for _, a := range fam {
		audits[archInfos[a].audit] = true
	}
	nrs := map[uint32]bool{0: true, 1: true, x32SyscallBit - 1: true, x32SyscallBit: true, x32SyscallBit + 1: true,
		0xffffffff: true, 0xfffffffe: true, 0x7fffffff: true, 0x80000000: true, 0xc0000000: true}
	// Values an argument is tried with, per index.
	var pool [6][]uint64
	for i := range pool {
		pool[i] = []uint64{0, 1, 0xffffffff, 1 << 32, ^uint64(0)}
	}
	for _, sc := range s.Syscalls {
		for _, name := range sc.Names {
			for _, a := range fam {
				if nr := sysNumber(name, a); nr >= 0 {
					nrs[uint32(nr)-1], nrs[uint32(nr)], nrs[uint32(nr)+1] = true, true, true
				}
			}
			if e := sysLookup(name); e != nil && e.mux != 0 {
				nrs[102], nrs[117] = true, true
				// The call, its neighbour, and for ipc the call with a
				// version in the high bits.
				pool[0] = append(pool[0], uint64(e.mux%100), uint64(e.mux%100)+1, uint64(e.mux%100)|0x10000, uint64(e.mux%100)|0xabcd0000)
			}
		}
		for _, a := range sc.Args {
			if a.Index > 5 {
				continue
			}
			for _, v := range []uint64{a.Value, a.ValueTwo} {
				pool[a.Index] = append(pool[a.Index], v, v-1, v+1, v^(1<<32), v^0xffffffff00000000, v&0xffffffff,
					v|a.Value, v&^a.Value, v^a.Value&uint64(r.Int63()))
			}
		}
	}
	var out []input
	for arch := range audits {
		for nr := range nrs {
			for k := 0; k < perRule; k++ {
				in := input{arch: arch, nr: nr}
				for i := range in.args {
					switch r.Intn(6) {
					case 0:
						in.args[i] = r.Uint64()
					case 1:
						in.args[i] = uint64(r.Uint32())
					default:
						in.args[i] = pool[i][r.Intn(len(pool[i]))]
					}
				}
				out = append(out, in)
			}
		}
	}
	return out
}

// check holds the compiled program to the model on every input, and
// reports whether libseccomp took the profile and, if so, the first
// input where its program and the model differ (disagree empty when
// none).
func check(t *testing.T, s *specs.LinuxSeccomp, r *rand.Rand, perRule int) (libTook bool, disagree string) {
	t.Helper()
	ref, libTook := libseccompProgram(t, s)
	mine := mainProgram(t, s)
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := action(s.DefaultAction, s.DefaultErrnoRet)
	for _, in := range inputs(s, r, perRule) {
		want := model(s, in)
		got := eval(t, mine, in.arch, int(in.nr), in.args[:]...)
		if got != want {
			j, _ := json.Marshal(s)
			t.Fatalf("arch %#x nr %#x args %#x: got %#x, the rules say %#x\nprofile: %s", in.arch, in.nr, in.args, got, want, j)
		}
		// The ENOSYS stub may turn the default action into ENOSYS,
		// never a rule's answer into anything.
		if full := eval(t, p.Filter, in.arch, int(in.nr), in.args[:]...); full != got && (got != def || full != retErrnoBase|uint32(unix.ENOSYS)) {
			j, _ := json.Marshal(s)
			t.Fatalf("arch %#x nr %#x args %#x: with the ENOSYS stub %#x, without %#x\nprofile: %s", in.arch, in.nr, in.args, full, got, j)
		}
		// A versioned ipc call, which libseccomp does not see as the
		// call (muxRule).
		ipcVersion := in.arch == auditArchI386 && in.nr == uint32(sysNumber("ipc", archX86)) && in.args[0]&0xffffffff > 0xffff
		if libTook && disagree == "" && !ipcVersion {
			if lib := eval(t, ref, in.arch, int(in.nr), in.args[:]...); lib != want {
				j, _ := json.Marshal(s)
				disagree = fmt.Sprintf("arch %#x nr %#x args %#x: libseccomp %#x, the rules and we %#x\nprofile: %s", in.arch, in.nr, in.args, lib, want, j)
			}
		}
	}
	return libTook, disagree
}

// podmanProfile is podman's default profile: containers-common's
// seccomp.json as podman 4.3 writes it into config.json for a root
// container, with its capability-dependent rules.
func podmanProfile(t testing.TB) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile("testdata/podman-default.json")
	if err != nil {
		t.Fatal(err)
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// Podman's default profile: every syscall number and argument that could
// tell the programs apart.
func TestCompileMatchesLibseccompPodman(t *testing.T) {
	s := *podmanProfile(t)
	r := rand.New(rand.NewSource(1))
	took, disagree := check(t, &s, r, 8)
	if !took {
		t.Fatal("libseccomp refused podman's profile")
	}
	if disagree != "" {
		t.Fatal(disagree)
	}
	mine, ref := mainProgram(t, &s), func() []byte { p, _ := libseccompProgram(t, &s); return p }()
	t.Logf("podman's profile: %d instructions, libseccomp's %d", len(mine)/8, len(ref)/8)
}

var (
	testActions = []specs.LinuxSeccompAction{
		specs.ActKill, specs.ActKillProcess, specs.ActTrap, specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog,
	}
	testArchs = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM}
)

func randomValue(r *rand.Rand) uint64 {
	switch r.Intn(4) {
	case 0:
		return uint64(r.Intn(8))
	case 1:
		return uint64(r.Uint32())
	case 2:
		return r.Uint64()
	}
	return uint64(r.Uint32()) << 32
}

// randomProfile makes a profile whose meaning does not hang on the order
// libseccomp gives rules of different actions (program.go): its
// conditional rules share one action, or (disjoint) each compares
// argument 0 with a value of its own and names no multiplexed call. A
// name is in one conditional rule at most, and a rule's conditions are
// on different arguments: libseccomp 2.5.4 merges several rules with
// 64-bit range comparisons on one syscall wrongly (dup3 with the rules
// arg3 <= 0xdb608787, arg0 >= 0x510a..., arg0 <= 6 gets their action for
// arg0 0x908cb242, arg3 0x94784cc500000001, which none of them matches);
// TestCompileMatchesModel holds such profiles to the rules' meaning.
func randomProfile(r *rand.Rand, disjoint bool) *specs.LinuxSeccomp {
	s := &specs.LinuxSeccomp{DefaultAction: testActions[r.Intn(len(testActions))]}
	if s.DefaultAction == specs.ActErrno && r.Intn(2) == 0 {
		e := uint(r.Intn(200))
		s.DefaultErrnoRet = &e
	}
	for _, i := range r.Perm(len(testArchs)) { // in any order
		if r.Intn(2) == 0 {
			s.Architectures = append(s.Architectures, testArchs[i])
		}
	}
	condAction := testActions[r.Intn(len(testActions))]
	n := 1 + r.Intn(40)
	used := map[uint64]bool{}
	condNames := map[string]bool{}
	for i := 0; i < n; i++ {
		sc := specs.LinuxSyscall{Action: testActions[r.Intn(len(testActions))]}
		for k := 1 + r.Intn(4); k > 0; k-- {
			e := &systab[r.Intn(len(systab))]
			if disjoint && e.mux != 0 {
				continue
			}
			sc.Names = append(sc.Names, e.name)
		}
		if len(sc.Names) == 0 {
			sc.Names = []string{"getpid"}
		}
		// Conditions on socketcall or ipc would overlap with the rules
		// their calls' names make there (arg0 == the call); and a
		// conditional rule on a call means another thing on the
		// multiplexer than libseccomp's (muxRule).
		if r.Intn(2) == 0 && !slices.ContainsFunc(sc.Names, func(n string) bool {
			return condNames[n] || n == "socketcall" || n == "ipc" || sysLookup(n).mux != 0
		}) {
			for _, n := range sc.Names {
				condNames[n] = true
			}
			if disjoint {
				v := randomValue(r)
				for used[v] {
					v = randomValue(r)
				}
				used[v] = true
				sc.Args = []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: v}}
			} else {
				sc.Action = condAction
				for _, index := range r.Perm(4)[:1+r.Intn(3)] {
					ops := []specs.LinuxSeccompOperator{specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
						specs.OpEqualTo, specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual}
					a := specs.LinuxSeccompArg{Index: uint(index), Op: ops[r.Intn(len(ops))], Value: randomValue(r)}
					if a.Op == specs.OpMaskedEqual {
						a.ValueTwo = randomValue(r)
						if r.Intn(2) == 0 {
							a.ValueTwo &= a.Value
						}
					}
					sc.Args = append(sc.Args, a)
				}
			}
		}
		if (sc.Action == specs.ActErrno || sc.Action == specs.ActTrace) && r.Intn(2) == 0 && (disjoint || len(sc.Args) == 0) {
			e := uint(r.Intn(4096))
			sc.ErrnoRet = &e
		}
		s.Syscalls = append(s.Syscalls, sc)
	}
	return s
}

// Random profiles of both kinds: our program answers as the rules say on
// every input, and so does libseccomp's on nearly all. Where it does not,
// it is libseccomp's fault, shown by TestLibseccompMistakes' cases (found
// so): the test logs each, and fails if they are more than 2% of the
// profiles it took (the model would then no longer be libseccomp's
// meaning).
func TestCompileMatchesLibseccomp(t *testing.T) {
	seed, profiles := int64(2), 300
	if testing.Short() {
		profiles = 60
	}
	// SECCOMP_COMPARE=seed,profiles runs others.
	if v := os.Getenv("SECCOMP_COMPARE"); v != "" {
		if _, err := fmt.Sscanf(v, "%d,%d", &seed, &profiles); err != nil {
			t.Fatalf("SECCOMP_COMPARE=%q: want seed,profiles", v)
		}
	}
	r := rand.New(rand.NewSource(seed))
	took, wrong := 0, 0
	for i := 0; i < profiles; i++ {
		ok, disagree := check(t, randomProfile(r, i%2 == 1), r, 3)
		if ok {
			took++
		}
		if disagree != "" {
			wrong++
			t.Logf("libseccomp's program is wrong: %s", disagree)
		}
	}
	// libseccomp refuses some (EEXIST for rules it cannot merge); the
	// test must still compare most.
	if took < profiles*3/4 || wrong*50 > took {
		t.Fatalf("libseccomp took %d of %d random profiles and was wrong on %d", took, profiles, wrong)
	}
	t.Logf("libseccomp took %d of %d random profiles and was wrong on %d", took, profiles, wrong)
}

// Fully random profiles, whose conditional rules overlap with different
// actions and compare one argument twice: the program answers as the
// rules say (the first rule that holds), on every input.
func TestCompileMatchesModel(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	profiles := 300
	if testing.Short() {
		profiles = 60
	}
	for i := 0; i < profiles; i++ {
		s := randomProfile(r, false)
		// Mix the conditional rules' actions and arguments.
		for j := range s.Syscalls {
			sc := &s.Syscalls[j]
			if len(sc.Args) > 0 {
				sc.Action = testActions[r.Intn(len(testActions))]
				if r.Intn(3) == 0 {
					sc.Args = append(sc.Args, specs.LinuxSeccompArg{Index: sc.Args[0].Index, Op: specs.OpLessThan, Value: randomValue(r)})
				}
			}
			if r.Intn(4) == 0 && j > 0 {
				sc.Names = append(sc.Names, s.Syscalls[j-1].Names[0])
			}
			if r.Intn(4) == 0 {
				// A call of x86's multiplexers (muxRule).
				sc.Names = append(sc.Names, []string{"socket", "connect", "send", "semop", "shmget", "msgrcv"}[r.Intn(6)])
			}
		}
		check(t, s, r, 3)
	}
}

// Two mistakes of libseccomp 2.5.4 the random profiles found, where our
// program gives what the rules say.
func TestLibseccompMistakes(t *testing.T) {
	for _, c := range []struct {
		what    string
		profile string
		nr      uint32
		args    []uint64
		want    uint32
	}{
		{
			// With x32, aarch64 and arm in the filter, libseccomp's
			// x86_64 section compares the architecture with the syscall
			// numbers (it never loads the number): no rule of x86_64
			// applies. execveat with arg0 0x9dc07af5 must be killed.
			what:    "x86_64 rules with x32, aarch64 and arm",
			profile: `{"defaultAction":"SCMP_ACT_LOG","architectures":["SCMP_ARCH_X32","SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"],"syscalls":[{"names":["setpriority","sched_rr_get_interval_time64","getpmsg","futex_time64"],"action":"SCMP_ACT_TRACE","errnoRet":4026,"args":[{"index":0,"value":5538646295704502272,"op":"SCMP_CMP_EQ"}]},{"names":["execveat","setgid","flock"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":0,"value":2646637301,"op":"SCMP_CMP_EQ"}]},{"names":["mmap2"],"action":"SCMP_ACT_TRAP"},{"names":["wait4"],"action":"SCMP_ACT_TRACE","args":[{"index":0,"value":7,"op":"SCMP_CMP_EQ"}]}]}`,
			nr:      322, // execveat
			args:    []uint64{0x9dc07af5},
			want:    retKillProcess,
		},
		{
			// Three rules of one syscall with 64-bit range comparisons,
			// merged by libseccomp into a tree that matches an argument
			// none of them does.
			what:    "64-bit ranges on one syscall",
			profile: `{"defaultAction":"SCMP_ACT_TRAP","syscalls":[{"names":["dup3"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":3,"value":3680582535,"op":"SCMP_CMP_LE"},{"index":0,"value":5839407869423406814,"op":"SCMP_CMP_GE"},{"index":0,"value":6,"op":"SCMP_CMP_LE"}]}]}`,
			nr:      292, // dup3
			args:    []uint64{0x908cb242, 0x25e50aa4, 0xdc727a4966d3199e, 0x94784cc500000001},
			want:    retTrap,
		},
	} {
		if nativeArch(t) != auditArchX86_64 {
			t.Skip("the cases are x86_64's")
		}
		var s specs.LinuxSeccomp
		if err := json.Unmarshal([]byte(c.profile), &s); err != nil {
			t.Fatal(err)
		}
		in := input{arch: auditArchX86_64, nr: c.nr}
		copy(in.args[:], c.args)
		if m := model(&s, in); m != c.want {
			t.Fatalf("%s: the model says %#x, want %#x", c.what, m, c.want)
		}
		if got := eval(t, mainProgram(t, &s), in.arch, int(in.nr), in.args[:]...); got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.what, got, c.want)
		}
		ref, _ := libseccompProgram(t, &s)
		t.Logf("%s: libseccomp's program returns %#x", c.what, eval(t, ref, in.arch, int(in.nr), in.args[:]...))
	}
}

// The attacker's way around a deny list through another ABI of the same
// kernel: on x86_64 a process can make x32 syscalls (the number with
// __X32_SYSCALL_BIT, under AUDIT_ARCH_X86_64) and i386 ones (int 0x80,
// AUDIT_ARCH_I386), where getpid has other numbers. A profile that does
// not list those architectures must not let them reach the kernel; one
// that lists them denies getpid there too.
func TestOtherABIs(t *testing.T) {
	if nativeArch(t) != auditArchX86_64 {
		t.Skip("x86_64's ABIs")
	}
	deny := func(archs ...specs.Arch) *specs.LinuxSeccomp {
		s := allowAll(rule(specs.ActErrno, "getpid"))
		s.Architectures = archs
		return s
	}
	const (
		getpid64  = 39
		getpidX32 = x32SyscallBit | 39
		getpid32  = 20
		eperm     = retErrnoBase | uint32(unix.EPERM)
	)
	for _, c := range []struct {
		what     string
		s        *specs.LinuxSeccomp
		arch, nr uint32
		want     uint32
	}{
		{"x86_64 getpid", deny(), auditArchX86_64, getpid64, eperm},
		{"x32 getpid, x32 not listed: a bad architecture", deny(), auditArchX86_64, getpidX32, retBadArch},
		{"another x32 number, x32 not listed", deny(), auditArchX86_64, x32SyscallBit | 1, retBadArch},
		{"-1 (a tracer's skip), x32 not listed", deny(), auditArchX86_64, 0xffffffff, retAllow},
		{"i386 getpid, x86 not listed: a bad architecture", deny(), auditArchI386, getpid32, retBadArch},
		{"x32 getpid, x32 listed", deny(specs.ArchX32), auditArchX86_64, getpidX32, eperm},
		{"x32 other, x32 listed", deny(specs.ArchX32), auditArchX86_64, x32SyscallBit | 1, retAllow},
		{"i386 getpid, x86 listed", deny(specs.ArchX86), auditArchI386, getpid32, eperm},
		{"x86_64 getpid, all listed", deny(specs.ArchX86, specs.ArchX32, specs.ArchAARCH64), auditArchX86_64, getpid64, eperm},
		{"aarch64 (cannot run here)", deny(specs.ArchAARCH64), auditArchAARCH64, 172, retBadArch},
	} {
		got := eval(t, mainProgram(t, c.s), c.arch, int(c.nr))
		if got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.what, got, c.want)
		}
		if m := model(c.s, input{arch: c.arch, nr: c.nr}); m != c.want {
			t.Errorf("%s: the model says %#x, want %#x", c.what, m, c.want)
		}
	}
}

// TestSystabUpToDate regenerates systab_gen.go from the libseccomp the
// tests link (gensystab.go) and compares: a newer libseccomp knows newer
// syscalls, and the compiler must resolve every name as it does. Update
// with `go generate ./libsandbox/seccomp`.
func TestSystabUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go run")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out := filepath.Join(t.TempDir(), "systab_gen.go")
	if b, err := exec.Command(goBin, "run", "gensystab.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run gensystab.go: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("systab_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("systab_gen.go does not match the linked libseccomp: go generate ./libsandbox/seccomp")
	}
}

// x86's multiplexed calls (muxRule), as an attacker in an i386 process
// would try them: a versioned ipc call, a call through the multiplexer
// past a conditional rule, and the ENOSYS stub in front of it all.
func TestMultiplexedCalls(t *testing.T) {
	if nativeArch(t) != auditArchX86_64 {
		t.Skip("x86's multiplexers run on x86_64")
	}
	const (
		socketcall = 102
		ipc        = 117
		eperm      = retErrnoBase | uint32(unix.EPERM)
	)
	profile := func(def specs.LinuxSeccompAction, rules ...specs.LinuxSyscall) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: def, Architectures: []specs.Arch{specs.ArchX86}, Syscalls: rules}
	}
	withArgs := func(r specs.LinuxSyscall, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
		r.Args = args
		return r
	}
	for _, c := range []struct {
		what string
		s    *specs.LinuxSeccomp
		nr   uint32
		args []uint64
		want uint32
	}{
		{"semop denied through ipc", profile(specs.ActAllow, rule(specs.ActErrno, "semop", "shmget")), ipc, []uint64{1}, eperm},
		{"semop denied through ipc with a version (kernel: call & 0xffff)", profile(specs.ActAllow, rule(specs.ActErrno, "semop", "shmget")),
			ipc, []uint64{0x10001}, eperm},
		{"shmget denied through ipc with a version", profile(specs.ActAllow, rule(specs.ActErrno, "semop", "shmget")), ipc, []uint64{0xabcd0017}, eperm},
		{"another ipc call", profile(specs.ActAllow, rule(specs.ActErrno, "semop")), ipc, []uint64{2}, retAllow},
		{"connect denied on a condition: all of connect through socketcall", profile(specs.ActAllow,
			withArgs(rule(specs.ActErrno, "connect"), arg(specs.OpEqualTo, 2, 16))), socketcall, []uint64{3, 0x1000, 0}, eperm},
		{"socket allowed on a condition: not through socketcall", profile(specs.ActErrno, rule(specs.ActAllow, "exit_group"),
			withArgs(rule(specs.ActAllow, "socket"), arg(specs.OpNotEqual, 0, 40))), socketcall, []uint64{1, 0x1000}, eperm},
		{"socket allowed: through socketcall too", profile(specs.ActErrno, rule(specs.ActAllow, "socket", "read")), socketcall, []uint64{1, 0x1000}, retAllow},
		{"accept allowed: through socketcall, past the ENOSYS stub", profile(specs.ActErrno, rule(specs.ActAllow, "accept", "read")), socketcall, []uint64{5}, retAllow},
		{"semop allowed: through ipc, past the ENOSYS stub", profile(specs.ActErrno, rule(specs.ActAllow, "semop", "read")), ipc, []uint64{1}, retAllow},
	} {
		p, err := Compile(c.s)
		if err != nil {
			t.Fatal(err)
		}
		if got := eval(t, p.Filter, auditArchI386, int(c.nr), c.args...); got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.what, got, c.want)
		}
	}
}

// A rule whose action is the default is dropped before the others, as
// runc drops it (libseccomp refuses it): it does not shadow a later
// rule of another action. Profiles written for runc count on that.
func TestDefaultActionRulesDropped(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
		rule(specs.ActErrno, "ptrace"), rule(specs.ActAllow, "ptrace", "getpid")}}
	fam, _ := nativeFamily()
	nr := sysNumber("ptrace", fam[0])
	if got := eval(t, mainProgram(t, s), archInfos[fam[0]].audit, int(nr)); got != retAllow {
		t.Errorf("ptrace: got %#x, want ALLOW (%#x)", got, uint32(retAllow))
	}
	if ref, ok := libseccompProgram(t, s); !ok || eval(t, ref, archInfos[fam[0]].audit, int(nr)) != retAllow {
		t.Errorf("libseccomp, as runc uses it, does not allow ptrace: the test's premise is wrong")
	}
}

// The architectures' order in the profile does not matter: with x32
// listed before x86, i386 syscalls still have their section (filterArchs
// once appended into the family's own array and lost x86 that way).
func TestArchitecturesInAnyOrder(t *testing.T) {
	if nativeArch(t) != auditArchX86_64 {
		t.Skip("x86_64's family")
	}
	const getpid32 = 20
	for _, archs := range [][]specs.Arch{
		{specs.ArchX86, specs.ArchX32},
		{specs.ArchX32, specs.ArchX86},
		{specs.ArchX32, specs.ArchAARCH64, specs.ArchX86, specs.ArchX86_64},
	} {
		s := allowAll(rule(specs.ActErrno, "getpid"))
		s.Architectures = archs
		if got := eval(t, mainProgram(t, s), auditArchI386, getpid32); got != retErrnoBase|uint32(unix.EPERM) {
			t.Errorf("%v: i386 getpid got %#x, want EPERM", archs, got)
		}
		if got := eval(t, mainProgram(t, s), auditArchX86_64, x32SyscallBit|39); got != retErrnoBase|uint32(unix.EPERM) {
			t.Errorf("%v: x32 getpid got %#x, want EPERM", archs, got)
		}
	}
}
