package seccomp

import (
	"encoding/json"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// BenchmarkCompilePodman: compiling podman's default profile (libseccomp
// took ~16 ms for it).
func BenchmarkCompilePodman(b *testing.B) {
	j, err := os.ReadFile("testdata/podman-default.json")
	if err != nil {
		b.Fatal(err)
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(j, &s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(&s); err != nil {
			b.Fatal(err)
		}
	}
}
