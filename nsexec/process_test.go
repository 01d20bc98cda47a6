package nsexec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
)

// lookPath finds args[0] as exec.LookPath would, with the process's
// PATH, and keeps LookPath's error words, which clients match.
func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	bin1, bin2 := filepath.Join(dir, "bin1"), filepath.Join(dir, "bin2")
	for _, d := range []string{bin1, bin2, filepath.Join(bin1, "adir")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, mode os.FileMode) {
		if err := os.WriteFile(name, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin2, "prog"), 0o755)
	write(filepath.Join(bin1, "noexec"), 0o644)
	path := "PATH=" + bin1 + ":" + bin2
	for _, tc := range []struct {
		name, file string
		env        []string
		want, err  string
	}{
		{"second dir", "prog", []string{path}, filepath.Join(bin2, "prog"), ""},
		{"missing", "nope", []string{path}, "", `exec: "nope": executable file not found in $PATH`},
		{"not executable", "noexec", []string{path}, "", `exec: "noexec": permission denied`},
		{"a directory", "adir", []string{path}, "", `exec: "adir": permission denied`},
		{"with a slash", filepath.Join(bin2, "prog"), nil, filepath.Join(bin2, "prog"), ""},
		{"with a slash, missing", filepath.Join(dir, "x"), nil, "", `exec: "` + filepath.Join(dir, "x") + `": stat ` + filepath.Join(dir, "x") + `: no such file or directory`},
		{"no PATH: the default", "sh", nil, "", ""},
	} {
		got, err := lookPath(tc.file, tc.env)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%s: got %q, %v; want error %q", tc.name, got, err, tc.err)
		case tc.err == "" && tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		case tc.err == "" && tc.want == "" && err != nil && !strings.Contains(err.Error(), "not found"):
			// The default PATH may or may not have sh here; only the
			// wording of a miss is checked.
			t.Errorf("%s: got %v", tc.name, err)
		}
	}
}

func TestHomeFor(t *testing.T) {
	root := t.TempDir()
	if got := homeFor(root, 0); got != "/" {
		t.Errorf("no /etc/passwd: got %q, want /", got)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A symlink out of the root is followed inside it (RESOLVE_IN_ROOT):
	// /etc/passwd -> /passwd.real of the root, never the host's.
	if err := os.WriteFile(filepath.Join(root, "passwd.real"), []byte("u:x:7:7::/home/u:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/passwd.real", filepath.Join(root, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	if got := homeFor(root, 7); got != "/home/u" {
		t.Errorf("uid 7: got %q, want /home/u", got)
	}
	if got := homeFor(root, 0); got != "/" {
		t.Errorf("uid 0 (not in this passwd, only in the host's): got %q, want /", got)
	}
}

func TestPrepareExec(t *testing.T) {
	f, err := prepareExec("/bin/true", []string{"true", "a"}, []string{"A=1"}, nil, -1, nil)
	if err != nil || f.filter != nil || len(f.argv) != 3 || len(f.envv) != 2 {
		t.Fatalf("no filter: got %+v, %v", f, err)
	}
	if _, err := prepareExec("/bin/true", []string{"true"}, nil, &initcfg.Seccomp{Filter: make([]byte, 7)}, -1, nil); err == nil {
		t.Error("a filter of 7 bytes: got no error")
	}
	prog := make([]byte, 16)
	prog[8] = 0x06 // ret
	f, err = prepareExec("/bin/true", []string{"true"}, nil, &initcfg.Seccomp{Filter: prog, Flags: 2}, -1, nil)
	if err != nil || len(f.filter) != 2 || f.fprog.Len != 2 || f.flags != 2 || f.filter[1].Code != 0x06 {
		t.Errorf("two instructions: got %+v, %v", f, err)
	}
	if _, err := prepareExec("/bin/true", []string{"true"}, nil, &initcfg.Seccomp{Filter: prog, Notify: true}, -1, []byte("{}")); err == nil || !strings.Contains(err.Error(), "listenerPath") {
		t.Errorf("notify without a listener connection: got %v, want an error naming listenerPath", err)
	}
}
