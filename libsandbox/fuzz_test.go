package libsandbox

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The seed corpora of these targets are in testdata/fuzz/FuzzX; `go
// test` runs them as ordinary tests, `make fuzz` fuzzes each target.

// FuzzValidateID: an accepted ID names one directory right under the
// state root, never the root itself or its parent.
func FuzzValidateID(f *testing.F) {
	const root = "/run/sandbox-runtime"
	f.Fuzz(func(t *testing.T, id string) {
		if ValidateID(id) != nil {
			return
		}
		if id == "." || id == ".." || strings.HasPrefix(id, ".") || strings.ContainsAny(id, "/\x00") {
			t.Fatalf("ValidateID(%q): accepted", id)
		}
		p := filepath.Join(root, id)
		if filepath.Dir(p) != root || filepath.Base(p) != id {
			t.Fatalf("ValidateID(%q): accepted, but it names %s, not a directory right under %s", id, p, root)
		}
	})
}

// FuzzParseProcStat parses comm as a whole stat file (no panic), then a
// stat line with comm as the command name: the kernel writes comm as is,
// parentheses, spaces and newlines included, so only the last ')' ends
// it.
func FuzzParseProcStat(f *testing.F) {
	f.Fuzz(func(t *testing.T, comm string, state byte, start uint64) {
		parseProcStat([]byte(comm))

		// comm is a C string; the state is a letter (fs/proc/array.c).
		if strings.ContainsRune(comm, 0) || !(state >= 'A' && state <= 'Z' || state >= 'a' && state <= 'z') {
			return
		}
		line := "1234 (" + comm + ") " + string(rune(state)) + " 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 " +
			strconv.FormatUint(start, 10) + " 1000 200 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
		got, err := parseProcStat([]byte(line))
		if err != nil {
			t.Fatalf("parseProcStat(%q): %v", line, err)
		}
		if want := (procStat{State: state, StartTime: start}); got != want {
			t.Errorf("parseProcStat(%q): got %+v, want %+v", line, got, want)
		}
	})
}

// The top-level fields of config.json: every validate error starts with
// one of them, followed by '.', '[', ':', ' ' or nothing.
var specFields = []string{
	"ociVersion", "root", "process", "hostname", "domainname", "mounts", "hooks",
	"annotations", "linux", "solaris", "windows", "vm", "zos",
}

// Namespace files the fuzzer may name as they are: opening them has no
// effect, and they exercise joining (and the own-netns check).
var fuzzNamespacePaths = map[string]bool{
	"/proc/self/ns/cgroup": true, "/proc/self/ns/ipc": true, "/proc/self/ns/mnt": true,
	"/proc/self/ns/net": true, "/proc/self/ns/pid": true, "/proc/self/ns/time": true,
	"/proc/self/ns/user": true, "/proc/self/ns/uts": true,
}

// FuzzValidate decodes arbitrary bytes as config.json and validates them
// against a bundle with an empty rootfs (and a directory "data" and an
// empty file "file" next to it).
//
// validate only reads the host, with one exception in kind: it opens
// linux.namespaces[].path, and opening a file is not always harmless (a
// fifo blocks, /dev/watchdog arms the watchdog, a tty may become the
// controlling terminal). So the target skips a spec with a namespace
// path other than /proc/self/ns/*, and turns a relative local path
// ("file", "rootfs") into one inside the bundle, which holds only
// directories and an empty regular file. The other paths validate
// touches (root.path, hook paths) are only stat'ed (and root.path's
// symlinks read), which changes nothing.
func FuzzValidate(f *testing.F) {
	bundle := f.TempDir()
	for _, d := range []string{"rootfs", "data"} {
		if err := os.Mkdir(filepath.Join(bundle, d), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bundle, "file"), nil, 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, config []byte) {
		var spec specs.Spec
		if json.Unmarshal(config, &spec) != nil {
			return
		}
		if spec.Linux != nil {
			for i, ns := range spec.Linux.Namespaces {
				switch {
				case ns.Path == "" || fuzzNamespacePaths[ns.Path]:
				case filepath.IsLocal(ns.Path):
					spec.Linux.Namespaces[i].Path = filepath.Join(bundle, ns.Path)
				default:
					t.Skipf("linux.namespaces[%d].path %q: not opened by the fuzzer", i, ns.Path)
				}
			}
		}
		before, err := json.Marshal(&spec)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}

		p, err := resolve(&spec, bundle)

		if after, _ := json.Marshal(&spec); string(after) != string(before) {
			t.Errorf("validate changed the spec:\nbefore %s\nafter  %s", before, after)
		}
		if err != nil {
			if p != nil {
				t.Errorf("validate: error %v and a plan", err)
			}
			msg := err.Error()
			for _, field := range specFields {
				if rest, ok := strings.CutPrefix(msg, field); ok && (rest == "" || strings.ContainsRune(".[: ", rune(rest[0]))) {
					return
				}
			}
			t.Fatalf("validate: error %q does not start with a config.json field", msg)
		}
		defer p.ns.close()
		checkPlan(t, &spec, p)
	})
}

// checkPlan checks what a spec validate accepted must have.
func checkPlan(t *testing.T, spec *specs.Spec, p *plan) {
	t.Helper()
	if major, _, _ := strings.Cut(spec.Version, "."); major != "1" {
		t.Errorf("ociVersion %q accepted", spec.Version)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		t.Fatalf("root %+v accepted", spec.Root)
	}
	if fi, err := os.Stat(p.rootfs); err != nil || !fi.IsDir() || !filepath.IsAbs(p.rootfs) {
		t.Errorf("rootfs %q accepted: not an absolute path to a directory (%v)", p.rootfs, err)
	}
	proc := spec.Process
	switch {
	case proc == nil:
		t.Fatal("no process accepted")
	case len(proc.Args) == 0 || proc.Args[0] == "":
		t.Errorf("process.args %q accepted", proc.Args)
	case !path.IsAbs(proc.Cwd):
		t.Errorf("process.cwd %q accepted", proc.Cwd)
	}
	for i, kv := range proc.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" || strings.ContainsRune(kv, 0) {
			t.Errorf("process.env[%d] %q accepted", i, kv)
		}
	}
	if spec.Linux == nil {
		t.Fatal("no linux section accepted")
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range spec.Linux.Namespaces {
		if _, ok := nsFlags[ns.Type]; !ok || seen[ns.Type] {
			t.Errorf("linux.namespaces %+v accepted", spec.Linux.Namespaces)
		}
		seen[ns.Type] = true
	}
	if spec.Hostname != "" && !p.ns.has(specs.UTSNamespace) {
		t.Errorf("hostname %q accepted without a UTS namespace", spec.Hostname)
	}
	if len(spec.Mounts) > 0 && !p.ns.has(specs.MountNamespace) {
		t.Errorf("mounts accepted without a mount namespace")
	}
	if len(p.mounts) != len(spec.Mounts) {
		t.Errorf("plan has %d mounts, the spec %d", len(p.mounts), len(spec.Mounts))
	}
	for i, m := range p.mounts {
		if !path.IsAbs(m.Destination) {
			t.Errorf("mounts[%d].destination %q accepted", i, m.Destination)
		}
	}
	if spec.Linux.Seccomp != nil && (p.seccomp == nil || len(p.seccomp.Filter) == 0 || len(p.seccomp.Filter)%8 != 0) {
		t.Errorf("linux.seccomp accepted, compiled to %+v", p.seccomp)
	}
}
