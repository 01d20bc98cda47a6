// seccomplistener is a seccomp notify agent for tests (linux.seccomp.
// listenerPath). It listens on a unix socket, accepts one connection from
// the runtime, reads the ContainerProcessState JSON and the notify fd
// that come in one message, checks the JSON, and answers notifications
// until every process using the filter is gone.
//
// Its rule: mkdir(2) and mkdirat(2) of a path containing "allowed" go
// ahead (SECCOMP_USER_NOTIF_FLAG_CONTINUE), any other mkdir fails with
// EPERM; every other notified syscall goes ahead. CONTINUE is only safe
// for a test: the target can change the path after we read it (see
// seccomp_unotify(2), "Design goals; use of SECCOMP_USER_NOTIF_FLAG_CONTINUE").
//
// It writes what it saw and did to -log, one line each:
//
//	state ociVersion=1.3.0 fds=seccompFd pid=1234 id=t1 status=running metadata=m
//	state ok                       (or "state bad: why", then exit 1)
//	mkdir /tmp/allowed-x continue
//	mkdir /tmp/denied EPERM
//	closed
//
// It uses cgo (libseccomp-golang), as the runtime does not; it runs on the
// host, built for the tests only.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func main() {
	logPath := flag.String("log", "", "file to write what happened to (default stderr)")
	ready := flag.String("ready", "", "file to create once listening")
	id := flag.String("id", "", "container id the state must carry")
	metadata := flag.String("metadata", "", "listenerMetadata the state must carry")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long (a test that dies must not leave us behind)")
	conns := flag.Int("conns", 1, "connections to accept (the container's process, then exec'd ones), each served until its filter has no users")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: seccomplistener [-log FILE] [-ready FILE] [-id ID] [-metadata M] [-timeout D] SOCKET")
		os.Exit(2)
	}
	out := io.Writer(os.Stderr)
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "seccomplistener:", err)
			os.Exit(1)
		}
		defer f.Close()
		out = f
	}
	time.AfterFunc(*timeout, func() {
		fmt.Fprintf(out, "timeout after %s\n", *timeout)
		os.Remove(flag.Arg(0))
		os.Exit(3)
	})
	l := &listener{log: out, id: *id, metadata: *metadata, conns: *conns}
	if err := l.run(flag.Arg(0), *ready); err != nil {
		fmt.Fprintln(out, "error:", err)
		os.Exit(1)
	}
}

type listener struct {
	log          io.Writer
	id, metadata string
	conns        int
	mu           sync.Mutex // one log line at a time
}

func (l *listener) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.log, format+"\n", args...)
}

func (l *listener) run(path, ready string) error {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return err
	}
	defer ln.Close() // removes the socket file
	if ready != "" {
		if err := os.WriteFile(ready, nil, 0o644); err != nil {
			return err
		}
	}
	errs := make(chan error, l.conns)
	for i := 0; i < l.conns; i++ {
		conn, err := ln.AcceptUnix()
		if err != nil {
			return err
		}
		go func() { errs <- l.handle(conn) }()
	}
	var first error
	for i := 0; i < l.conns; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// handle serves one connection of the runtime's: its state and fd, then
// the notifications of that filter.
func (l *listener) handle(conn *net.UnixConn) error {
	defer conn.Close()
	// One message: the state JSON, the fd in SCM_RIGHTS. Room for a few
	// fds, to notice a runtime that sends more than it names.
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	if n == 0 && oobn == 0 {
		l.logf("closed before the state came")
		return nil
	}
	var fds []int
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return fmt.Errorf("control message: %w", err)
	}
	for i := range msgs {
		f, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return fmt.Errorf("control message: %w", err)
		}
		fds = append(fds, f...)
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		l.logf("state bad: %v: %q", err, buf[:n])
		return errors.New("bad state")
	}
	l.logf("state ociVersion=%s fds=%s pid=%d id=%s status=%s metadata=%s",
		st.Version, strings.Join(st.Fds, ","), st.Pid, st.State.ID, st.State.Status, st.Metadata)
	if err := l.check(&st, len(fds)); err != nil {
		l.logf("state bad: %v", err)
		return errors.New("bad state")
	}
	l.logf("state ok")
	return l.serve(libseccomp.ScmpFd(fds[0]))
}

func (l *listener) check(st *specs.ContainerProcessState, nfds int) error {
	switch {
	case !strings.HasPrefix(st.Version, "1."):
		return fmt.Errorf("ociVersion %q", st.Version)
	case len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName:
		return fmt.Errorf("fds %q, want [%q]", st.Fds, specs.SeccompFdName)
	case nfds != 1:
		return fmt.Errorf("%d fds received, want 1", nfds)
	case st.Pid <= 0:
		return fmt.Errorf("pid %d", st.Pid)
	case st.State.ID == "":
		return errors.New("state.id empty")
	case l.id != "" && st.State.ID != l.id:
		return fmt.Errorf("state.id %q, want %q", st.State.ID, l.id)
	case st.Metadata != l.metadata:
		return fmt.Errorf("metadata %q, want %q", st.Metadata, l.metadata)
	}
	// state.pid is the container's init; pid is the process with the
	// filter: the same for the container's process, another for an
	// exec'd one, which must then be in init's pid namespace.
	if st.State.Pid != 0 && st.State.Pid != st.Pid {
		a, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", st.State.Pid))
		b, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", st.Pid))
		if err1 != nil || err2 != nil || a != b {
			return fmt.Errorf("state.pid %d and pid %d are not in one pid namespace", st.State.Pid, st.Pid)
		}
	}
	// The pid is the runtime's view, ours too (same pid namespace): it
	// must be a live process that has our filter (Seccomp: 2).
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.Pid))
	if err != nil {
		return fmt.Errorf("pid %d: %w", st.Pid, err)
	}
	if !bytes.Contains(status, []byte("\nSeccomp:\t2\n")) {
		return fmt.Errorf("pid %d is not in seccomp filter mode", st.Pid)
	}
	return nil
}

// serve answers notifications until the filter has no users left: poll
// reports POLLHUP then (Linux 5.8+), while NOTIF_RECV would block for ever.
func (l *listener) serve(fd libseccomp.ScmpFd) error {
	defer unix.Close(int(fd))
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return fmt.Errorf("poll: %w", err)
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			l.logf("closed")
			return nil
		}
		req, err := libseccomp.NotifReceive(fd)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				// The target was killed before we read it.
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		resp := l.decide(fd, req)
		if err := libseccomp.NotifRespond(fd, resp); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("respond: %w", err)
		}
	}
}

func (l *listener) decide(fd libseccomp.ScmpFd, req *libseccomp.ScmpNotifReq) *libseccomp.ScmpNotifResp {
	cont := &libseccomp.ScmpNotifResp{ID: req.ID, Flags: libseccomp.NotifRespFlagContinue}
	name, err := req.Data.Syscall.GetNameByArch(req.Data.Arch)
	if err != nil {
		name = fmt.Sprintf("syscall %d", req.Data.Syscall)
	}
	var ptr uint64
	switch name {
	case "mkdir":
		ptr = req.Data.Args[0]
	case "mkdirat":
		ptr = req.Data.Args[1]
	default:
		l.logf("%s continue", name)
		return cont
	}
	path, err := readString(int(req.Pid), ptr)
	// The pid may have died and been reused between the notification
	// and our read: only a still valid notification vouches for what we
	// read (seccomp_unotify(2), SECCOMP_IOCTL_NOTIF_ID_VALID).
	if verr := libseccomp.NotifIDValid(fd, req.ID); verr != nil {
		l.logf("%s: notification gone: %v", name, verr)
		return &libseccomp.ScmpNotifResp{ID: req.ID, Error: int32(unix.EPERM)}
	}
	if err != nil {
		l.logf("%s: read path: %v", name, err)
		return &libseccomp.ScmpNotifResp{ID: req.ID, Error: int32(unix.EPERM)}
	}
	if strings.Contains(path, "allowed") {
		l.logf("mkdir %s continue", path)
		return cont
	}
	l.logf("mkdir %s EPERM", path)
	return &libseccomp.ScmpNotifResp{ID: req.ID, Error: int32(unix.EPERM)}
}

// readString reads a NUL-terminated string of at most PATH_MAX bytes at
// addr in pid's memory, a page at a time: a read that runs into an
// unmapped page fails as a whole.
func readString(pid int, addr uint64) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	const pathMax = 4096
	page := uint64(os.Getpagesize())
	var s []byte
	for len(s) < pathMax {
		chunk := make([]byte, page-addr%page)
		n, err := f.ReadAt(chunk, int64(addr))
		if n == 0 && err != nil {
			return "", err
		}
		if i := bytes.IndexByte(chunk[:n], 0); i >= 0 {
			return string(append(s, chunk[:i]...)), nil
		}
		s = append(s, chunk[:n]...)
		addr += uint64(n)
	}
	return "", errors.New("path longer than PATH_MAX")
}
