package seccomp

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FuzzSeccompCompile compiles arbitrary linux.seccomp JSON. Compile only
// builds and exports the program (libseccomp, a memfd, and seccomp(2)
// with a NULL program to probe flags); nothing is loaded. No panic; an
// error names the field; an accepted profile is whole sock_filter
// entries, at most the kernel's 4096 (BPF_MAXINSNS). The seed corpus is
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
	})
}
