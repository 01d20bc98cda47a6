package libsandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/seccomp"
)

// exec takes the filter create saved (seccompFile) rather than
// compiling the config's again, and compiles it when there is none or
// it cannot be read.
func TestCompiledSeccomp(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow}},
	}
	want, err := seccomp.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// None saved: compiled.
	got, err := compiledSeccomp(dir, s)
	if err != nil || !bytes.Equal(got.Filter, want.Filter) {
		t.Fatalf("no saved filter: got %v, %v; want the compiled one", got, err)
	}

	// Saved (create's): that one, even where it differs from what the
	// config compiles to now (a libseccomp upgraded under a running
	// container: exec gets init's filter).
	saved := &initcfg.Seccomp{Filter: []byte{6, 0, 0, 0, 0, 0, 0xff, 0x7f}, Flags: 1, Notify: true, ListenerPath: "/run/agent.sock"}
	if err := writeSeccomp(dir, saved); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, seccompFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v; want 0600", seccompFile, err, fi.Mode())
	}
	got, err = compiledSeccomp(dir, s)
	if err != nil || !bytes.Equal(got.Filter, saved.Filter) || got.Flags != 1 || !got.Notify || got.ListenerPath != saved.ListenerPath {
		t.Fatalf("saved filter: got %+v, %v; want %+v", got, err, saved)
	}

	// Unreadable (truncated): compiled again.
	if err := os.WriteFile(filepath.Join(dir, seccompFile), []byte(`{"filter":"BgAA`), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = compiledSeccomp(dir, s)
	if err != nil || !bytes.Equal(got.Filter, want.Filter) {
		t.Fatalf("truncated saved filter: got %v, %v; want the compiled one", got, err)
	}
}

// The cache: kept on a miss, taken on a hit, a key per section, bounded.
func TestCompileSeccompCached(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".cache", "seccomp")
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}
	want, err := seccomp.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := compileSeccompCached(dir, s)
	if err != nil || !bytes.Equal(got.Filter, want.Filter) {
		t.Fatalf("miss: %v, %v", got, err)
	}
	key, ok := seccompKey(s)
	if !ok {
		t.Fatal("no key")
	}
	if _, err := os.Stat(filepath.Join(dir, key)); err != nil {
		t.Fatalf("not kept: %v", err)
	}
	// A hit is the file's content.
	if err := writeSeccomp(dir, &initcfg.Seccomp{Filter: []byte{6, 0, 0, 0, 0, 0, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, seccompFile), filepath.Join(dir, key)); err != nil {
		t.Fatal(err)
	}
	if got, _ := compileSeccompCached(dir, s); !bytes.Equal(got.Filter, []byte{6, 0, 0, 0, 0, 0, 0, 0}) {
		t.Fatalf("hit: got %v, want the kept filter", got.Filter)
	}
	// Another section, another key.
	s2 := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"rmdir"}, Action: specs.ActErrno}}}
	if k2, _ := seccompKey(s2); k2 == key {
		t.Fatal("two sections, one key")
	}
	// Full: compiled, not kept.
	for i := 0; i < maxSeccompCache; i++ {
		os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), nil, 0o600)
	}
	if _, err := compileSeccompCached(dir, s2); err != nil {
		t.Fatal(err)
	}
	if k2, _ := seccompKey(s2); fileExists(filepath.Join(dir, k2)) {
		t.Fatal("kept beyond the bound")
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
