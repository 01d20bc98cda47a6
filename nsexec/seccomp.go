package nsexec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
)

// finalExec is the last thing init does: load the seccomp filter (if
// any), hand its listener fd over (SCMP_ACT_NOTIFY), and execve. Once the
// filter is loaded only raw system calls follow, so the user's profile
// needs to allow nothing of ours but execve (and sendmsg with notify):
// everything they point to was built before, so nothing allocates (an
// allocation could mmap).
//
// Why last, and not before the capabilities as runc does without
// no_new_privs: loading a filter needs no_new_privs or CAP_SYS_ADMIN. When
// the spec asks for neither, init keeps CAP_SYS_ADMIN in its effective and
// permitted sets until here (see prepareSeccompCaps); execve then
// recomputes the sets from the bounding, inheritable and ambient sets,
// none of which got CAP_SYS_ADMIN from us, so the user process does not
// keep it.
type finalExec struct {
	argv0 *byte
	argv  []*byte
	envv  []*byte

	filter []unix.SockFilter
	fprog  unix.SockFprog
	flags  uint

	// hugePagesBack: turn transparent huge pages back on (see
	// initcfg.Config.HugePagesBack).
	hugePagesBack bool

	// notify: sendmsg of state to sock, with the listener fd.
	sock  int
	state []byte
	iov   unix.Iovec
	msg   unix.Msghdr
	oob   []byte
}

func prepareExec(name string, args, env []string, sc *initcfg.Seccomp, listenerSock int, state []byte) (*finalExec, error) {
	f := &finalExec{sock: listenerSock, state: state}
	var err error
	if f.argv0, err = syscall.BytePtrFromString(name); err != nil {
		return nil, fmt.Errorf("process.args[0]: %w", err)
	}
	if f.argv, err = syscall.SlicePtrFromStrings(args); err != nil {
		return nil, fmt.Errorf("process.args: %w", err)
	}
	if f.envv, err = syscall.SlicePtrFromStrings(env); err != nil {
		return nil, fmt.Errorf("process.env: %w", err)
	}
	if sc == nil {
		return f, nil
	}
	n := len(sc.Filter) / 8
	if n == 0 || n > 0xffff {
		return nil, errors.New("linux.seccomp: empty or oversized filter")
	}
	f.filter = make([]unix.SockFilter, n)
	for i := range f.filter {
		b := sc.Filter[i*8:]
		f.filter[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:]),
		}
	}
	f.fprog = unix.SockFprog{Len: uint16(n), Filter: &f.filter[0]}
	f.flags = sc.Flags
	if sc.Notify {
		if listenerSock < 0 {
			return nil, errors.New("linux.seccomp.listenerPath: no connection to the listener")
		}
		// The fd goes in the control message after the filter is
		// loaded; reserve the room now and fill the number in then.
		f.oob = unix.UnixRights(0)
		f.iov = unix.Iovec{Base: &f.state[0]}
		f.iov.SetLen(len(f.state))
		f.msg = unix.Msghdr{Iov: &f.iov, Iovlen: 1, Control: &f.oob[0]}
		f.msg.SetControllen(len(f.oob))
	}
	return f, nil
}

// exec marks every fd past stdio and the preserved ones close-on-exec
// (no fd of ours may reach the user process: CVE-2024-21626; marking
// rather than closing keeps the Go runtime's own fds working until
// execve) and runs the final execve. It never returns: a failure, past
// the point where the runtime listens, goes to the container's stderr.
func (f *finalExec) exec(preserveFds int) {
	// The runtime turned transparent huge pages off for init; the
	// setting survives execve, and the user's process must get what the
	// runtime's caller had.
	if f.hugePagesBack {
		if err := unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0); err != nil {
			fatalf("transparent huge pages back on: %v", err)
		}
	}
	if err := unix.CloseRange(uint(3+preserveFds), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fatalf("close fds: %v", err)
	}
	// The preserved ones go to the user's process; the hooks that ran
	// before had them marked close-on-exec (hooks.onlyStdio).
	for fd := 3; fd < 3+preserveFds; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			fatalf("keep preserved fd %d: %v", fd, err)
		}
	}
	fatalf("%v", f.run())
}

// run never returns on success.
func (f *finalExec) run() error {
	if f.filter != nil {
		r1, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(f.flags), uintptr(unsafe.Pointer(&f.fprog)))
		if e != 0 {
			return fmt.Errorf("load seccomp filter: %w", e)
		}
		if f.oob != nil {
			// SCM_RIGHTS payload: the int after the cmsghdr.
			*(*int32)(unsafe.Pointer(&f.oob[unix.CmsgLen(0)])) = int32(r1)
			if _, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(f.sock), uintptr(unsafe.Pointer(&f.msg)), 0); e != 0 {
				return fmt.Errorf("send seccomp listener fd: %w", e)
			}
		}
	}
	_, _, e := unix.RawSyscall(unix.SYS_EXECVE,
		uintptr(unsafe.Pointer(f.argv0)),
		uintptr(unsafe.Pointer(&f.argv[0])),
		uintptr(unsafe.Pointer(&f.envv[0])))
	return fmt.Errorf("exec: %w", e)
}
