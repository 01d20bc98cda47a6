// recvtty is a console socket for tests: it listens on a unix socket,
// receives one pty master (as containerd and conmon do), copies what the
// container writes to stdout and, with -input, writes that text to the
// container. It exits when the container side of the pty closes.
//
// With -pidfd it is a --pidfd-socket instead: it receives one pidfd,
// prints the message's payload and the pid the fd refers to ("setns
// 1234"), then "exited" once that process has exited, and exits.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	input := flag.String("input", "", "text to type into the terminal")
	ready := flag.String("ready", "", "file to create once listening")
	pidfd := flag.Bool("pidfd", false, "receive a pidfd, not a pty master")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: recvtty [-input TEXT] [-ready FILE] [-pidfd] SOCKET")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *input, *ready, *pidfd); err != nil {
		fmt.Fprintln(os.Stderr, "recvtty:", err)
		os.Exit(1)
	}
}

func run(path, input, ready string, pidfd bool) error {
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
	if pidfd {
		return waitPidfd(fds[0], string(buf[:n]))
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

// waitPidfd prints name and the pid of pidfd fd (from its fdinfo, which
// only a pidfd has a "Pid:" line in), then "exited" once it turns
// readable: its process has exited.
func waitPidfd(fd int, name string) error {
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return err
	}
	pid := ""
	for _, l := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			pid = strings.TrimSpace(v)
		}
	}
	if pid == "" {
		return fmt.Errorf("received fd is not a pidfd (name %q)", name)
	}
	fmt.Println(name, pid)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(pfd, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		fmt.Println("exited")
		return nil
	}
}
