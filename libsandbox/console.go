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
