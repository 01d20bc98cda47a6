// recvtty is a console socket for tests: it listens on a unix socket,
// receives one pty master (as containerd and conmon do), copies what the
// container writes to stdout and, with -input, writes that text to the
// container. It exits when the container side of the pty closes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	input := flag.String("input", "", "text to type into the terminal")
	ready := flag.String("ready", "", "file to create once listening")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: recvtty [-input TEXT] [-ready FILE] SOCKET")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *input, *ready); err != nil {
		fmt.Fprintln(os.Stderr, "recvtty:", err)
		os.Exit(1)
	}
}

func run(path, input, ready string) error {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return err
	}
	defer l.Close()
	if ready != "" {
		if err := os.WriteFile(ready, nil, 0o644); err != nil {
			return err
		}
	}
	conn, err := l.AcceptUnix()
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("no fd received (name %q)", buf[:n])
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return errors.New("no fd in the control message")
	}
	master := os.NewFile(uintptr(fds[0]), string(buf[:n]))
	if _, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN); err != nil {
		return fmt.Errorf("received fd is not a pty master: %w", err)
	}
	if input != "" {
		if _, err := master.WriteString(input); err != nil {
			return err
		}
	}
	_, err = io.Copy(os.Stdout, master)
	if errors.Is(err, unix.EIO) { // the other side closed
		err = nil
	}
	return err
}
