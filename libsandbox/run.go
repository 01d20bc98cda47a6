package libsandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/sigcatch"
)

// Run creates and starts a container. Detached, it returns 0 once the
// container runs. In the foreground it forwards our signals to the
// container, relays its pty to our stdio when it has a terminal and no
// console socket, waits for it, deletes it (unless keep) and returns its
// exit status: the code, or 128+N when killed by signal N. It is then
// meant for a process that exits when it returns: it leaves every signal
// caught (see catchSignals).
func Run(root, id string, spec *specs.Spec, opts *CreateOpts, keep bool) (int, error) {
	var q *sigQueue
	if opts.Foreground {
		// Catch signals from before the container exists, so none is
		// lost between create and wait; one that ends a program fails
		// create instead (see RunExec).
		q = catchSignals(true)
		opts.Interrupt = q.interrupt
	}
	nc, err := Create(root, id, spec, opts)
	if err != nil {
		return 0, err
	}
	if err := nc.Start(); err != nil {
		nc.Destroy(true)
		nc.Close()
		return 0, err
	}
	nc.Close()
	if !opts.Foreground {
		return 0, nil
	}

	status := waitForeground(nc.Init, nc.Console, q)
	if !keep {
		c, err := Load(root, id)
		if err == nil {
			if err := c.Destroy(true); err != nil {
				logrus.Warnf("delete %s: %v", id, err)
			}
			c.Close()
		}
	}
	return status, nil
}

// RunExec starts a process in the container; in the foreground it waits
// for it like Run (signals forwarded, pty relayed) and returns its exit
// status.
//
// Signals are caught from before the process exists, detached too (only
// those that would end or stop us, then: catchSignals): one that ends a
// program (SIGINT, SIGTERM, SIGHUP, SIGQUIT) while the process is being
// started kills what was started and fails the exec, which the container
// may otherwise make wait a long time; the others are kept and, in the
// foreground, forwarded once the process runs.
func (c *Container) RunExec(o *ExecOpts) (int, error) {
	q := catchSignals(o.Foreground)
	o.Interrupt = q.interrupt
	ep, err := c.Exec(o)
	if err != nil {
		return 0, err
	}
	if !o.Foreground {
		return 0, nil
	}
	status := waitForeground(ep.Process, ep.Console, q)
	logrus.Debugf("exec %s: process %d exited with status %d", c.id, ep.Process.Pid, status)
	return status, nil
}

// sigQueue holds the signals caught while a process is being started.
type sigQueue struct {
	c       chan os.Signal
	pending []os.Signal
}

// interrupt reports a terminating signal caught so far and keeps the
// others for forwarding.
func (q *sigQueue) interrupt() error {
	for {
		select {
		case s := <-q.c:
			switch s {
			case unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT:
				return fmt.Errorf("interrupted by %v", s)
			}
			q.pending = append(q.pending, s)
		default:
			return nil
		}
	}
}

// catchSignals starts catching signals: every signal for a caller that
// forwards them (all: waitForeground), or else only those whose default
// action ends or stops a Go program, for interrupt: SIGHUP, SIGINT,
// SIGTERM and SIGQUIT (the program exits), SIGTSTP, SIGTTIN and SIGTTOU
// (the kernel stops it); a Go program catches every other signal and
// drops it.
//
// Most get a handler of sigcatch's, installed here before create or exec
// goes on (one rt_sigaction a signal, ~60); a few (the Go runtime's
// fault signals, SIGPIPE, those blocked when we started) are left to
// os/signal, in the background. os/signal alone, one handshake with the
// Go runtime's signal thread a signal, took ~1 ms of a foreground `run`
// (sigcatch). A detached exec (containerd's and Kubernetes' execs and
// exec probes) forwards nothing, and catches the seven only.
//
// A signal that comes before the handlers are in place is handled as
// one during our own start-up is. Nothing gives the signals back: Run
// and RunExec are for a process that exits once they return (the CLI's
// run and exec).
func catchSignals(all bool) *sigQueue {
	q := &sigQueue{c: make(chan os.Signal, 128)}
	sigs := []syscall.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGTERM, unix.SIGQUIT,
		unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU}
	if all {
		sigs = sigcatch.Forwardable()
	}
	if err := sigcatch.Catch(q.c, sigs...); err != nil {
		// Once per process: Run and RunExec are the CLI's, one a
		// process.
		logrus.Warnf("catch signals: %v", err)
	}
	return q
}

// waitForeground waits for p, our child, forwarding our signals to it and
// relaying its pty (if console is set); it returns p's exit status.
func waitForeground(p *os.Process, console *os.File, q *sigQueue) int {
	var copied chan struct{}
	if console != nil {
		restore, done := relayConsole(console)
		defer restore()
		copied = done
	}
	waited := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := p.Wait()
		waited <- st
	}()
	for _, s := range q.pending {
		forwardSignal(p, console, s)
	}
	var st *os.ProcessState
	for st == nil {
		select {
		case st = <-waited:
		case s := <-q.c:
			forwardSignal(p, console, s)
		}
	}
	if copied != nil {
		<-copied
	}
	return exitStatus(st)
}

func forwardSignal(p *os.Process, console *os.File, s os.Signal) {
	sig, ok := s.(syscall.Signal)
	if !ok {
		return
	}
	switch sig {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
		// Ours, not the container's (SIGURG: Go's preemption).
	case unix.SIGWINCH:
		if console != nil {
			resizeFromStdin(console)
		}
	default:
		p.Signal(sig)
	}
}

func exitStatus(st *os.ProcessState) int {
	if st == nil {
		return 1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// relayConsole copies our stdin to the pty and the pty to our stdout,
// with our terminal (if stdin is one) in raw mode like runc's. done is
// closed when the container side of the pty is gone.
func relayConsole(master *os.File) (restore func(), done chan struct{}) {
	restore = func() {}
	if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
		if err := cur.SetRaw(); err == nil {
			restore = func() { cur.Reset() }
		}
		resizeFromStdin(master)
	}
	done = make(chan struct{})
	go io.Copy(master, os.Stdin)
	go func() {
		defer close(done)
		_, err := io.Copy(os.Stdout, master)
		// EIO is how a pty master reports that the other side closed.
		if err != nil && !errors.Is(err, unix.EIO) {
			logrus.Debugf("console: %v", err)
		}
	}()
	return restore, done
}

func resizeFromStdin(master *os.File) {
	ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
}
