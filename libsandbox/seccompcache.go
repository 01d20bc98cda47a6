package libsandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/seccomp"
)

// Compiled seccomp filters are kept, as crun keeps them: every container
// of a pod or a host usually has the same profile. It paid most when
// libseccomp compiled them (~16 ms for podman's or Docker's default,
// containers-common's seccomp.json: 462 names on three architectures,
// which made a create with it 4x crun's); the runtime's own compiler
// takes 0.45 ms for it, a hit 0.07 ms (BenchmarkCompilePodman, and the
// same through compileSeccompCached, warm), so it still saves ~0.4 ms
// of such a create.
//
// The cache is a directory of the runtime's root, which only the
// runtime's user can enter (0700) and whose state directories exec and
// delete already trust: whoever may write there may rewrite any
// container's state. A name starting with a dot is never a container ID
// (ValidateID) and list skips it.
func seccompCacheDir(root string) string { return filepath.Join(root, ".cache", "seccomp") }

// exeCacheDir keeps the exec-only copy of the runtime binary that the
// init of a container with a user namespace runs from (sealOpener).
func exeCacheDir(root string) string { return filepath.Join(root, ".cache", "exe") }

// maxSeccompCache bounds the cache (~4 KB a filter): once full, new
// profiles are compiled every time, as without it.
const maxSeccompCache = 256

// compileSeccompCached returns s compiled, from dir if a filter compiled
// from the same section by the same runtime binary is there, else by
// the compiler, keeping the result in dir. dir "" is no cache. The cache
// is best effort: any failure to read or keep is a compile.
func compileSeccompCached(dir string, s *specs.LinuxSeccomp) (*initcfg.Seccomp, error) {
	if dir == "" {
		return seccomp.Compile(s)
	}
	key, ok := seccompKey(s)
	if ok {
		if prog, hit := readFilter(filepath.Join(dir, key)); hit {
			return prog, nil
		}
	}
	prog, err := seccomp.Compile(s)
	if err != nil || !ok {
		return prog, err
	}
	if err := os.MkdirAll(dir, 0o700); err == nil {
		if ents, err := os.ReadDir(dir); err == nil && len(ents) < maxSeccompCache {
			writeFilter(filepath.Join(dir, key), prog)
		}
	}
	return prog, nil
}

// seccompKey names a filter by what it is made of: the section's JSON
// (encoding/json writes a struct's fields in their order, and the
// section has no maps) and the runtime binary that compiles it (device,
// inode, size and modification time of /proc/self/exe: a new binary,
// with its own compiler, makes new keys).
func seccompKey(s *specs.LinuxSeccomp) (string, bool) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", false
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return "", false
	}
	h := sha256.New()
	fmt.Fprintf(h, "sandbox-runtime seccomp filter 1\x00%d %d %d %d.%d\x00", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), true
}
