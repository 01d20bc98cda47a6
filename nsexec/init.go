// Package nsexec is the container's init stage: the runtime binary
// re-executed as `sandbox-runtime init`, already in the container's new
// namespaces (and cgroup). It has no C: the runtime's clone made the
// namespaces. It receives its configuration over the sync socket, builds
// the root filesystem, sets up the process, reports ready, waits on the
// exec fifo and execs the user's program. See internal/sync for the
// protocol with the runtime.
//
// Everything here runs on one locked OS thread: credentials, capabilities,
// no_new_privs and seccomp are per thread in Linux, and that thread is the
// one that calls execve, after which it is the only thread left.
package nsexec

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/fds"
	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/internal/loopback"
	"github.com/sandbox-runtime/sandbox-runtime/internal/procenv"
	isync "github.com/sandbox-runtime/sandbox-runtime/internal/sync"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/caps"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/hooks"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// Main runs the init stage and never returns: it execs the user process
// or exits 1 after reporting the error to the runtime.
func Main(args []string) {
	runtime.LockOSThread()
	// Non-dumpable until the execve of the user's program (which resets
	// it): /proc/PID/fd, exe, environ and ptrace of init are then denied
	// to the container's processes unless they have CAP_SYS_PTRACE. init
	// holds fds of the host while it waits for `start` (the procfs
	// opened before the pivot, the exec fifo, the caller's fds), and it
	// has the container's uid and capabilities by then, so another
	// process in the container (exec, a shared pid namespace) could
	// otherwise go through them to the host (CVE-2016-9962; runc's
	// nsexec does the same).
	//
	// In a new user namespace our memory belongs to it (we were exec'd
	// inside it), so its root, holding CAP_SYS_PTRACE there, may attach
	// to us anyway: an `exec` into the created container can (security
	// issue 11.2). What it then finds must be the container's own. By
	// the time we report ready we hold: stdio and the preserved fds (the
	// user's process gets them too), the container's root and null
	// device, a procfs of our own pid namespace (newProcfs), the exec
	// fifo (an O_PATH fd of one file, not a directory: all it gives is
	// starting the container early) and, with SCMP_ACT_NOTIFY, the
	// connection to the user's agent. Everything else (the sync socket,
	// the log pipe, the bind sources the runtime cloned for us) is
	// closed before, and hooks get none of it (hooks.onlyStdio).
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox-runtime init: set non-dumpable:", err)
		os.Exit(1)
	}
	// init lives for milliseconds and allocates little: collecting
	// garbage would only cost time and memory charged to the container.
	debug.SetGCPercent(-1)

	syncFd, err := fds.Parse(args, "sync-fd")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox-runtime init: must be started by sandbox-runtime:", err)
		os.Exit(1)
	}
	sock := os.NewFile(uintptr(syncFd), "sync")
	var log *logger
	if n, err := fds.Parse(args, "log-fd"); err == nil {
		log = &logger{f: os.NewFile(uintptr(n), "log"), debug: fds.Has(args, "debug"), start: time.Now()}
	}
	fifoFd, _ := fds.Parse(args, "fifo-fd")
	listenerFd, _ := fds.Parse(args, "seccomp-fd")
	// `run` in the foreground: the container dies with it. Asked for
	// once the config has come (run), not here: see dieWithParent.
	pdeathsig = fds.Has(args, "pdeathsig")

	err = run(sock, log, fifoFd, listenerFd)
	// Only errors come back; success ends in execve. EOF means the
	// runtime gave up on us (a hook failed) and reports its own error:
	// printing ours would only add a line to the container's stderr.
	if sendErr := isync.SendError(sock, err); sendErr != nil && !errors.Is(err, isync.ErrEOF) {
		fmt.Fprintln(os.Stderr, "sandbox-runtime init:", err)
	}
	os.Exit(1)
}

func run(sock *os.File, log *logger, fifoFd, listenerFd int) error {
	var cfg initcfg.Config
	if err := isync.RecvConfig(sock, &cfg); err != nil {
		return err
	}
	log.debugf("config received")
	if err := dieWithParent(); err != nil {
		return err
	}
	if cfg.Spec == nil || cfg.Spec.Process == nil {
		return fmt.Errorf("process: missing")
	}
	if cfg.Spec.Linux == nil {
		cfg.Spec.Linux = &initcfg.Linux{}
	}
	if !hasRlimit(cfg.Spec.Process.Rlimits, "RLIMIT_NOFILE") {
		restoreNofile()
	}
	err := runCreate(&cfg, sock, log, fifoFd, listenerFd)
	if err != nil && cfg.Rootless && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
		// The field at fault is named already; this says why.
		err = fmt.Errorf("%w (the runtime runs without root)", err)
	}
	return err
}

// runCreate sets up a new container: root filesystem, then the process.
func runCreate(cfg *initcfg.Config, sock *os.File, log *logger, fifoFd, listenerFd int) error {
	spec := cfg.Spec
	proc := spec.Process
	linux := spec.Linux

	// Device nodes and directories get exactly the modes we ask for.
	unix.Umask(0)

	if cfg.UnshareCgroupNS {
		// The runtime has placed us in our cgroups by now (it writes
		// cgroup.procs before sending the config), so the new
		// namespace's root is the container's cgroup.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	if cfg.LoopbackUp {
		// Before the mounts and the hooks, as runc: a createRuntime or
		// prestart hook (a CNI plugin) finds it up.
		if err := loopback.Up(); err != nil {
			return err
		}
	}
	// A session of our own: the container must not share the runtime
	// caller's controlling terminal, and TIOCSCTTY needs a session leader.
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}

	procfs, err := newProcfs()
	if err != nil {
		return err
	}
	defer procfs.close()
	// The null device for masks: closed once they are made, so that
	// the created container's init holds no fd the process will not
	// (runc's init shows only stdio and the fifo in /proc/PID/fd).
	null, err := rootfs.OpenNull()
	if err != nil {
		return err
	}
	closeNull := func() {
		if null >= 0 {
			unix.Close(null)
			null = -1
		}
	}
	defer closeNull()

	mountNS := hasNamespace(linux, specs.MountNamespace)
	var root *rootfs.Root
	if mountNS {
		var openSource func(int) (int, error)
		if cfg.AskMountSources {
			openSource = func(i int) (int, error) { return isync.AskMountSource(sock, i) }
		}
		root, err = rootfs.Prepare(&rootfs.Setup{
			Rootfs:       cfg.Rootfs,
			Propagation:  linux.RootfsPropagation,
			Mounts:       cfg.Mounts,
			OpenSource:   openSource,
			Devices:      linux.Devices,
			UserNS:       cfg.UserNS,
			CgroupNS:     hasNamespace(linux, specs.CgroupNamespace),
			CgroupMounts: cfg.CgroupMounts,
			MountLabel:   linux.MountLabel,
			Cwd:          proc.Cwd,
		})
		if err != nil {
			return err
		}
		defer root.Close()
		log.debugf("mounts done")
	}
	unix.Umask(0o022)

	if cfg.WaitHooks {
		if err := isync.Signal(sock, isync.Hooks); err != nil {
			return err
		}
		if _, _, err := isync.Expect(sock, isync.HooksDone); err != nil {
			return err
		}
	}
	if cfg.ContainerHooksOutside {
		// The runtime runs them in our namespaces, but for the user
		// namespace (libsandbox's runContainerHooks says why).
		if err := isync.Signal(sock, isync.ContainerHooks); err != nil {
			return err
		}
		if _, _, err := isync.Expect(sock, isync.ContainerHooksDone); err != nil {
			return err
		}
	} else if spec.Hooks != nil && len(spec.Hooks.CreateContainer) > 0 {
		// In the container's root filesystem, not the bundle: "in the
		// container namespace", as runc runs them.
		dir := ""
		if mountNS {
			dir = cfg.Rootfs
		}
		if err := hooks.RunIn(dir, "createContainer", spec.Hooks.CreateContainer, cfg.HookState); err != nil {
			return err
		}
	}

	if mountNS {
		if err := root.Restrict(linux.ReadonlyPaths, linux.MaskedPaths, null); err != nil {
			return err
		}
		if err := root.Pivot(cfg.NoPivot); err != nil {
			return err
		}
		log.debugf("masked paths done, pivoted")
		if err := reopenDevNull(); err != nil {
			return err
		}
	}
	closeNull()
	if proc.Terminal {
		if err := sendConsole(sock, mountNS); err != nil {
			return err
		}
	}
	if mountNS {
		if err := root.Finish(spec.Root != nil && spec.Root.Readonly, linux.RootfsPropagation); err != nil {
			return err
		}
		root.Close()
	}

	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("hostname %q: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("domainname %q: %w", spec.Domainname, err)
		}
	}
	for k, v := range linux.Sysctl {
		if err := procfs.sysctl(k, v); err != nil {
			return fmt.Errorf("linux.sysctl %s: %w", k, err)
		}
	}
	if !cfg.NoNewKeyring {
		if err := joinSessionKeyring(cfg.ID); err != nil {
			return err
		}
	}
	final, err := setupProcess(cfg, procfs, listenerFd, log)
	if err != nil {
		return err
	}
	log.debugf("process set up")
	if log.debug {
		// What init's own heap costs the container (GC is off: all of
		// it stays until execve).
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		log.debugf("heap: %d KB in %d allocations", ms.TotalAlloc>>10, ms.Mallocs)
	}

	// Everything that can fail for a reason in the config has been done:
	// report ready. From here on an error can only go to stderr.
	if err := isync.Signal(sock, isync.Ready); err != nil {
		return err
	}
	sock.Close()
	log.close()

	var fifo *os.File
	if fifoFd >= 0 {
		// Blocks until `start` opens the fifo for reading. Reopened
		// through our verified procfs: the O_PATH fd cannot be written.
		fifo, err = procfs.reopen(fifoFd, unix.O_WRONLY)
		if err != nil {
			fatalf("open exec fifo: %v", err)
		}
	}
	// The startContainer hooks run once `start` has been called (the
	// fifo is open) and before our byte tells it we go on: `start`
	// returns, and runs the poststart hooks, only after them, and a
	// failing one makes it fail (the container is stopped: we exit
	// without writing).
	if spec.Hooks != nil && len(spec.Hooks.StartContainer) > 0 {
		st := *cfg.HookState
		st.Status = specs.StateRunning
		if err := hooks.Run("startContainer", spec.Hooks.StartContainer, &st); err != nil {
			// `start` reports it, as runc does: a "1" and the
			// error instead of the "0" that lets it go on. With a
			// terminal our stderr is the pty, which the caller of
			// `start` may never see.
			if fifo != nil {
				fifo.Write([]byte("1" + err.Error()))
			}
			fatalf("%v", err)
		}
	}
	if fifo != nil {
		if _, err := fifo.Write([]byte{'0'}); err != nil {
			fatalf("write exec fifo: %v", err)
		}
		unix.Close(fifoFd)
		// The write end stays open: it is close-on-exec, so the
		// kernel closes it when execve succeeds (or when we die), and
		// `start` waits for that EOF before it runs the poststart
		// hooks, which must come "after the user-specified process is
		// executed" (config.md "Poststart").
	}
	// Our procfs is closed before the execve, not by close-on-exec:
	// the kernel installs the new program's memory (the container's
	// user namespace's) before it closes those fds, and for that moment
	// /proc/PID/fd/N of ours would be open to whoever may read the new
	// program's (a review of c369f88).
	procfs.close()
	final.exec(cfg.PreserveFds)
	// Not reached (exec never returns); keeps the *os.File, whose
	// finalizer would close the fd, alive until execve.
	runtime.KeepAlive(fifo)
	return nil
}

func sendConsole(sock *os.File, mountConsole bool) error {
	master, err := setupConsole(mountConsole)
	if err != nil {
		return err
	}
	defer master.Close()
	return isync.Signal(sock, isync.Console, int(master.Fd()))
}

// setupProcess applies process.* to this thread and prepares the final
// execve: everything that can fail because of the config fails here,
// before ready.
func setupProcess(cfg *initcfg.Config, procfs *procfs, listenerFd int, log *logger) (*finalExec, error) {
	proc := cfg.Spec.Process
	if proc.OOMScoreAdj != nil && !cfg.OOMScoreAdjSet {
		if err := procfs.write("self/oom_score_adj", fmt.Sprint(*proc.OOMScoreAdj)); err != nil {
			return nil, fmt.Errorf("process.oomScoreAdj: %w", err)
		}
	}
	if err := setLabels(procfs, proc); err != nil {
		return nil, err
	}
	if err := setRlimits(proc.Rlimits); err != nil {
		return nil, err
	}
	if err := setProcAttrs(cfg); err != nil {
		return nil, err
	}
	env := procenv.Prepare(proc.Env, func() string { return homeFor("/", proc.User.UID) })

	// Capabilities and user, in the order that keeps what the spec asks
	// for: drop the bounding set while we still have CAP_SETPCAP, keep
	// the permitted set across the uid change (PR_SET_KEEPCAPS), change
	// ids, then set the final sets; ambient last, since the kernel wants
	// them permitted and inheritable.
	sets, _, err := caps.Resolve(proc.Capabilities, cfg.LastCap)
	if err != nil {
		return nil, err
	}
	if cfg.Seccomp != nil && !proc.NoNewPrivileges {
		// Loading the filter last needs CAP_SYS_ADMIN without
		// no_new_privs; see finalExec for why keeping it until then
		// gives the user process nothing.
		const capSysAdmin = 21
		sets.Effective |= 1 << capSysAdmin
		sets.Permitted |= 1 << capSysAdmin
	}
	// The cwd is entered as root when root may (runc: a directory only
	// root can search, /root say, is still the cwd of a user 42), and as
	// the user after the ids change only if root may not (EACCES, EPERM:
	// root squashed on NFS).
	cwdFd := -1
	cwdLater := false
	if proc.Cwd != "" {
		if cwdFd, err = openCwd(proc.Cwd); err != nil {
			return nil, err
		}
		defer unix.Close(cwdFd)
		if err := chdirFd(cwdFd, proc.Cwd); err != nil {
			if !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM) {
				return nil, err
			}
			cwdLater = true
		}
	}
	// The stdio the process gets becomes the user's, as runc's
	// fixStdioPermissions makes it (the pty, or the caller's pipes).
	fixStdioOwner(proc.User.UID, proc.Terminal)
	// No capabilities in the spec means none at all (as runc and crun),
	// not the full set a root process would otherwise keep.
	if err := caps.DropBounding(sets.Bounding, cfg.LastCap); err != nil {
		return nil, fmt.Errorf("process.capabilities.bounding: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("prctl keepcaps: %w", err)
	}
	if err := setUser(proc.User); err != nil {
		return nil, fmt.Errorf("process.user: %w", err)
	}
	if err := protectAgain(); err != nil {
		return nil, err
	}
	if cwdLater {
		if err := chdirFd(cwdFd, proc.Cwd); err != nil {
			return nil, err
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("prctl keepcaps: %w", err)
	}
	warnings, err := caps.Apply(sets, cfg.LastCap)
	if err != nil {
		return nil, fmt.Errorf("process.capabilities: %w", err)
	}
	for _, w := range warnings {
		log.warnf("%s", w)
	}
	if proc.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return nil, fmt.Errorf("process.noNewPrivileges: %w", err)
		}
	}
	if len(proc.Args) == 0 {
		return nil, fmt.Errorf("process.args: empty")
	}
	name, err := lookPath(proc.Args[0], env)
	if err != nil {
		return nil, err
	}
	if proc.User.Umask != nil {
		unix.Umask(int(*proc.User.Umask))
	} else {
		unix.Umask(0o022)
	}
	f, err := prepareExec(name, proc.Args, env, cfg.Seccomp, listenerFd, cfg.SeccompState)
	if err != nil {
		return nil, err
	}
	f.hugePagesBack = cfg.HugePagesBack
	return f, nil
}

// pdeathsig: init was asked to die with the runtime (--pdeathsig).
var pdeathsig bool

// dieWithParent asks for SIGKILL when the runtime dies (pdeathsig), once
// the config has come and not at init's start. The kernel sends the
// parent-death signal when the parent *thread* exits (forget_original_
// parent: the children go to a live thread of the same process, the
// group leader first since Linux 3.19, and those that asked are
// signalled), and on cgroup v1 the thread that forked us ends once we
// exist (libsandbox's forkOnThread): asked for earlier, that exit would
// kill us. The runtime sends the config only once that thread is gone
// (its sendConfig): we are then the child of its main thread, which the
// Go runtime never ends alone (on older kernels, of another thread of
// the Go runtime's, which does not end either).
//
// Until the config comes nothing of the container's runs, and a runtime
// that dies closes the sync socket: RecvConfig fails on EOF and we exit.
// Asked for here, the signal takes us down with a runtime killed during
// our setup (mounts, hooks) rather than at Ready's write. commit_creds
// clears it when we become process.user; protectAgain asks again.
//
// A runtime killed after it sent the config and before this call finds
// us no longer its child (every one of its threads exiting), and the
// signal never comes, as when this was asked at our start while the
// config could already wait in the socket (a review saw 10 ms there).
// Its user's process still never runs: it waits for `start` to open the
// exec fifo, which the runtime does only after our Ready, which fails
// once its socket is closed. A runtime alive after this call had us as
// the child of one of its threads at the call (all of them exiting is
// for good), so its death signals us.
func dieWithParent() error {
	if !pdeathsig {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("parent-death signal: %w", err)
	}
	return nil
}

// protectAgain undoes what a change of ids did to us. When setUser
// changes the effective ids, commit_creds (kernel/cred.c) resets the
// dumpable flag to fs.suid_dumpable and clears the parent-death signal.
// With fs.suid_dumpable=1 init would wait in the created state, for
// start, ptraceable by any process of the user's uid: an `exec --user`
// of the container could take its fds (the exec fifo of the host's state
// directory, the seccomp agent's connection) and read its memory. And
// `run` in the foreground would leave a container running after the
// runtime was killed (runc restores the signal after setuid as well).
func protectAgain() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("set non-dumpable after process.user: %w", err)
	}
	if err := dieWithParent(); err != nil {
		return fmt.Errorf("after process.user: %w", err)
	}
	return nil
}

// fatalf reports an error after ready, when the runtime is no longer
// listening: the user sees it on the container's stderr, as with runc.
func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sandbox-runtime init: "+format+"\n", args...)
	os.Exit(127)
}

func hasNamespace(l *initcfg.Linux, t specs.LinuxNamespaceType) bool {
	for _, ns := range l.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

func hasRlimit(list []specs.POSIXRlimit, name string) bool {
	for _, r := range list {
		if r.Type == name {
			return true
		}
	}
	return false
}

// joinSessionKeyring gives the container a session keyring of its own, so
// it cannot read the keys of the runtime's caller (runc does the same;
// --no-new-keyring skips it).
func joinSessionKeyring(id string) error {
	_, err := unix.KeyctlJoinSessionKeyring("_ses." + id)
	if err != nil && err != unix.ENOSYS {
		return fmt.Errorf("join session keyring: %w", err)
	}
	return nil
}

// setLabels applies the process's SELinux label or AppArmor profile for
// the coming execve; the runtime has already refused them where the host
// lacks the LSM.
func setLabels(p *procfs, proc *specs.Process) error {
	if proc.ApparmorProfile != "" {
		if err := p.write("thread-self/attr/apparmor/exec", "exec "+proc.ApparmorProfile); err != nil {
			if err2 := p.write("thread-self/attr/exec", "exec "+proc.ApparmorProfile); err2 != nil {
				return fmt.Errorf("process.apparmorProfile %q: %w", proc.ApparmorProfile, err)
			}
		}
	}
	if proc.SelinuxLabel != "" {
		if err := p.write("thread-self/attr/exec", proc.SelinuxLabel); err != nil {
			return fmt.Errorf("process.selinuxLabel %q: %w", proc.SelinuxLabel, err)
		}
	}
	return nil
}
