package nsexec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/procenv"
	"github.com/sandbox-runtime/sandbox-runtime/internal/rlimit"
)

// restoreNofile undoes the Go runtime's start-up raise of the soft
// RLIMIT_NOFILE (go.dev/issue/46279): the runtime that started us handed
// us the user's limit, and the container must get exactly that unless
// its config says otherwise. syscall.Exec restores the saved limit before
// calling execve, so calling it with a path that cannot exist restores
// the limit and fails harmlessly with ENOENT. (The saved value is not
// reachable otherwise.)
func restoreNofile() {
	_ = syscall.Exec("", nil, nil)
}

func setRlimits(list []specs.POSIXRlimit) error {
	for _, r := range list {
		res, ok := rlimit.Resource(r.Type)
		if !ok {
			return fmt.Errorf("process.rlimits: unknown rlimit %q", r.Type)
		}
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return fmt.Errorf("process.rlimits: set %s to soft %d hard %d: %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	return nil
}

// setUser changes the calling thread's groups and ids. These are raw
// system calls on purpose: the syscall package's Setuid family changes
// every thread of the process (signals to each), while all we need is this
// thread, the one that will call execve; the other threads die then.
func setUser(u specs.User) error {
	groups := make([]uint32, len(u.AdditionalGids)+1)
	copy(groups, u.AdditionalGids)
	// The pointer is converted in the call expression, as package
	// unsafe requires; groups has a spare element so &groups[0] exists.
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(u.AdditionalGids)), uintptr(unsafe.Pointer(&groups[0])), 0); e != 0 {
		// In a user namespace whose setgroups is "deny" only an empty
		// list could be refused harmlessly.
		if !(e == unix.EPERM && len(u.AdditionalGids) == 0) {
			return fmt.Errorf("setgroups %v: %w", u.AdditionalGids, e)
		}
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("setresgid %d: %w", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("setresuid %d: %w", u.UID, e)
	}
	return nil
}

// homeFor finds uid's home directory in /etc/passwd under root (the
// container's "/", after the pivot): "/" when there is none (runc does the
// same). Resolved in root without magic links; the cwd plays no part.
func homeFor(root string, uid uint32) string {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "/"
	}
	defer unix.Close(rfd)
	how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(rfd, "etc/passwd", &how)
	if err != nil {
		return "/"
	}
	f := os.NewFile(uintptr(fd), "/etc/passwd")
	defer f.Close()
	return procenv.Home(io.LimitReader(f, 1<<20), uid)
}

// defaultPath is used to find args[0] when the process env has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPath finds the program like exec.LookPath, but with the container's
// PATH rather than ours, and with exec.LookPath's error words, which
// clients match ("executable file not found", "no such file or
// directory", "permission denied"). It runs as the container user with
// the container's capabilities, so access is checked as they will be.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", fmt.Errorf("exec: %q: %w", file, unwrapPath(err))
		}
		return file, nil
	}
	p, ok := procenv.Lookup(env, "PATH")
	if !ok {
		p = defaultPath
	}
	var firstErr error
	for _, dir := range strings.Split(p, ":") {
		if dir == "" {
			dir = "."
		}
		full := path.Join(dir, file)
		err := executable(full)
		if err == nil {
			return full, nil
		}
		if firstErr == nil && errors.Is(err, unix.EACCES) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", fmt.Errorf("exec: %q: %w", file, unwrapPath(firstErr))
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
}

// unwrapPath keeps exec.LookPath's words: "stat X: no such file or
// directory" when it is missing, but a bare "permission denied" (runc's
// `exec: "X": permission denied`, which podman maps to exit 126).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Op != "stat" {
		return pe.Err
	}
	return err
}

func executable(file string) error {
	var st unix.Stat_t
	if err := unix.Stat(file, &st); err != nil {
		return &os.PathError{Op: "stat", Path: file, Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return &os.PathError{Op: "exec", Path: file, Err: unix.EACCES}
	}
	if err := unix.Faccessat2(unix.AT_FDCWD, file, unix.X_OK, unix.AT_EACCESS); err != nil {
		return &os.PathError{Op: "exec", Path: file, Err: err}
	}
	return nil
}

// chdirInRoot changes to the process cwd, resolved inside "/" (the
// container root, after the pivot) without magic links: a cwd such as
// /proc/self/fd/N naming one of our own host fds can never take the
// process outside the container (CVE-2024-21626). fd is the resolved
// directory, opened before the user changed; fchdir checks search
// permission as the user.
func openCwd(cwd string) (int, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, "/"+strings.TrimPrefix(cwd, "/"), &how)
	if err != nil {
		return -1, fmt.Errorf("process.cwd %q: %w", cwd, err)
	}
	return fd, nil
}

func chdirFd(fd int, cwd string) error {
	if err := unix.Fchdir(fd); err != nil {
		return fmt.Errorf("chdir to cwd (%q) set in config.json failed: %w", cwd, err)
	}
	// Belt and braces: the kernel says "(unreachable)" for a cwd outside
	// our root.
	buf := make([]byte, 4096)
	n, err := unix.Getcwd(buf)
	if err != nil || n == 0 || buf[0] != '/' {
		return fmt.Errorf("current working directory is outside of container mount namespace root -- possible container breakout detected")
	}
	return nil
}

// fixStdioOwner gives fds 0-2 to uid, as runc's fixStdioPermissions
// does, so that the process can reopen them by name (/dev/stdout, `tty`)
// as a user other than root: the pty we made (console), and pipes and
// sockets (a client's). Never a terminal or a file of the caller's,
// which would hand a host object to the container's user (runc chowns
// anything but /dev/null; we do not). The group stays (a pty's is tty);
// a refusal (an owner not mapped in our user namespace, a group not
// mapped) is not an error, as in runc.
func fixStdioOwner(uid uint32, console bool) {
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			continue
		}
		kind := st.Mode & unix.S_IFMT
		if st.Uid == uid || !(kind == unix.S_IFIFO || kind == unix.S_IFSOCK || (console && kind == unix.S_IFCHR)) {
			continue
		}
		unix.Fchown(fd, int(uid), -1)
	}
}
