package libsandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu/rpc"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// Checkpoint dumps the running (or paused) container's processes with
// CRIU into o.ImagePath, as runc's checkpoint: CRIU freezes the cgroup,
// dumps and, unless o.LeaveRunning or o.PreDump, kills the processes,
// and the container is then deleted (its cgroup and state removed, the
// poststop hooks run). A pre-dump saves the memory only and leaves the
// container running; a dump with o.ParentPath saves only what changed
// since.
//
// The caller holds the container's lock (Load).
func (c *Container) Checkpoint(o *CriuOpts) error {
	if o.ImagePath == "" {
		return errors.New("--image-path: missing")
	}
	if o.ParentPath != "" {
		if filepath.IsAbs(o.ParentPath) {
			return errors.New("--parent-path: must be relative to --image-path")
		}
		p := filepath.Join(o.ImagePath, o.ParentPath)
		if fi, err := os.Stat(p); err != nil {
			return fmt.Errorf("--parent-path: %w", err)
		} else if !fi.IsDir() {
			return fmt.Errorf("--parent-path: %s is not a directory", p)
		}
	}
	mode, err := cgMode(o.ManageCgroupsMode)
	if err != nil {
		return err
	}
	mask, err := emptyNs(o.EmptyNs)
	if err != nil {
		return err
	}
	ps, err := pageServer(o.PageServer)
	if err != nil {
		return err
	}
	if o.StatusFd >= 0 {
		if !o.LazyPages {
			return errors.New("--status-fd: only with --lazy-pages")
		}
		fl, err := unix.FcntlInt(uintptr(o.StatusFd), unix.F_GETFL, 0)
		if err != nil {
			return fmt.Errorf("--status-fd %d: %w", o.StatusFd, err)
		}
		if fl&unix.O_ACCMODE == unix.O_RDONLY {
			return fmt.Errorf("--status-fd %d: not open for writing", o.StatusFd)
		}
	}
	if o.LsmProfile != "" || o.LsmMountContext != "" {
		return errors.New("--lsm-profile, --lsm-mount-context: restore options")
	}
	switch st := c.Status(); st {
	case Running, Paused:
	default:
		// runc's words.
		return fmt.Errorf("Container cannot be checkpointed in %s state", st)
	}
	if err := checkCriu(o.CriuPath); err != nil {
		return err
	}
	if err := checkFeatures(o, o.PreDump); err != nil {
		return err
	}
	spec, err := c.Spec()
	if err != nil {
		return err
	}

	images, err := openDir(o.ImagePath, "--image-path")
	if err != nil {
		return err
	}
	defer images.Close()
	logDir := o.ImagePath
	opts := &rpc.CriuOpts{
		ImagesDirFd:       rpc.Int32(int32(images.Fd())),
		LogLevel:          rpc.Int32(criuLogLevel),
		LogFile:           rpc.String("dump.log"),
		Root:              rpc.String(c.state.Rootfs),
		ManageCgroups:     rpc.Bool(true),
		ManageCgroupsMode: &mode,
		NotifyScripts:     rpc.Bool(true),
		Pid:               rpc.Int32(int32(c.state.InitPid)),
		ShellJob:          rpc.Bool(o.ShellJob),
		LeaveRunning:      rpc.Bool(o.LeaveRunning),
		TcpEstablished:    rpc.Bool(o.TCPEstablished),
		TcpSkipInFlight:   rpc.Bool(o.TCPSkipInFlight),
		LinkRemap:         rpc.Bool(o.LinkRemap),
		ExtUnixSk:         rpc.Bool(o.ExtUnixSk),
		FileLocks:         rpc.Bool(o.FileLocks),
		EmptyNs:           rpc.Uint32(mask),
		// The console's master is ours (or the console socket's
		// receiver's), not the container's: CRIU dumps the pty
		// without it and makes a new master at restore.
		OrphanPtsMaster: rpc.Bool(true),
		AutoDedup:       rpc.Bool(o.AutoDedup),
		LazyPages:       rpc.Bool(o.LazyPages),
		ConfigFile:      configFile(spec.Annotations),
		Ps:              ps,
	}
	if o.WorkPath != "" {
		work, err := openDir(o.WorkPath, "--work-path")
		if err != nil {
			return err
		}
		defer work.Close()
		opts.WorkDirFd = rpc.Int32(int32(work.Fd()))
		logDir = o.WorkPath
	}
	if o.ParentPath != "" {
		opts.ParentImg = rpc.String(o.ParentPath)
		opts.TrackMem = rpc.Bool(true)
	}
	if o.StatusFd >= 0 {
		// CRIU 3.15+ reports readiness as a notification
		// (status-ready), which we pass on to the fd.
		defer unix.Close(o.StatusFd)
	}
	// CRIU freezes the processes through the cgroup rather than with
	// ptrace, one by one, and restores its state after (a paused
	// container stays paused under --leave-running).
	if fz := freezerDir(c.state.Cgroup); fz != "" {
		// Through the fd checked against the inode create recorded
		// (cgroups.State.ForChild): by its path, the owner of a
		// delegated parent could have put another container's cgroup
		// there, and CRIU would freeze and dump that one.
		p, err := c.state.Cgroup.ForChild(fz)
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		opts.FreezeCgroup = rpc.String(p)
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Path == "" || (ns.Type != specs.NetworkNamespace && ns.Type != specs.PIDNamespace) {
			continue
		}
		// A network or pid namespace joined by path is someone
		// else's: CRIU leaves it out and the restore joins it again.
		ino, err := c.initNsIno(ns.Type)
		if err != nil {
			return fmt.Errorf("linux.namespaces %s: %w", ns.Type, err)
		}
		opts.External = append(opts.External, fmt.Sprintf("%s[%d]:%s", nsCriuName(ns.Type), ino, nsKey(ns.Type)))
	}
	t := rpc.CriuReqType_DUMP
	if o.PreDump {
		t = rpc.CriuReqType_PRE_DUMP
	} else {
		// The memory alone needs neither the mounts nor the fds.
		ext, err := c.externalMounts(spec)
		if err != nil {
			return err
		}
		for _, m := range ext {
			opts.ExtMnt = append(opts.ExtMnt, &rpc.ExtMountMap{Key: rpc.String(m[0]), Val: rpc.String(m[1])})
		}
		if err := c.writeDescriptors(o.ImagePath); err != nil {
			return err
		}
	}

	s := &criu.Swrk{
		Path:    o.CriuPath,
		LogDir:  logDir,
		LogFile: "dump.log",
		Notify: func(n *rpc.CriuNotify, fds []int) error {
			closeFds(fds)
			switch n.GetScript() {
			case "network-lock", "network-unlock":
				// The runtime sets up no network of its own to
				// cut off while the processes are frozen, or to
				// reconnect: the namespace's interfaces are the
				// caller's (runc locks only the veths it made).
			case "status-ready":
				if o.StatusFd >= 0 {
					if _, err := unix.Write(o.StatusFd, []byte{0}); err != nil {
						logrus.Warnf("--status-fd: %v", err)
					}
				}
			}
			return nil
		},
	}
	logrus.Debugf("checkpoint %s: %s of init %d into %s", c.id, t, c.state.InitPid, o.ImagePath)
	if _, err := s.Run(&rpc.CriuReq{Type: &t, Opts: opts}); err != nil {
		return err
	}
	if o.PreDump || o.LeaveRunning {
		return nil
	}
	// CRIU has killed the processes: delete the container, as runc
	// does; its failure does not undo the checkpoint.
	if err := c.Destroy(true); err != nil {
		logrus.Warnf("checkpoint %s: delete: %v", c.id, err)
	}
	return nil
}

// freezerDir is the cgroup CRIU freezes: the v2 one, or the v1
// freezer's.
// initNsIno returns the inode of init's namespace of type t: the one
// CRIU finds init in and must leave out, which the path in config.json
// may no longer name (a /proc/PID reused, a bind mount mounted over it
// since create). runc keys it from the path.
func (c *Container) initNsIno(t specs.LinuxNamespaceType) (uint64, error) {
	pidfd, err := c.openInit()
	if err != nil {
		return 0, err
	}
	defer unix.Close(pidfd)
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(c.state.InitPid)+"/ns/"+nsFiles[t], &st); err != nil {
		return 0, fmt.Errorf("namespace of init: %w", err)
	}
	// Still init, checked after the stat (its start time: a pid
	// reused since names another process): the inode is its
	// namespace's.
	if !alive(c.state.InitPid, c.state.InitStart) {
		return 0, ErrNotRunning
	}
	return st.Ino, nil
}

func freezerDir(st *cgroups.State) string {
	if st == nil {
		return ""
	}
	if len(st.V1) > 0 {
		if k, ok := st.V1Controllers["freezer"]; ok {
			return st.V1[k]
		}
		return ""
	}
	return st.V2
}

// externalMounts lists, as CRIU's ext_mnt key/value pairs, the mounts of
// the container whose source is outside it, which CRIU cannot dump and
// must be told about: the value is the key the restore maps to a source
// again (restoreMounts). The bind mounts of the spec, the container's own
// cgroup directories bound where it has no cgroup namespace, the null
// device bound over a masked file, and device nodes bound from the host
// in a user namespace. Keys that name no mount are ignored by CRIU.
func (c *Container) externalMounts(spec *specs.Spec) ([][2]string, error) {
	rootfsDir := c.state.Rootfs
	var out [][2]string
	add := func(dest, val string) {
		k := mountKey(rootfsDir, dest)
		if val == "" {
			val = k
		}
		out = append(out, [2]string{k, val})
	}
	for _, m := range spec.Mounts {
		switch {
		case isSpecBind(m):
			add(m.Destination, "")
		case m.Type == "cgroup" && !hasNS(spec, specs.CgroupNamespace):
			dests, err := cgroupBindDests(c.state.Cgroup, m.Destination)
			if err != nil {
				return nil, err
			}
			for _, d := range dests {
				add(d, "")
			}
		}
	}
	for _, p := range spec.Linux.MaskedPaths {
		// A file is masked with the host's null device; a directory
		// with a tmpfs, which CRIU dumps.
		fi, err := os.Stat("/proc/" + strconv.Itoa(c.state.InitPid) + "/root/" + p)
		if err != nil || fi.IsDir() {
			continue
		}
		add(p, "/dev/null")
	}
	for _, d := range append(append([]specs.LinuxDevice{}, rootfs.DefaultDevices...), spec.Linux.Devices...) {
		add(d.Path, "")
	}
	return out, nil
}

// cgroupBindDests are the mount points of a "cgroup" mount at dest that
// are bind mounts of the container's cgroup directories where it has no
// cgroup namespace (see rootfs.mountCgroup): dest itself on a pure v2
// host, dest/<hierarchy> for each hierarchy otherwise.
func cgroupBindDests(st *cgroups.State, dest string) ([]string, error) {
	if st == nil {
		return nil, nil
	}
	host, err := cgroups.Probe()
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	cms, err := cgroupMounts(host, st)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, cm := range cms {
		out = append(out, path.Join(dest, cm.Name))
	}
	return out, nil
}

func hasNS(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

// writeDescriptors saves what init's fds 0-2 are (descriptorsFile).
func (c *Container) writeDescriptors(dir string) error {
	fds := make([]string, 3)
	for i := range fds {
		l, err := os.Readlink("/proc/" + strconv.Itoa(c.state.InitPid) + "/fd/" + strconv.Itoa(i))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read init's fd %d: %w", i, err)
		}
		fds[i] = l
	}
	b, err := json.Marshal(fds)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, descriptorsFile), b, 0o600); err != nil {
		return fmt.Errorf("--image-path: %w", err)
	}
	return nil
}
