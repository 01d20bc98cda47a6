package libsandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/hooks"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
)

// createContainer hooks, out of sight of a pod's pid namespace.
//
// runtime-spec: createContainer hooks run "in the container namespace",
// after the mounts and before pivot_root; runc and crun run them from
// init. A hook run by init is an ordinary process of the container's
// user namespace: dumpable, its memory the namespace's, its root the
// host's tree (before pivot_root), until it exits, which may be
// seconds. Whoever holds CAP_SYS_PTRACE in that user namespace (its
// root: a pod's other containers when they share it), or runs as the
// same host uid (a container of the same id map), and sees the hook in
// its pid namespace may attach to it or open /proc/PID/root: the
// host's root directory, with the hook's credentials (a review of
// f8de9a7's first form read a host file so). Init itself is out of
// reach (it runs from an exec-only copy: sealOpener; with a joined pid
// namespace only where fs.suid_dumpable is not 1: checkSuidDumpable).
// Processes of other containers see the hook only through a pid namespace they
// share with it, so this is when the container's pid namespace is not
// its own (joined by path: Kubernetes' user-namespaced pods that share
// their process namespace, podman's --pid=container:X --userns=...)
// and it has a user namespace.
//
// Then the hooks are run from here (ContainerHooksOutside): a raw fork
// (rawfork) joins init's namespaces, its user namespace among them
// (becoming its root, as init is), but not its pid namespace, enters
// init's cgroups and the root filesystem, sets init's umask and execs
// the hook by its path there. So the hook has the credentials,
// capabilities and view a hook run by init has (a file it writes is
// the container root's; a symlink of the image cannot send its writes
// to a host file the container's root may not write: the first form,
// which ran hooks as the host's root, let it, a review found), and
// lives in our pid namespace, where no process of a container can name
// it. The first child of the fork is non-dumpable and never in the
// container's namespaces' reach either (see rawfork).
//
// What is left (a review of a583c8c): the hook is still a dumpable
// process of the pod's user namespace, only unnamed. A hook that
// connects to a Unix socket the pod can bind (an abstract name in a
// shared network namespace, a path in a shared volume) hands the pod
// its pidfd (SO_PEERPIDFD, SCM_PIDFD), and a pod process holding
// CAP_SYS_PTRACE, or every capability the hook holds, then joins the
// hook's mount namespace (the host's tree, before pivot_root) or takes
// its fds. Only an exec-only hook binary would close that (as for
// init); runc and crun leave the hook visible by pid as well.

// containerHooksOutside reports whether the createContainer hooks of a
// container planned as ns are run from the runtime (see above).
func containerHooksOutside(spec *specs.Spec, ns *nsPlan) bool {
	if spec.Hooks == nil || len(spec.Hooks.CreateContainer) == 0 || Rootless() {
		return false
	}
	ownPid := ns.has(specs.PIDNamespace) && !ns.joined(specs.PIDNamespace)
	return ns.has(specs.UserNamespace) && !ownPid
}

// hookNamespaces are the namespaces a createContainer hook shares with
// init: every one but the pid namespace, as /proc/PID/ns names them
// (rawfork joins the user namespace last).
var hookNamespaces = []struct {
	name string
	typ  int
}{
	{"mnt", unix.CLONE_NEWNS}, {"net", unix.CLONE_NEWNET}, {"ipc", unix.CLONE_NEWIPC},
	{"uts", unix.CLONE_NEWUTS}, {"cgroup", unix.CLONE_NEWCGROUP}, {"time", unix.CLONE_NEWTIME},
	{"user", unix.CLONE_NEWUSER},
}

// hookUmask is init's umask when it runs hooks (nsexec).
const hookUmask = 0o022

// runContainerHooks runs the createContainer hooks for init (see above),
// in order, stopping at the first failure, with runc's words for it.
func (cr *creation) runContainerHooks() error {
	pid := cr.c.state.InitPid
	umask := uint32(hookUmask)
	base := rawfork.Attr{Exe: -1, Check: cr.opts.Interrupt, Umask: &umask}
	if p := cr.spec.Process; p != nil && p.OOMScoreAdj != nil {
		// A hook run by init inherits init's (startInit wrote it).
		base.OOMScoreAdj = strconv.Itoa(*p.OOMScoreAdj)
	}
	for _, n := range hookNamespaces {
		var ours, its unix.Stat_t
		if err := unix.Stat("/proc/self/ns/"+n.name, &ours); errors.Is(err, unix.ENOENT) {
			continue // a kernel without that namespace
		} else if err != nil {
			return fmt.Errorf("createContainer hooks: %w", err)
		}
		// Every namespace from an fd of init's, or none: a process of
		// the container may kill init meanwhile (CAP_KILL in its user
		// namespace, init in its pid namespace), and a dead init,
		// our zombie, has no namespaces left, so the hook would run
		// in ours (a review did so). An fd opened is init's namespace
		// for good.
		p := "/proc/" + strconv.Itoa(pid) + "/ns/" + n.name
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("createContainer hooks: init's namespaces: %w", &os.PathError{Op: "open", Path: p, Err: err})
		}
		defer unix.Close(fd)
		if err := unix.Fstat(fd, &its); err != nil {
			return fmt.Errorf("createContainer hooks: init's namespaces: %w", &os.PathError{Op: "stat", Path: p, Err: err})
		}
		if ours.Ino == its.Ino && ours.Dev == its.Dev {
			continue
		}
		base.Namespaces = append(base.Namespaces, rawfork.Namespace{Fd: fd, Type: n.typ})
		switch n.typ {
		case unix.CLONE_NEWNS:
			// In the container's root filesystem, as init runs them.
			base.Dir = cr.plan.rootfs
		case unix.CLONE_NEWUSER:
			base.BecomeRoot = true
		}
	}
	if !base.BecomeRoot {
		return errors.New("createContainer hooks: init is in our user namespace") // containerHooksOutside says it is not
	}
	if cr.hasCgroup() {
		f, err := cr.cg.CloneFD()
		if err != nil {
			return err
		}
		if f != nil {
			defer f.Close()
			base.UseCgroupFD, base.CgroupFD = true, int(f.Fd())
		}
		if cr.cg.NeedsEnter() {
			cloned := base.UseCgroupFD
			base.Pause = func(pid int) error { return cr.cg.Enter(pid, cloned) }
		}
	}
	state, err := json.Marshal(cr.c.hookState(Creating))
	if err != nil {
		return fmt.Errorf("encode state for createContainer hooks: %w", err)
	}
	for i, h := range cr.spec.Hooks.CreateContainer {
		if err := runHookRaw(base, h, state); err != nil {
			return fmt.Errorf("error running createContainer hook #%d: %w", i, err)
		}
	}
	return nil
}

// runHookRaw runs one hook with rawfork as base says, gives it state on
// its stdin, and waits for it (up to its timeout), with the words of
// hooks.Run for what goes wrong.
func runHookRaw(base rawfork.Attr, h specs.Hook, state []byte) error {
	var deadline time.Time
	if h.Timeout != nil {
		deadline = time.Now().Add(time.Duration(*h.Timeout) * time.Second)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer inR.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		inW.Close()
		return err
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		inW.Close()
		outW.Close()
		return err
	}
	defer errR.Close()
	go func() {
		inW.Write(state)
		inW.Close()
	}()
	var stdout, stderr bytes.Buffer
	drained := make(chan struct{}, 2)
	go func() { io.Copy(&stdout, outR); drained <- struct{}{} }()
	go func() { io.Copy(&stderr, errR); drained <- struct{}{} }()

	attr := base
	attr.Files = []int{int(inR.Fd()), int(outW.Fd()), int(errW.Fd())}
	attr.Path = h.Path
	attr.Argv = hooks.Argv(h)
	attr.Env = h.Env
	check := base.Check
	attr.Check = func() error {
		if !deadline.IsZero() && time.Now().After(deadline) {
			return hooks.TimeoutError(h)
		}
		if check != nil {
			return check()
		}
		return nil
	}
	res, err := rawfork.Start(&attr)
	outW.Close()
	errW.Close()
	if err != nil {
		var re *rawfork.Error
		if errors.As(err, &re) && re.Stage == "exec" {
			return fmt.Errorf("fork/exec %s: %w", h.Path, re.Errno)
		}
		if errors.As(err, &re) && re.Stage == "chdir" {
			return fmt.Errorf("chdir %s: %w", base.Dir, re.Errno)
		}
		return err
	}
	ws, late, err := waitHook(res.Pid, deadline, check)
	if err != nil {
		return err
	}
	// A child of the hook holding its stdout must not keep us waiting:
	// a second, as hooks.Run gives it.
	for n, t := 0, time.After(time.Second); n < 2; n++ {
		select {
		case <-drained:
		case <-t:
			n = 2
		}
	}
	switch {
	case late:
		return hooks.TimeoutError(h)
	case ws.Exited() && ws.ExitStatus() == 0:
		return nil
	case ws.Exited():
		err = fmt.Errorf("exit status %d", ws.ExitStatus())
	default:
		err = fmt.Errorf("signal: %v", ws.Signal())
	}
	return hooks.Failed(err, stdout.String(), stderr.String())
}

// waitHook waits for the hook pid to exit, and kills it at deadline
// (late) or when check fails (the caller's interrupt: its error).
func waitHook(pid int, deadline time.Time, check func() error) (ws unix.WaitStatus, late bool, err error) {
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, &ws, 0, nil)
		return ws, false, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pfd)
	for {
		wait := 100 * time.Millisecond
		if !deadline.IsZero() {
			wait = min(wait, max(time.Until(deadline), 0))
		}
		fds := []unix.PollFd{{Fd: int32(pfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(wait/time.Millisecond)+1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return ws, false, err
		}
		if n > 0 {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			return ws, false, err
		}
		late = !deadline.IsZero() && time.Now().After(deadline)
		var stop error
		if check != nil && !late {
			stop = check()
		}
		if late || stop != nil {
			unix.PidfdSendSignal(pfd, unix.SIGKILL, nil, 0)
			unix.Wait4(pid, &ws, 0, nil)
			return ws, late, stop
		}
	}
}
