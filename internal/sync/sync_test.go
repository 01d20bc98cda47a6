package sync

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
)

func pair(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	p, c, err := Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); c.Close() })
	return p, c
}

func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestSignalExpect(t *testing.T) {
	p, c := pair(t)
	for _, typ := range []Type{Hooks, Ready} {
		if err := Signal(c, typ); err != nil {
			t.Fatalf("Signal(%s): %v", typ, err)
		}
	}
	// One packet is one message: two sends are two receives.
	for _, typ := range []Type{Hooks, Ready} {
		m, fds, err := Expect(p, typ)
		if err != nil {
			t.Fatalf("Expect(%s): %v", typ, err)
		}
		if m.Type != typ || len(fds) != 0 {
			t.Errorf("Expect(%s): got %+v with %d fds, want type %s and no fds", typ, m, len(fds), typ)
		}
	}
	// And the other way.
	if err := Signal(p, HooksDone); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Expect(c, HooksDone); err != nil {
		t.Errorf("Expect(hooksDone) on the child end: %v", err)
	}
}

// A descriptor rides on its message (SCM_RIGHTS) and arrives
// close-on-exec, still the same file.
func TestSendFd(t *testing.T) {
	p, c := pair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := Signal(c, Console, int(r.Fd())); err != nil {
		t.Fatalf("Signal(console, fd): %v", err)
	}
	m, fds, err := Expect(p, Console)
	if err != nil {
		t.Fatalf("Expect(console): %v", err)
	}
	if m.Type != Console || len(fds) != 1 {
		t.Fatalf("got %+v with fds %v, want a console message with one fd", m, fds)
	}
	got := os.NewFile(uintptr(fds[0]), "received")
	defer got.Close()
	if int(got.Fd()) == int(r.Fd()) {
		t.Errorf("received fd %d: got the sender's own number, want a new descriptor", got.Fd())
	}
	flags, err := unix.FcntlInt(got.Fd(), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("received fd: FD_CLOEXEC not set, want it set")
	}
	if _, err := w.Write([]byte("through the pipe")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := got.Read(buf)
	if err != nil || string(buf[:n]) != "through the pipe" {
		t.Errorf("read from the received fd: got %q, %v; want %q", buf[:n], err, "through the pipe")
	}
}

func TestSendSeveralFds(t *testing.T) {
	p, c := pair(t)
	var want []uint64 // inode numbers
	var send []int
	for i := 0; i < maxFds; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		var st unix.Stat_t
		if err := unix.Fstat(int(r.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		want = append(want, st.Ino)
		send = append(send, int(r.Fd()))
	}
	if err := Signal(c, Console, send...); err != nil {
		t.Fatal(err)
	}
	_, fds, err := Recv(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, fd := range fds {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		got = append(got, st.Ino)
		unix.Close(fd)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("inodes of the received fds: got %v, want %v (same files, same order)", got, want)
	}
}

// A config bigger than the socket's default send buffer (212992 bytes
// with net.core.wmem_default at its default) must go through whole: a
// spec with large annotations or a large environment is not exotic.
func TestLargeConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		root bool // needs SO_SNDBUFFORCE: above 2*net.core.wmem_max by default
	}{
		{"300 KB", 300 * 1024, false},
		{"1 MB", 1024 * 1024, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("requires root: SO_SNDBUFFORCE needs CAP_NET_ADMIN")
			}
			p, c := pair(t)
			want := initcfg.Config{Bundle: strings.Repeat("x", tc.size), Spec: &initcfg.Spec{Process: &specs.Process{}}}
			for i := 0; i < 2000; i++ {
				want.Spec.Process.Env = append(want.Spec.Process.Env, "VAR"+strings.Repeat("v", 20)+"=value")
			}
			var got initcfg.Config
			recvc := make(chan error, 1)
			go func() { recvc <- RecvConfig(c, &got) }()
			if err := SendConfig(p, &want); err != nil {
				p.Close() // the receiver gets EOF rather than waiting forever
				<-recvc
				t.Fatalf("SendConfig of a %d KB config: %v", tc.size/1024, err)
			}
			if err := <-recvc; err != nil {
				t.Fatalf("RecvConfig: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config: got %d env and a %d byte bundle, want %d env and %d bytes", len(got.Spec.Process.Env), len(got.Bundle), len(want.Spec.Process.Env), len(want.Bundle))
			}
			// Small messages still work after a big one.
			if err := Signal(c, Ready); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Expect(p, Ready); err != nil {
				t.Errorf("Expect(ready) after the config: %v", err)
			}
		})
	}
}

func TestEOF(t *testing.T) {
	p, c := pair(t)
	c.Close()
	if _, _, err := Recv(p); !errors.Is(err, ErrEOF) {
		t.Errorf("Recv after the peer closed: got %v, want ErrEOF", err)
	}
	if _, _, err := Expect(p, Ready); !errors.Is(err, ErrEOF) {
		t.Errorf("Expect after the peer closed: got %v, want ErrEOF", err)
	}
}

// A message sent before the peer closed is still read; EOF comes after.
func TestMessageThenEOF(t *testing.T) {
	p, c := pair(t)
	if err := SendError(c, errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, _, err := Expect(p, Ready); err == nil || err.Error() != "boom" {
		t.Errorf("first Expect: got %v, want the init error %q", err, "boom")
	}
	if _, _, err := Recv(p); !errors.Is(err, ErrEOF) {
		t.Errorf("second Recv: got %v, want ErrEOF", err)
	}
}

func TestExpectInitError(t *testing.T) {
	p, c := pair(t)
	const msg = "mount /proc: operation not permitted"
	if err := SendError(c, errors.New(msg)); err != nil {
		t.Fatal(err)
	}
	_, _, err := Expect(p, Ready)
	var ie *InitError
	if !errors.As(err, &ie) {
		t.Fatalf("Expect: got %v (%T), want an *InitError", err, err)
	}
	if ie.Message != msg || err.Error() != msg {
		t.Errorf("InitError: got %q, want %q", ie.Message, msg)
	}
	if errors.Is(err, ErrUnexpected) {
		t.Errorf("an error message is not an unexpected one: got %v", err)
	}
}

func TestExpectUnexpected(t *testing.T) {
	p, c := pair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	before := openFds(t)
	// The wrong message, carrying an fd that Expect must not leak.
	if err := Signal(c, Console, int(r.Fd())); err != nil {
		t.Fatal(err)
	}
	_, fds, err := Expect(p, Ready)
	if !errors.Is(err, ErrUnexpected) {
		t.Fatalf("Expect(ready) given console: got %v, want ErrUnexpected", err)
	}
	if !strings.Contains(err.Error(), `"console"`) || !strings.Contains(err.Error(), `"ready"`) {
		t.Errorf("error: got %q, want it to name what came (console) and what was wanted (ready)", err)
	}
	if fds != nil {
		t.Errorf("fds: got %v, want none", fds)
	}
	if after := openFds(t); after != before {
		t.Errorf("open fds: got %d, want %d (the fd of the unexpected message closed)", after, before)
	}
}

func TestRecvGarbage(t *testing.T) {
	p, c := pair(t)
	if _, err := unix.Write(int(c.Fd()), []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Recv(p); err == nil || !strings.Contains(err.Error(), "decode message") {
		t.Errorf("Recv of a packet that is not JSON: got %v, want a decode error", err)
	}
	if _, err := unix.Write(int(c.Fd()), []byte(`{"type":"config","config":"a string"}`)); err != nil {
		t.Fatal(err)
	}
	var cfg initcfg.Config
	if err := RecvConfig(p, &cfg); err == nil || !strings.Contains(err.Error(), "decode init config") {
		t.Errorf("RecvConfig of a config that is not an object: got %v, want a decode error", err)
	}
}

func TestSocketpairCloexec(t *testing.T) {
	p, c := pair(t)
	for _, f := range []*os.File{p, c} {
		flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		if flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("%s: FD_CLOEXEC not set, want it set", f.Name())
		}
		typ, err := unix.GetsockoptInt(int(f.Fd()), unix.SOL_SOCKET, unix.SO_TYPE)
		if err != nil || typ != unix.SOCK_SEQPACKET {
			t.Errorf("%s: socket type got %d, %v; want SOCK_SEQPACKET (%d)", f.Name(), typ, err, unix.SOCK_SEQPACKET)
		}
	}
}

// mountSource: I asks with an index, P answers with an fd or its error.
func TestAskMountSource(t *testing.T) {
	p, c := pair(t)
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		index int
		err   error
	}{{0, nil}, {7, errors.New("open_tree /x: no such file or directory")}} {
		got := make(chan error, 1)
		go func() {
			m, fds, err := Expect(p, MountSource)
			closeAll(fds)
			if err != nil {
				got <- err
				return
			}
			if m.Mount == nil || *m.Mount != tc.index {
				got <- errors.New("wrong index")
				return
			}
			got <- SendMountSource(p, int(f.Fd()), tc.err)
		}()
		fd, err := AskMountSource(c, tc.index)
		if perr := <-got; perr != nil {
			t.Fatalf("P side: %v", perr)
		}
		if tc.err != nil {
			if err == nil || err.Error() != tc.err.Error() || fd != -1 {
				t.Errorf("AskMountSource(%d): got %d, %v; want -1, %v", tc.index, fd, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("AskMountSource(%d): %v", tc.index, err)
		}
		var a, b unix.Stat_t
		unix.Fstat(fd, &a)
		unix.Fstat(int(f.Fd()), &b)
		unix.Close(fd)
		if a.Ino != b.Ino || a.Dev != b.Dev {
			t.Errorf("AskMountSource(%d): got another file", tc.index)
		}
	}
}
