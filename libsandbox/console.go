package libsandbox

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// dialConsole connects to the --console-socket at path, if there is one:
// init's pty master goes there.
func dialConsole(path string) (*net.UnixConn, error) {
	if path == "" {
		return nil, nil
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("--console-socket: %w", err)
	}
	return conn.(*net.UnixConn), nil
}

// sendFd sends f over the console socket as one SCM_RIGHTS message whose
// payload is the file's name: what containerd and conmon expect.
func sendFd(conn *net.UnixConn, f *os.File) error {
	_, _, err := conn.WriteMsgUnix([]byte(f.Name()), unix.UnixRights(int(f.Fd())), nil)
	return err
}

// dialPidfdSocket connects to the --pidfd-socket at path, if there is
// one: a pidfd of the container's process goes there.
func dialPidfdSocket(path string) (*net.UnixConn, error) {
	if path == "" {
		return nil, nil
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("--pidfd-socket: %w", err)
	}
	return conn.(*net.UnixConn), nil
}

// sendPidfd sends a pidfd of pid, our child (so the pid cannot have been
// reused), over conn as runc does: one SCM_RIGHTS message whose payload
// is "standard" for a container's init and "setns" for an exec'd
// process, the words of runc's init types.
func sendPidfd(conn *net.UnixConn, pid int, kind string) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: %w", os.NewSyscallError("pidfd_open", err))
	}
	defer unix.Close(fd)
	if _, _, err := conn.WriteMsgUnix([]byte(kind), unix.UnixRights(fd), nil); err != nil {
		return fmt.Errorf("--pidfd-socket: send pidfd: %w", err)
	}
	return nil
}
