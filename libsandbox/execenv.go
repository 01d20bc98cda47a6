package libsandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/procenv"
)

// homeDir finds uid's home directory in the container's /etc/passwd ("/"
// when there is none), for a process env without HOME, as runc does.
//
// We read a file of the container from the host, so: resolved in its
// root (RESOLVE_IN_ROOT, no magic links), opened O_PATH first and read
// only if it is a regular file (opening a device node from here would
// run its driver's open outside the container's device cgroup), at most
// 1 MiB. A FUSE mount in the container can still make the read wait: it
// runs in a goroutine and we wait for it as for the exec (check), leaving
// it behind on an error (the CLI exits then).
func (c *Container) homeDir(pidfd int, uid uint32, check func() error) (string, error) {
	type result struct {
		home string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		b, err := c.readRootFile(pidfd, "etc/passwd", 1<<20)
		if err != nil {
			done <- result{home: "/"}
			return
		}
		done <- result{home: procenv.Home(bytes.NewReader(b), uid)}
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-done:
			return r.home, r.err
		case <-tick.C:
			if err := check(); err != nil {
				return "", fmt.Errorf("read the container's /etc/passwd: %w", err)
			}
		}
	}
}

// readRootFile reads name, a path in the container's root, as homeDir
// describes.
func (c *Container) readRootFile(pidfd int, name string, max int64) ([]byte, error) {
	root, err := unix.Open("/proc/"+strconv.Itoa(c.state.InitPid)+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(root)
	// The pid was init's when we opened its root only if init is still
	// alive now (its pidfd would report an exit).
	if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); err != nil {
		return nil, ErrNotRunning
	}
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(root, name, &how)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errors.New("not a regular file")
	}
	rfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(rfd), name)
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}

// sockFilter turns seccomp.Compile's program (8 bytes an instruction, as
// struct sock_filter) into instructions.
func sockFilter(b []byte) ([]unix.SockFilter, error) {
	n := len(b) / 8
	if n == 0 || n > 0xffff || len(b)%8 != 0 {
		return nil, errors.New("linux.seccomp: empty or oversized filter")
	}
	out := make([]unix.SockFilter, n)
	for i := range out {
		ins := b[i*8:]
		out[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(ins[0:]),
			Jt:   ins[2],
			Jf:   ins[3],
			K:    binary.NativeEndian.Uint32(ins[4:]),
		}
	}
	return out, nil
}
