package seccomp

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FuzzSeccompCompile compiles arbitrary linux.seccomp JSON. Compile only
// builds the program (and probes the kernel's flags and actions with
// seccomp(2)); nothing is loaded. No panic; an error names the field; an
// accepted profile is whole sock_filter entries, at most the kernel's
// 4096 (BPF_MAXINSNS), and answers as its rules say on the inputs that
// could tell (compare_test.go). The seed corpus is
// in testdata/fuzz/FuzzSeccompCompile.
func FuzzSeccompCompile(f *testing.F) {
	f.Fuzz(func(t *testing.T, profile []byte) {
		var s specs.LinuxSeccomp
		if json.Unmarshal(profile, &s) != nil {
			return
		}
		p, err := Compile(&s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "linux.seccomp") {
				t.Errorf("Compile: error %q does not name a linux.seccomp field", err)
			}
			return
		}
		if n := len(p.Filter); n == 0 || n%8 != 0 || n/8 > 4096 {
			t.Errorf("Compile: a program of %d bytes, want a multiple of 8, 1 to 4096 instructions", n)
		}
		if p.Notify != (p.Flags&flagNewListener != 0) {
			t.Errorf("Compile: notify %v with flags %#x", p.Notify, p.Flags)
		}
		if p.Notify && s.ListenerPath == "" {
			t.Errorf("Compile: SCMP_ACT_NOTIFY accepted without a listenerPath")
		}
		// The program answers as the rules say (model_test.go).
		prog := mainProgram(t, &s)
		for _, in := range inputs(&s, rand.New(rand.NewSource(int64(len(profile)))), 1) {
			if got, want := eval(t, prog, in.arch, int(in.nr), in.args[:]...), model(&s, in); got != want {
				t.Fatalf("arch %#x nr %#x args %#x: got %#x, the rules say %#x", in.arch, in.nr, in.args, got, want)
			}
		}
	})
}
