// Package criu talks to CRIU through its RPC: `criu swrk 3` is started
// with one end of a SOCK_SEQPACKET socketpair as fd 3, gets one request
// (a criu_req protobuf, package rpc: its wire format without go-criu's
// generated code, see there why), and answers with
// notifications, each acknowledged, then one response:
//
//	runtime                        criu swrk
//	   | -- criu_req{DUMP|RESTORE|...} --> |
//	   | <-- criu_resp{NOTIFY, script} --- |  (pre-dump, network-lock,
//	   | -- criu_req{NOTIFY, success} ---> |   setup-namespaces, post-restore,
//	   |            ...                    |   orphan-pts-master + fd, ...)
//	   | <-- criu_resp{type, success} ---- |
//	   |              EOF                  |  criu exits
//
// runc drives swrk itself rather than through go-criu's Criu type, and so
// do we: the restore needs what that type cannot give, CRIU started in
// the container's cgroup, with the container's stdio and the fds it is
// to inherit, and the file descriptor of a notification (the console's
// pty master comes that way).
//
// CRIU says why it failed in its log file, not in the response (which
// carries an errno and, since 3.15, at most the last message): Error
// quotes the log's error lines.
package criu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu/rpc"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Swrk is one run of `criu swrk`.
type Swrk struct {
	// Path is the criu binary; "" looks up "criu" in $PATH.
	Path string
	// Stdio are criu's stdin, stdout and stderr (nil: /dev/null). A
	// restored process's external pipes are re-connected to them
	// (inherit_fd keys naming fds 0-2).
	Stdio [3]*os.File
	// Extra are passed as fds 4, 5, ... (inherit_fd).
	Extra []*os.File
	// Cgroup, if set, is a v2 cgroup criu is cloned into: what it
	// restores is forked from it and lands there too.
	Cgroup *os.File
	// Spawn, if set, starts cmd instead of cmd.Start (restore starts
	// criu on a thread with a mount namespace of its own).
	Spawn func(cmd *exec.Cmd) error
	// Started, if set, runs once criu runs and before the request is
	// sent; an error ends criu.
	Started func(pid int) error
	// Notify answers a notification; fds are those it carried, the
	// callee's to close. An error fails the request (CRIU then undoes
	// what it did: a restore kills what it restored).
	Notify func(n *rpc.CriuNotify, fds []int) error
	// LogDir and LogFile locate the request's log, quoted by the
	// error when the request fails.
	LogDir, LogFile string
}

// Error is a request CRIU did not serve: its response's errno and
// message, and the error lines of its log (CRIU's own reason).
type Error struct {
	Type   rpc.CriuReqType
	Errno  int32
	Msg    string
	Log    string
	Quoted []string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "criu failed: %s", strings.ToLower(e.Type.String()))
	msg := strings.TrimSpace(e.Msg)
	for _, l := range e.Quoted {
		if l == msg {
			msg = "" // quoted below
		}
	}
	if msg != "" {
		fmt.Fprintf(&b, ": %s", msg)
	}
	if e.Errno != 0 {
		fmt.Fprintf(&b, " (errno %d: %v)", e.Errno, syscall.Errno(e.Errno))
	}
	if len(e.Quoted) > 0 {
		// One line: the error goes to a log as one message (runc
		// quotes the lines one log message each, which a client that
		// reads the last error line of --log loses).
		fmt.Fprintf(&b, "; %s says: %s", e.Log, strings.Join(e.Quoted, " | "))
	} else if e.Log != "" {
		fmt.Fprintf(&b, "; see %s", e.Log)
	}
	return b.String()
}

// ErrExited: criu ended without answering.
var ErrExited = errors.New("criu exited without answering")

// Run starts criu, sends req and serves it until CRIU's last response,
// which it returns once criu has exited. A failed request is an *Error.
// It never waits on CRIU once CRIU is gone: our copy of criu's end of
// the socket is closed as soon as criu has it, so criu's exit (a crash
// included) is an EOF here.
func (s *Swrk) Run(req *rpc.CriuReq) (_ *rpc.CriuResp, retErr error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	ours, theirs := fds[0], os.NewFile(uintptr(fds[1]), "criu-swrk")
	defer unix.Close(ours)
	path := s.Path
	if path == "" {
		path = "criu"
	}
	cmd := exec.Command(path, "swrk", "3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.Stdio[0], s.Stdio[1], s.Stdio[2]
	cmd.ExtraFiles = append([]*os.File{theirs}, s.Extra...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if s.Cgroup != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(s.Cgroup.Fd())
	}
	start := cmd.Start
	if s.Spawn != nil {
		start = func() error { return s.Spawn(cmd) }
	}
	err = start()
	theirs.Close()
	if err != nil {
		return nil, fmt.Errorf("start criu: %w", err)
	}
	waited := false
	defer func() {
		if !waited {
			// Failing before CRIU's answer: CRIU reads EOF
			// (unix.Close above, deferred after this one runs,
			// would be too late for the Wait), gives up and exits.
			unix.Shutdown(ours, unix.SHUT_RDWR)
			cmd.Wait()
		}
	}()
	if s.Started != nil {
		if err := s.Started(cmd.Process.Pid); err != nil {
			return nil, err
		}
	}
	logrus.Debugf("criu %d: %s request", cmd.Process.Pid, req.GetType())
	if err := send(ours, req); err != nil {
		return nil, err
	}
	var resp *rpc.CriuResp
	for {
		r, rfds, err := recv(ours)
		if err != nil {
			return nil, s.exited(cmd, &waited, req.GetType(), err)
		}
		if !r.GetSuccess() {
			closeAll(rfds)
			return nil, s.failed(r)
		}
		if r.GetType() != rpc.CriuReqType_NOTIFY {
			closeAll(rfds)
			resp = r
			break
		}
		n := r.GetNotify()
		logrus.Debugf("criu %d: notify %s (pid %d)", cmd.Process.Pid, n.GetScript(), n.GetPid())
		if s.Notify != nil {
			if err := s.Notify(n, rfds); err != nil {
				return nil, fmt.Errorf("criu notification %s: %w", n.GetScript(), err)
			}
		} else {
			closeAll(rfds)
		}
		t := rpc.CriuReqType_NOTIFY
		if err := send(ours, &rpc.CriuReq{Type: &t, NotifySuccess: rpc.Bool(true)}); err != nil {
			return nil, err
		}
	}
	// Nothing more to ask: a pre-dump's criu waits for a next request
	// until it reads EOF.
	unix.Shutdown(ours, unix.SHUT_WR)
	waited = true
	st, err := cmd.Process.Wait()
	if err != nil {
		return nil, fmt.Errorf("wait for criu: %w", err)
	}
	// A pre-dump's criu, ended by our EOF, exits with a failure (runc
	// ignores its exit status, too).
	if !st.Success() && req.GetType() != rpc.CriuReqType_PRE_DUMP {
		return nil, fmt.Errorf("criu answered %s but exited with %v", resp.GetType(), st)
	}
	return resp, nil
}

// exited turns a failed read into the reason: CRIU's log, if it wrote
// one, says more than our EOF.
func (s *Swrk) exited(cmd *exec.Cmd, waited *bool, t rpc.CriuReqType, err error) error {
	*waited = true
	st, _ := cmd.Process.Wait()
	e := &Error{Type: t, Msg: fmt.Sprintf("%v (criu %v)", err, st)}
	s.quote(e)
	return e
}

func (s *Swrk) failed(r *rpc.CriuResp) error {
	e := &Error{Type: r.GetType(), Errno: r.GetCrErrno(), Msg: r.GetCrErrmsg()}
	s.quote(e)
	return e
}

func (s *Swrk) quote(e *Error) {
	if s.LogFile == "" || s.LogDir == "" {
		return
	}
	e.Log = filepath.Join(s.LogDir, s.LogFile)
	b, err := os.ReadFile(e.Log)
	if err != nil {
		return
	}
	e.Quoted = ErrorLines(b, 6)
}

// ErrorLines returns the last max lines of a CRIU log that report an
// error ("Error (file:line): ..."), timestamps removed.
func ErrorLines(log []byte, max int) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		l := sc.Text()
		i := strings.Index(l, "Error (")
		if i < 0 {
			continue
		}
		out = append(out, strings.TrimSpace(l[i:]))
		if len(out) > max {
			out = out[1:]
		}
	}
	return out
}

func send(fd int, req *rpc.CriuReq) error {
	b := req.Marshal()
	var err error
	for {
		_, err = unix.Write(fd, b)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("send criu request: %w", err)
	}
	return nil
}

// recv reads one response and the fds it carried.
func recv(fd int) (*rpc.CriuResp, []int, error) {
	buf := make([]byte, 64*1024)
	oob := make([]byte, unix.CmsgSpace(4*4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read criu response: %w", err)
	}
	if n == 0 {
		return nil, nil, ErrExited
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil {
			for i := range msgs {
				if f, err := unix.ParseUnixRights(&msgs[i]); err == nil {
					fds = append(fds, f...)
				}
			}
		}
	}
	r := new(rpc.CriuResp)
	if err := r.Unmarshal(buf[:n]); err != nil {
		closeAll(fds)
		return nil, nil, fmt.Errorf("decode criu response: %w", err)
	}
	return r, fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
