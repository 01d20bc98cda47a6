// Package rootfs builds the container's root filesystem. It runs in the
// init stage, inside the container's new mount namespace, before and after
// pivot_root(2).
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/mountinfo"
)

// Setup is what Prepare needs.
type Setup struct {
	Rootfs      string // absolute host path
	Propagation string // linux.rootfsPropagation ("" = rslave)
	Mounts      []Mount
	// OpenSource, when set, is asked for a detached copy of the source
	// of Mounts[i], a bind mount, that init cannot clone itself: one
	// its user namespace may not reach (see openSource).
	OpenSource   func(i int) (int, error)
	Devices      []specs.LinuxDevice
	UserNS       bool
	CgroupNS     bool
	CgroupMounts []CgroupMount
	MountLabel   string
	Cwd          string // process.cwd, made if missing
}

// Mount is one mount of the spec as the runtime resolved it, once, when
// it checked the config: a bind's source made absolute and its type
// "bind", the options parsed. init gets it so (initcfg.Config.Mounts)
// and parses nothing.
type Mount struct {
	Destination string  `json:"destination"`
	Source      string  `json:"source,omitempty"`
	Type        string  `json:"type,omitempty"`
	Options     Options `json:"options"`
	// IDMapped: an idmapped bind (IDMapped), which the runtime makes
	// with the mappings (the runtime's alone: not sent to init).
	IDMapped    bool                   `json:"idmapped,omitempty"`
	UIDMappings []specs.LinuxIDMapping `json:"-"`
	GIDMappings []specs.LinuxIDMapping `json:"-"`
}

// CgroupMount is one hierarchy to mount under a "cgroup" mount's
// destination.
type CgroupMount struct {
	// Name is the directory under the destination ("cpu", "memory",
	// "unified", "systemd" for name=systemd...); empty for a cgroup2
	// mount at the destination itself (pure cgroup v2 host).
	Name string `json:"name"`
	// Type is "cgroup" or "cgroup2".
	Type string `json:"type"`
	// Options are the fs options (the controller list for v1).
	Options string `json:"options,omitempty"`
	// Path is the container's own cgroup in this hierarchy, as a host
	// path, bind-mounted when the container has no cgroup namespace.
	Path string `json:"path,omitempty"`
	// Ino is the inode create recorded for Path (0: none recorded):
	// the bind is of that directory or fails.
	Ino uint64 `json:"ino,omitempty"`
	// Symlinks are the other names of a hierarchy with several
	// controllers ("cpu" and "cpuacct" for "cpu,cpuacct").
	Symlinks []string `json:"symlinks,omitempty"`
}

// Root is a prepared root filesystem.
type Root struct {
	path string
	fd   int // O_PATH fd of the rootfs mount
	// lateRO are the mounts made read-write that Finish makes read-only
	// (see mount).
	lateRO []lateRO
}

// lateRO is a read-only mount of the spec, made read-write so that what
// goes beneath it can be made, and made read-only by Finish.
type lateRO struct {
	fd   int    // O_PATH fd of the mount's root
	what string // for errors: "mounts[i] (type on dest)"
	rec  bool   // "rro": every submount too
}

// Close releases the rootfs fd and the mounts Finish did not get to.
func (r *Root) Close() {
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
	for _, l := range r.lateRO {
		unix.Close(l.fd)
	}
	r.lateRO = nil
}

// PropagationFlags maps linux.rootfsPropagation to mount flags.
func PropagationFlags(p string) (uintptr, bool) {
	f, ok := propagationOptions[p]
	return f, ok
}

// Prepare sets up the mounts of the container under its rootfs:
// propagation of "/", the rootfs bind-mounted onto itself (pivot_root needs
// a mount point), every mount of the spec in order, and /dev.
func Prepare(s *Setup) (_ *Root, retErr error) {
	// Nothing we mount may propagate back to the host: make every mount
	// a slave (or what rootfsPropagation says) first. The standard
	// library does this only for Unshareflags, not Cloneflags.
	flag := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if s.Propagation != "" {
		f, ok := PropagationFlags(s.Propagation)
		if !ok {
			return nil, fmt.Errorf("linux.rootfsPropagation: unknown value %q", s.Propagation)
		}
		flag = f
		// An unbindable mount cannot be the source of a bind mount
		// (EINVAL), and the rootfs is bound onto itself below, from
		// the mount it is on now. An unbindable mount is a private
		// one that cannot be bound: make the mounts private for now,
		// and Finish makes the new root unbindable after the pivot.
		if f&unix.MS_UNBINDABLE != 0 {
			flag = unix.MS_PRIVATE | f&unix.MS_REC
		}
	}
	if err := unix.Mount("", "/", "", flag, ""); err != nil {
		return nil, fmt.Errorf("make / %s: %w", s.Propagation, err)
	}
	// Whatever the propagation of "/", the mount holding the rootfs may
	// still be shared: a non-recursive value ("slave", "private",
	// "unbindable") changes "/" alone. Shared, our bind of the rootfs
	// below would propagate to the host's mount namespace, and
	// pivot_root(2) would refuse the new root (EINVAL). runc makes it
	// private unconditionally too (rootfsParentMountPrivate).
	if err := parentMountPrivate(s.Rootfs); err != nil {
		return nil, err
	}
	if err := unix.Mount(s.Rootfs, s.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return nil, fmt.Errorf("bind rootfs %s onto itself: %w", s.Rootfs, err)
	}
	fd, err := unix.Open(s.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open rootfs", Path: s.Rootfs, Err: err}
	}
	r := &Root{path: s.Rootfs, fd: fd}
	defer func() {
		if retErr != nil {
			r.Close()
		}
	}()

	devBound := false
	for i, m := range s.Mounts {
		what := fmt.Sprintf("mounts[%d] (%s on %s)", i, m.Type, m.Destination)
		if err := r.mount(s, i, m, what); err != nil {
			var se *sourceError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("mounts[%d].source: %w", i, se.err)
			}
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if path.Clean(m.Destination) == "/dev" {
			devBound = m.Options.Bind()
		}
	}
	// runc's rule: unless /dev comes from a bind mount, the runtime makes
	// the default devices, the spec's devices and the /dev symlinks.
	if !devBound {
		if err := r.setupDev(s.Devices, s.UserNS); err != nil {
			return nil, err
		}
	}
	if s.Cwd != "" {
		fd, err := mkdirAllInRoot(r.fd, s.Cwd, 0o755)
		if err != nil {
			return nil, fmt.Errorf("process.cwd %s: %w", s.Cwd, err)
		}
		unix.Close(fd)
	}
	return r, nil
}

// parentMountPrivate makes the mount containing dir private if it is
// shared (found in mountinfo: the longest mount point that is a prefix).
func parentMountPrivate(dir string) error {
	infos, err := mountinfo.Self()
	if err != nil {
		return err
	}
	best, shared := "", false
	for _, in := range infos {
		mp := in.Point
		if (mp == dir || mp == "/" || strings.HasPrefix(dir, mp+"/")) && len(mp) >= len(best) {
			best, shared = mp, false
			for _, opt := range in.Optional {
				if strings.HasPrefix(opt, "shared:") {
					shared = true
				}
			}
		}
	}
	if best == "" || !shared {
		return nil
	}
	if err := unix.Mount("", best, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s private: %w", best, err)
	}
	return nil
}

// sourceError is a bind source that could not be opened: the error names
// the field, mounts[i].source.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// mount makes s.Mounts[i], m. what names it for Finish's errors.
func (r *Root) mount(s *Setup, i int, m Mount, what string) error {
	o := m.Options
	typ := m.Type
	if o.Bind() || typ == "bind" {
		tree, err := openSource(s, i, m.Source, o)
		if err != nil {
			return &sourceError{err}
		}
		defer unix.Close(tree)
		return r.attachBind(tree, m.Source, m.Destination, o)
	}
	switch typ {
	case "proc", "sysfs":
		// procfs and sysfs only onto a real directory: a symlink in the
		// image must not redirect them (runc checkProcMount).
		fd, err := r.realDir(m.Destination)
		if err != nil {
			return err
		}
		err = mountAt(m.Source, fd, typ, o, labelled(o.Data, s.MountLabel))
		if err != nil && typ == "sysfs" && errors.Is(err, unix.EPERM) && s.UserNS {
			// A user namespace without its own network namespace may
			// not mount sysfs; bind the host's, as runc does.
			unix.Close(fd)
			o.Flags |= unix.MS_BIND | unix.MS_REC
			return r.bind("/sys", m.Destination, o)
		}
		unix.Close(fd)
		if err != nil {
			return err
		}
		return r.afterMount(m.Destination, o)
	case "cgroup", "cgroup2":
		return r.mountCgroup(s, m, o)
	case "mqueue":
		fd, err := mkdirAllInRoot(r.fd, m.Destination, 0o755)
		if err != nil {
			return err
		}
		err = mountAt(m.Source, fd, typ, o, o.Data)
		unix.Close(fd)
		if errors.Is(err, unix.EPERM) && s.UserNS {
			// Same for mqueue without an own IPC namespace.
			o.Flags |= unix.MS_BIND
			return r.bind("/dev/mqueue", m.Destination, o)
		}
		if err != nil {
			return err
		}
		return r.afterMount(m.Destination, o)
	}
	if typ == "" {
		return errors.New("no type and not a bind mount")
	}
	// A tmpfs, and whatever is mounted on /dev, is made read-write and
	// made read-only by Finish, as runc does (finalizeRootfs): the mounts
	// of the spec beneath it need their mount points made in it (devpts
	// on a "ro" /dev), the device nodes and symlinks go in /dev, the
	// console after the pivot. "rro" waits too, and then reaches those
	// submounts.
	var late *lateRO
	if typ == "tmpfs" || path.Clean(m.Destination) == "/dev" {
		rec := o.RecSet&unix.MOUNT_ATTR_RDONLY != 0
		if o.Flags&unix.MS_RDONLY != 0 || rec {
			late = &lateRO{what: what, rec: rec}
			o.Flags &^= unix.MS_RDONLY
			o.RecSet &^= unix.MOUNT_ATTR_RDONLY
		}
	}
	if typ == "tmpfs" {
		if err := coveredMode(r.fd, m.Destination, &o); err != nil {
			return err
		}
	}
	fd, err := mkdirAllInRoot(r.fd, m.Destination, 0o755)
	if err != nil {
		return err
	}
	data := o.Data
	if typ == "tmpfs" || typ == "devpts" || typ == "mqueue" {
		data = labelled(data, s.MountLabel)
	}
	if typ == "tmpfs" && o.CopyUp {
		err = r.mountCopyUp(m, fd, o, data)
	} else {
		err = mountAt(m.Source, fd, typ, o, data)
	}
	unix.Close(fd)
	if err != nil {
		return err
	}
	if err := r.afterMount(m.Destination, o); err != nil {
		return err
	}
	if late != nil {
		// dest now resolves to the root of the mount just made. The fd
		// keeps that mount, whatever is later mounted over it.
		if late.fd, err = openInRoot(r.fd, m.Destination, 0); err != nil {
			return err
		}
		r.lateRO = append(r.lateRO, *late)
	}
	return nil
}

// coveredMode gives a tmpfs over an existing directory that directory's
// mode (set-id and sticky bits too) unless its options say another:
// "mode=" goes first in o.Data, and a later "mode=" wins. runc 1.5 does
// the same (createOpenMountpoint); a tmpfs on a new directory keeps the
// tmpfs default, 1777.
func coveredMode(root int, dest string, o *Options) error {
	fd, err := openInRoot(root, dest, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "fstat", Path: dest, Err: err}
	}
	mode := fmt.Sprintf("mode=%04o", st.Mode&0o7777)
	if o.Data != "" {
		mode += "," + o.Data
	}
	o.Data = mode
	return nil
}

// mountCopyUp mounts a tmpfs onto the directory fd and copies into it
// what the directory held (tmpcopyup). A read-only one is made so by
// Finish (see mount), once it is filled.
func (r *Root) mountCopyUp(m Mount, fd int, o Options, data string) error {
	const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY
	old, err := openat2(fd, ".", dirFlags, 0)
	if err != nil {
		return err
	}
	defer unix.Close(old)
	if err := mountAt(m.Source, fd, "tmpfs", o, data); err != nil {
		return err
	}
	// Reopened: the path now resolves to the new tmpfs's root.
	tmp, err := openat2(r.fd, orDot(rel(m.Destination)), dirFlags, inRoot)
	if err != nil {
		return err
	}
	defer unix.Close(tmp)
	if err := copyTree(old, tmp); err != nil {
		return fmt.Errorf("tmpcopyup %s: %w", m.Destination, err)
	}
	return nil
}

// labelled adds an SELinux context= option when a mount label is set.
func labelled(data, label string) string {
	if label == "" {
		return data
	}
	opt := fmt.Sprintf("context=%q", label)
	if data == "" {
		return opt
	}
	return data + "," + opt
}

// realDir returns an fd of dest, made if missing, refusing any symlink on
// the way.
func (r *Root) realDir(dest string) (int, error) {
	fd, err := openat2(r.fd, orDot(rel(dest)), unix.O_PATH|unix.O_DIRECTORY, inRoot|unix.RESOLVE_NO_SYMLINKS)
	if errors.Is(err, unix.ENOENT) {
		fd, err = mkdirAllInRoot(r.fd, dest, 0o755)
		if err == nil {
			unix.Close(fd)
			fd, err = openat2(r.fd, orDot(rel(dest)), unix.O_PATH|unix.O_DIRECTORY, inRoot|unix.RESOLVE_NO_SYMLINKS)
		}
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return -1, fmt.Errorf("destination %s must be a directory, not a symlink or file", dest)
	}
	return fd, err
}

func orDot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// mountAt mounts a filesystem onto the directory fd refers to.
func mountAt(source string, fd int, typ string, o Options, data string) error {
	flags := o.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	if err := unix.Mount(source, fdPath(fd), typ, flags, data); err != nil {
		return fmt.Errorf("mount %s: %w", typ, err)
	}
	return nil
}

// afterMount applies what mount(2) cannot do in the same call: the
// propagation options and the recursive (mount_setattr) ones. It reopens
// dest, which now resolves to the new mount's root.
func (r *Root) afterMount(dest string, o Options) error {
	if len(o.Propagate) == 0 && o.RecSet == 0 && o.RecClear == 0 {
		return nil
	}
	fd, err := openInRoot(r.fd, dest, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return setAttrs(fd, o)
}

// setAttrs applies recursive attributes and propagation to the mount fd
// refers to.
func setAttrs(fd int, o Options) error {
	if o.RecSet != 0 || o.RecClear != 0 {
		set, clr := o.RecSet, o.RecClear
		if set&unix.MOUNT_ATTR__ATIME != 0 || clr&unix.MOUNT_ATTR__ATIME != 0 {
			clr |= unix.MOUNT_ATTR__ATIME
		}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: set, Attr_clr: clr}); err != nil {
			return fmt.Errorf("mount_setattr recursive: %w", err)
		}
	}
	for _, p := range o.Propagate {
		flags := uint(unix.AT_EMPTY_PATH)
		if p&unix.MS_REC != 0 {
			flags |= unix.AT_RECURSIVE
		}
		if err := unix.MountSetattr(fd, "", flags, &unix.MountAttr{Propagation: uint64(p &^ unix.MS_REC)}); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	return nil
}

// bind bind-mounts a host path (or an rbind of it) onto dest. The clone is
// made with open_tree(2) and gets its attributes before it is attached
// with move_mount(2), so a read-only bind is never writable, not even for
// an instant, and "ro" on an rbind does not need the locked-flags dance of
// MS_REMOUNT inside a user namespace.
func (r *Root) bind(source, dest string, o Options) error {
	tree, err := cloneTree(source, o.Recursive())
	if err != nil {
		return err
	}
	defer unix.Close(tree)
	return r.attachBind(tree, source, dest, o)
}

// openSource clones the source of s.Mounts[i], a bind mount, when the
// mount is made, not before: it is looked up in the container's mount
// namespace as it is at that moment, so an earlier mount of the spec may
// provide it (bind a host directory on /mnt, then rootfs/mnt/x on
// /final), as in runc. The clone comes from that namespace, where, in a
// user namespace, the kernel has locked the flags of the mounts we
// inherited (MNT_LOCK_READONLY...): the bind keeps them (setBindAttrs).
//
// In a user namespace init may not reach a source (under a directory its
// root may not search: a 0700 --root or --runroot, for podman --uidmap);
// then the runtime clones it for it, in this mount namespace too, at this
// moment (s.OpenSource, isync.MountSource), as runc 1.5's runtime does
// on init's request. Either way the source is found the same.
//
// An idmapped bind (IDMapped) is always the runtime's to make: see
// libsandbox's mountSources for why.
func openSource(s *Setup, i int, source string, o Options) (int, error) {
	if s.Mounts[i].IDMapped {
		if s.OpenSource == nil {
			return -1, errors.New("idmapped mount: the runtime was not asked to serve it")
		}
		return s.OpenSource(i)
	}
	tree, err := cloneTree(source, o.Recursive())
	if err == nil || s.OpenSource == nil {
		return tree, err
	}
	return s.OpenSource(i)
}

// IDMapped reports whether m (with options o) is an idmapped bind: it
// has the "idmap" or "ridmap" option, or mappings of its own (runc
// idmaps a mount with mappings and neither option).
func IDMapped(m specs.Mount, o Options) bool {
	return o.IDMap || len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0
}

// CloneSource is the runtime's side of openSource: it runs in init's
// mount namespace. The copy gets its attributes from init.
func CloneSource(m Mount) (int, error) {
	return cloneTree(m.Source, m.Options.Recursive())
}

// cloneTree clones source (with its submounts for rbind) as a detached
// mount.
func cloneTree(source string, recursive bool) (int, error) {
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, source, uint(flags))
	if err != nil {
		return -1, &os.PathError{Op: "open_tree", Path: source, Err: err}
	}
	return tree, nil
}

// attachBind gives the detached clone tree o's attributes, then attaches
// it on dest.
func (r *Root) attachBind(tree int, source, dest string, o Options) error {
	if err := setBindAttrs(tree, source, o); err != nil {
		return err
	}
	return r.attach(tree, source, dest, o)
}

// setBindAttrs gives a detached clone of source o's attributes,
// propagation excepted (applied once it is attached). Every bind goes
// through here (the spec's, the sysfs and mqueue fallbacks, cgroup
// hierarchies without a cgroup namespace, device nodes in a user
// namespace), so this is where a read-only rbind of the host's /sys, or
// of what is under it, is made read-only in its submounts too
// (deepReadonly): a tree whose top is sysfs or a cgroup hierarchy, or
// whose source is under /sys (/sys/fs/cgroup, a tmpfs on a v1 host).
func setBindAttrs(tree int, source string, o Options) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(tree, &st); err != nil {
		return os.NewSyscallError("fstatfs", err)
	}
	sys := st.Type == unix.SYSFS_MAGIC || st.Type == unix.CGROUP_SUPER_MAGIC || st.Type == unix.CGROUP2_SUPER_MAGIC ||
		path.Clean(source) == "/sys" || strings.HasPrefix(path.Clean(source), "/sys/")
	o = deepReadonly(o, sys)
	o.Propagate = nil
	if err := setBindFlags(tree, o); err != nil {
		return err
	}
	return setAttrs(tree, o)
}

// setBindFlags gives the top mount of a bind the flags its options name
// and clears the others, as runc 1.5 does (mountToRootfs, "bind"): what
// mount(8) means by "mount --bind -o ...", and what a user expects, not
// the source's flags plus ours. With no flag named, set or cleared, the
// source's flags are kept. The atime flags are kept unless one is named,
// and then computed as mount(2) does for a remount: relatime unless
// noatime or strictatime, strictatime over noatime, nodiratime added.
//
// In a user namespace the kernel has locked, on every mount the
// namespace inherited and on clones of them, the read-only, nodev,
// nosuid, noexec and atime flags it found (MNT_LOCK_*; lock_mnt_tree in
// fs/namespace.c): clearing one fails (EPERM). runc then keeps the
// source's lockable flags, and refuses a request it cannot honour: an
// option that clears a locked flag ("rw" on a read-only source) or other
// atime flags than the source's. So do we, with runc's words.
func setBindFlags(tree int, o Options) error {
	if o.Flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) == 0 && o.Clear == 0 {
		return nil
	}
	err := setTopFlags(tree, o.Flags)
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(tree, &st); err != nil {
		return os.NewSyscallError("fstatfs", err)
	}
	src := statfsFlags(&st)
	if locked := src & o.Clear & lockFlags; locked != 0 {
		return fmt.Errorf("cannot clear locked flags %s (the source has them, and the kernel locks them in a user namespace): %w", flagNames(locked), err)
	}
	if o.Flags&atimeFlags != 0 && o.Flags&atimeFlags != src&atimeFlags {
		return fmt.Errorf("cannot change locked atime flags %s (the source has them, and the kernel locks them in a user namespace): %w", flagNames(src&atimeFlags), err)
	}
	if err := setTopFlags(tree, o.Flags|src&lockFlags); err != nil {
		return fmt.Errorf("with the locked flags %s kept: %w", flagNames(src&lockFlags), err)
	}
	return nil
}

// setTopFlags makes flags (MS_*) the flags of the top mount of fd, as a
// remount (MS_REMOUNT|MS_BIND) with them would.
func setTopFlags(fd int, flags uintptr) error {
	set, clr := remountAttrs(flags)
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: set, Attr_clr: clr}); err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	return nil
}

// remountAttrs returns the mount_setattr(2) attributes to set and clear
// for a mount to get flags (MS_*) as a remount with them would give it.
func remountAttrs(flags uintptr) (set, clr uint64) {
	set = attrs(flags &^ atimeFlags)
	clr = uint64(unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC|unix.MOUNT_ATTR_NOSYMFOLLOW) &^ set
	if flags&atimeFlags != 0 {
		// The atime mode is a field, not a bit: clear it and set one
		// value (relatime is 0), as do_mount does for a remount that
		// names an atime flag.
		clr |= unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_NODIRATIME
		switch {
		case flags&unix.MS_STRICTATIME != 0:
			set |= unix.MOUNT_ATTR_STRICTATIME
		case flags&unix.MS_NOATIME != 0:
			set |= unix.MOUNT_ATTR_NOATIME
		}
		if flags&unix.MS_NODIRATIME != 0 {
			set |= unix.MOUNT_ATTR_NODIRATIME
		}
	}
	return set, clr
}

// attach mounts the detached tree onto dest (made, as a directory or a
// file like the tree's root, if missing), then applies propagation.
func (r *Root) attach(tree int, source, dest string, o Options) error {
	var st unix.Stat_t
	if err := unix.Fstat(tree, &st); err != nil {
		return &os.PathError{Op: "stat bind source", Path: source, Err: err}
	}
	var (
		target int
		err    error
	)
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		target, err = mkdirAllInRoot(r.fd, dest, 0o755)
	} else {
		target, err = createFileInRoot(r.fd, dest)
	}
	if err != nil {
		return err
	}
	defer unix.Close(target)
	if err := unix.MoveMount(tree, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount %s: %w", source, err)
	}
	if len(o.Propagate) > 0 {
		return r.afterMount(dest, Options{Propagate: o.Propagate})
	}
	return nil
}

// mountCgroup mounts the host's cgroup hierarchies for a "cgroup" mount.
// On a pure cgroup v2 host that is one cgroup2 mount; on a v1 or hybrid
// host, a tmpfs with one directory per hierarchy. With a cgroup namespace
// each hierarchy is mounted afresh (its root is the container's cgroup);
// without one, the container's own cgroup directories are bind-mounted.
func (r *Root) mountCgroup(s *Setup, m Mount, o Options) error {
	ro := o.Flags&unix.MS_RDONLY != 0
	if len(s.CgroupMounts) == 0 {
		return errors.New("no cgroup hierarchy found on the host")
	}
	sub := Options{Flags: o.Flags & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY)}
	if len(s.CgroupMounts) == 1 && s.CgroupMounts[0].Name == "" {
		cm := s.CgroupMounts[0]
		return r.mountOneCgroup(s, m.Destination, cm, sub)
	}
	// v1/hybrid: a tmpfs to hold the hierarchies, made read-only at the end.
	fd, err := mkdirAllInRoot(r.fd, m.Destination, 0o755)
	if err != nil {
		return err
	}
	tmp := Options{Flags: o.Flags &^ unix.MS_RDONLY}
	err = mountAt("tmpfs", fd, "tmpfs", tmp, labelled("mode=755", s.MountLabel))
	unix.Close(fd)
	if err != nil {
		return err
	}
	for _, cm := range s.CgroupMounts {
		dest := path.Join(m.Destination, cm.Name)
		if err := r.mountOneCgroup(s, dest, cm, sub); err != nil {
			return err
		}
		for _, link := range cm.Symlinks {
			dir, err := openInRoot(r.fd, m.Destination, unix.O_DIRECTORY)
			if err != nil {
				return err
			}
			err = unix.Symlinkat(cm.Name, dir, link)
			unix.Close(dir)
			if err != nil && err != unix.EEXIST {
				return fmt.Errorf("symlink %s: %w", filepath.Join(m.Destination, link), err)
			}
		}
	}
	if ro {
		fd, err := openInRoot(r.fd, m.Destination, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			return fmt.Errorf("make %s read-only: %w", m.Destination, err)
		}
	}
	return r.afterMount(m.Destination, Options{Propagate: o.Propagate, RecSet: o.RecSet, RecClear: o.RecClear})
}

func (r *Root) mountOneCgroup(s *Setup, dest string, cm CgroupMount, o Options) error {
	if s.CgroupNS {
		fd, err := mkdirAllInRoot(r.fd, dest, 0o755)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		opts := o
		opts.Data = cm.Options
		return mountAt("cgroup", fd, cm.Type, opts, cm.Options)
	}
	if cm.Path == "" {
		return fmt.Errorf("no cgroup path for %s", dest)
	}
	o.Flags |= unix.MS_BIND | unix.MS_REC
	tree, err := cloneTree(cm.Path, o.Recursive())
	if err != nil {
		return err
	}
	defer unix.Close(tree)
	// The clone is checked, not the path: the owner of a delegated
	// parent could have renamed another container's cgroup to Path
	// since create made it (libsandbox/cgroups/identity.go), and the
	// container would see, or with a writable mount set, that one's.
	if cm.Ino != 0 {
		var st unix.Stat_t
		if err := unix.Fstat(tree, &st); err != nil {
			return fmt.Errorf("cgroup mount %s: %w", dest, err)
		}
		if st.Ino != cm.Ino {
			return fmt.Errorf("cgroup mount %s: %s is not the container's cgroup any more (inode %d, create made %d): replaced since by the owner of a parent?", dest, cm.Path, st.Ino, cm.Ino)
		}
	}
	return r.attachBind(tree, cm.Path, dest, o)
}
