// Package sync is the protocol between the runtime (P, `sandbox-runtime
// create` or `run`) and the container's init stage (I, the runtime binary
// re-executed as `sandbox-runtime init`). `exec` has no init stage: its
// process is set up by a raw-forked child, which reports on rawfork's own
// socket (libsandbox/rawfork).
//
// Transport: one SOCK_SEQPACKET socketpair. Each packet is one JSON
// Message; file descriptors ride on the same packet as SCM_RIGHTS. A
// packet boundary is a message boundary, so no framing is needed, and an
// EOF (zero-length read) means the peer is gone.
//
//	P (create)                                   I (init, pid 1 of the container)
//	----------                                   --------------------------------
//	validate spec, state dir, fifo, cgroup
//	seal own binary, clone I into namespaces
//	(and into the cgroup) ------------------->    [blocked reading the socket]
//	config{InitConfig} ---------------------->    rootfs: propagation, bind, mounts, /dev
//	                  <--------------------- mountSource{mount}  (a bind source I
//	clone mounts[mount].source in I's                 cannot reach from its user
//	mount namespace, now                              namespace; any number)
//	mountSourceFd{fd or error} -------------->
//	                  <--------------------- console{fd}   (terminal: true only)
//	                  <--------------------- hooks         (only if P has prestart
//	run prestart, createRuntime hooks                       or createRuntime hooks)
//	hooksDone ------------------------------>
//	                  <--------------------- containerHooks (ContainerHooksOutside)
//	run createContainer hooks in I's
//	namespaces but its user namespace
//	containerHooksDone --------------------->
//	                                              createContainer hooks (unless P ran
//	                                              them), pivot_root,
//	                                              hostname, sysctl, masks, rlimits,
//	                                              user, capabilities, no_new_privs
//	                  <--------------------- ready
//	write state.json and pid file, exit           close the socket, block opening
//	                                              exec.fifo O_WRONLY
//	`start` opens exec.fifo ------------------>   startContainer hooks, write "0"
//	reads the byte, then waits for EOF            (or "1" and a failed hook's error,
//	(the fifo's write end closes at execve)       and exit), close fds (the fifo's
//	poststart hooks                               are close-on-exec), seccomp, send
//	                                              the listener to the agent
//	                                              (SCMP_ACT_NOTIFY), execve
//
// At any step I may send error{message} and exit 1; P then kills I and
// cleans up. EOF before ready is an error too ("init exited before ready").
//
// There is deliberately no "run" message after ready (runc has procRun):
// once I reports ready it only blocks on the fifo, which nothing can open
// before create returns, so the extra round trip would buy nothing.
package sync

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/internal/specjson"
)

// Type names a message.
type Type string

// The messages, in protocol order.
const (
	Config        Type = "config"        // P→I: Message.Config
	MountSource   Type = "mountSource"   // I→P: Message.Mount, a bind mount whose source I cannot reach (config.AskMountSources)
	MountSourceFd Type = "mountSourceFd" // P→I: fd of a detached copy of that source, or Message.Error
	Console       Type = "console"       // I→P: fd of the pty master
	Hooks         Type = "hooks"         // I→P: mounts done; run prestart and createRuntime hooks
	HooksDone     Type = "hooksDone"     // P→I
	// I→P: run the createContainer hooks in I's namespaces, outside its
	// user namespace (config.ContainerHooksOutside); P answers
	// ContainerHooksDone, or fails create.
	ContainerHooks     Type = "containerHooks"
	ContainerHooksDone Type = "containerHooksDone" // P→I
	Ready              Type = "ready"              // I→P: about to wait on the exec fifo
	Error              Type = "error"              // I→P: Message.Error; I exits after sending it
)

// Message is one packet.
type Message struct {
	Type   Type            `json:"type"`
	Error  string          `json:"error,omitempty"`
	Config json.RawMessage `json:"config,omitempty"`
	Mount  *int            `json:"mount,omitempty"` // mountSource
}

// ErrUnexpected is wrapped by errors about a message that came out of
// order.
var ErrUnexpected = errors.New("unexpected message")

// ErrEOF reports that the peer closed its end.
var ErrEOF = errors.New("peer closed the sync socket")

// maxFds is the most descriptors one message carries.
const maxFds = 4

// Socketpair returns the two ends: the first for P, the second for I.
func Socketpair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

// Send writes one message with optional descriptors.
func Send(f *os.File, m *Message, fds ...int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Type, err)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if err := rc.Control(func(fd uintptr) { growSendBuffer(int(fd), len(b)) }); err != nil {
		return err
	}
	var serr error
	if cerr := rc.Write(func(fd uintptr) bool {
		for {
			serr = unix.Sendmsg(int(fd), b, oob, nil, 0)
			if serr != unix.EINTR {
				break
			}
		}
		return serr != unix.EAGAIN
	}); cerr != nil {
		return cerr
	}
	if serr != nil {
		return fmt.Errorf("send %s message: %w", m.Type, serr)
	}
	return nil
}

// growSendBuffer makes room for an n-byte packet. A SOCK_SEQPACKET
// message must fit whole in the sender's buffer (sendmsg fails with
// EMSGSIZE when n > SO_SNDBUF - 32, af_unix.c), and the default buffer
// (net.core.wmem_default, 208 KiB) is smaller than a config with large
// annotations or environment. SO_SNDBUFFORCE (CAP_NET_ADMIN) is not
// capped by net.core.wmem_max; SO_SNDBUF is. The kernel doubles the value
// it is given. On failure the send reports EMSGSIZE as before.
func growSendBuffer(fd, n int) {
	cur, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err == nil && n <= cur-64 {
		return
	}
	want := n/2 + 4096
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, want) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, want)
	}
}

// Recv reads one message and the descriptors that came with it. The
// descriptors are close-on-exec; the caller owns them.
func Recv(f *os.File) (*Message, []int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	var (
		n, oobn int
		rerr    error
		buf     []byte
		oob     = make([]byte, unix.CmsgSpace(maxFds*4))
	)
	if cerr := rc.Read(func(fd uintptr) bool {
		// Peek at the size first: a config can be larger than any fixed
		// buffer we would like to allocate for the small messages.
		var size int
		for {
			size, _, rerr = unix.Recvfrom(int(fd), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
			if rerr != unix.EINTR {
				break
			}
		}
		if rerr != nil {
			return rerr != unix.EAGAIN
		}
		buf = make([]byte, size)
		for {
			n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
			if rerr != unix.EINTR {
				break
			}
		}
		return rerr != unix.EAGAIN
	}); cerr != nil {
		return nil, nil, cerr
	}
	if rerr != nil {
		return nil, nil, fmt.Errorf("receive message: %w", rerr)
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, nil, fmt.Errorf("parse control message: %w", err)
		}
		for _, cm := range msgs {
			rights, err := unix.ParseUnixRights(&cm)
			if err == nil {
				fds = append(fds, rights...)
			}
		}
	}
	if n == 0 {
		closeAll(fds)
		return nil, nil, ErrEOF
	}
	m := new(Message)
	if err := json.Unmarshal(buf[:n], m); err != nil {
		closeAll(fds)
		return nil, nil, fmt.Errorf("decode message: %w", err)
	}
	return m, fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// Expect receives one message and checks its type. An error message from
// I is returned as an error carrying I's text.
func Expect(f *os.File, want Type) (*Message, []int, error) {
	m, fds, err := Recv(f)
	if err != nil {
		return nil, nil, err
	}
	if m.Type == Error {
		closeAll(fds)
		return nil, nil, &InitError{Message: m.Error}
	}
	if m.Type != want {
		closeAll(fds)
		return nil, nil, fmt.Errorf("%w: got %q, want %q", ErrUnexpected, m.Type, want)
	}
	return m, fds, nil
}

// InitError is an error reported by the init stage.
type InitError struct{ Message string }

func (e *InitError) Error() string { return e.Message }

// SendConfig sends the init configuration (P→I), encoded without
// encoding/json's reflection (specjson).
func SendConfig(f *os.File, cfg *initcfg.Config) error {
	return Send(f, &Message{Type: Config, Config: specjson.MarshalInitConfig(cfg)})
}

// RecvConfig waits for the init configuration (I side).
func RecvConfig(f *os.File, cfg *initcfg.Config) error {
	m, _, err := Expect(f, Config)
	if err != nil {
		return err
	}
	if err := specjson.UnmarshalInitConfig(m.Config, cfg); err != nil {
		return fmt.Errorf("decode init config: %w", err)
	}
	return nil
}

// SendError reports a failure of the init stage (I→P).
func SendError(f *os.File, err error) error {
	return Send(f, &Message{Type: Error, Error: err.Error()})
}

// Signal sends a message that carries nothing but its type.
func Signal(f *os.File, t Type, fds ...int) error {
	return Send(f, &Message{Type: t}, fds...)
}

// AskMountSource asks P for a detached copy of the source of mount i and
// waits for it (I side). P's failure comes back as the error.
func AskMountSource(f *os.File, i int) (int, error) {
	if err := Send(f, &Message{Type: MountSource, Mount: &i}); err != nil {
		return -1, err
	}
	m, fds, err := Expect(f, MountSourceFd)
	if err != nil {
		return -1, err
	}
	if m.Error != "" {
		closeAll(fds)
		return -1, errors.New(m.Error)
	}
	if len(fds) != 1 {
		closeAll(fds)
		return -1, fmt.Errorf("%w: mountSourceFd with %d fds", ErrUnexpected, len(fds))
	}
	return fds[0], nil
}

// SendMountSource answers a mountSource message (P side): the fd, or
// the error that kept P from opening the source.
func SendMountSource(f *os.File, fd int, err error) error {
	if err != nil {
		return Send(f, &Message{Type: MountSourceFd, Error: err.Error()})
	}
	return Send(f, &Message{Type: MountSourceFd}, fd)
}
