package libsandbox

import (
	"bytes"
	"os"
	"path/filepath"
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
