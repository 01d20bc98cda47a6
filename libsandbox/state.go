package libsandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/internal/specjson"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/seccomp"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/statefile"
)

// Status is a container's status. It is never stored: every call derives
// it from the init process and the exec fifo (see status).
type Status string

// The statuses: the runtime spec's four plus runc's "paused".
const (
	Creating Status = Status(specs.StateCreating)
	Created  Status = Status(specs.StateCreated)
	Running  Status = Status(specs.StateRunning)
	Stopped  Status = Status(specs.StateStopped)
	Paused   Status = "paused"
)

const (
	stateFile = "state.json"
	specFile  = "config.json"
	fifoFile  = "exec.fifo"
	// seccompFile is linux.seccomp as create compiled it, for exec: the
	// container's own filter even if the runtime binary was replaced
	// since, without compiling it again (0.45 ms for a profile such as
	// podman's or Docker's default: containers-common's seccomp.json, 462
	// syscall names on three architectures; libseccomp took ~16 ms).
	seccompFile = "seccomp.json"
)

// persisted is state.json (package statefile, whose type it is so that
// the methods here can be on it).
type persisted statefile.State

func writeState(dir string, s *persisted) error {
	return writeFileAtomic(filepath.Join(dir, stateFile), statefile.Marshal((*statefile.State)(s)), 0o600)
}

// writeFileAtomic writes a temporary file next to name and renames it
// over name: readers see the old content or the new, never a part. On
// error (a full filesystem) the temporary file is removed and name is
// untouched.
func writeFileAtomic(name string, b []byte, mode os.FileMode) (retErr error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return os.Rename(f.Name(), name)
}

// writeSeccomp saves the compiled filter for exec (seccompFile).
func writeSeccomp(dir string, prog *initcfg.Seccomp) error {
	return writeFilter(filepath.Join(dir, seccompFile), prog)
}

// writeFilter and readFilter keep a compiled filter in a file: the
// state directory's for exec, the root's cache (seccompcache.go).
func writeFilter(name string, prog *initcfg.Seccomp) error {
	return writeFileAtomic(name, specjson.MarshalSeccomp(prog), 0o600)
}

// readFilter returns the filter kept in name, or false if there is none
// or it cannot be read.
func readFilter(name string) (*initcfg.Seccomp, bool) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, false
	}
	prog := new(initcfg.Seccomp)
	if specjson.UnmarshalSeccomp(b, prog) != nil || len(prog.Filter) == 0 {
		return nil, false
	}
	return prog, true
}

// compiledSeccomp returns the container's filter: the one create saved,
// or, for a container created without it (by an earlier version, or
// restored), s compiled again. The state directory is the runtime's,
// as the config saved next to it that exec trusts the same way.
func compiledSeccomp(dir string, s *specs.LinuxSeccomp) (*initcfg.Seccomp, error) {
	if prog, ok := readFilter(filepath.Join(dir, seccompFile)); ok {
		return prog, nil
	}
	return seccomp.Compile(s)
}

func writeSpec(dir string, spec *specs.Spec) error {
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, specFile), b, 0o600)
}

func readSpec(dir string) (*specs.Spec, error) {
	b, err := os.ReadFile(filepath.Join(dir, specFile))
	if err != nil {
		return nil, err
	}
	spec := new(specs.Spec)
	if err := specjson.UnmarshalStored(b, spec); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, specFile), err)
	}
	return spec, nil
}

func readState(dir string) (*persisted, error) {
	name := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	s := new(persisted)
	if err := statefile.Unmarshal(b, (*statefile.State)(s)); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	// Every state.json of ours names init or, while creating, the
	// creator. One that names neither is another runtime's: Docker
	// 20.10 gives every runtime of the runc shim one --root
	// (runtime-runc/moby), where runc's containers have a state.json of
	// their own. Such a container does not exist for us: delete must
	// not remove runc's state of a running container, nor list show it
	// as stopped (runc skips ours the same way).
	if s.InitPid == 0 && s.CreatorPid == 0 {
		return nil, fmt.Errorf("%s: not a state of this runtime: %w", name, os.ErrNotExist)
	}
	return s, nil
}

// status derives the status (runc's refreshState): stopped when init is
// gone or its pid now names another process; created while init waits on
// the exec fifo (the fifo exists until start consumes it); running
// otherwise. A container whose state was written by a create still in
// progress is creating; if that create died, stopped.
func (s *persisted) status(dir string) Status {
	if s.InitPid == 0 {
		if alive(s.CreatorPid, s.CreatorStart) {
			return Creating
		}
		return Stopped
	}
	if !alive(s.InitPid, s.InitStart) {
		return Stopped
	}
	if frozen(s) {
		return Paused
	}
	if _, err := os.Lstat(filepath.Join(dir, fifoFile)); err == nil {
		return Created
	}
	return Running
}

// frozen reports whether the container's cgroup is frozen.
func frozen(s *persisted) bool {
	return s.Cgroup != nil && cgroups.Load(s.Cgroup).Frozen()
}

// lock takes the container's lock: an exclusive flock on its directory.
// Every verb that changes a container holds it, so concurrent calls on
// one container run one after the other. It is released when the fd is
// closed (also when the process dies).
//
// The lock is on the directory's inode, and the path may name another
// inode by the time we get it: a delete that held it removed the
// directory, and a create of the same ID may have made a new one. A lock
// on the removed directory excludes no one, and the state read through
// the path would be the new container's: two verbs would act on it at
// once (load.bats races delete, create and the others on one ID). So
// once locked, the path must still name the locked directory; if it
// names another one, lock that; if none, the container does not exist.
func lock(dir string) (*os.File, error) {
	for {
		f, err := os.Open(dir)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, ErrNotExist
			}
			return nil, err
		}
		for {
			err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
			if err != unix.EINTR {
				break
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		var locked, now unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &locked); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, &os.PathError{Op: "fstat", Path: dir, Err: err})
		}
		err = unix.Stat(dir, &now)
		if err == nil && now.Dev == locked.Dev && now.Ino == locked.Ino {
			return f, nil
		}
		f.Close()
		if err != nil && err != unix.ENOENT {
			return nil, fmt.Errorf("lock %s: %w", dir, &os.PathError{Op: "stat", Path: dir, Err: err})
		}
		// Removed (ENOENT: Open above says so) or replaced: again.
	}
}
