package seccomp

import "testing"

// BenchmarkCompilePodman: compiling podman's default profile (libseccomp
// took ~16 ms for it).
func BenchmarkCompilePodman(b *testing.B) {
	s := podmanProfile(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(s); err != nil {
			b.Fatal(err)
		}
	}
}
