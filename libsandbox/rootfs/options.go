package rootfs

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Options is a mount's option list split the way the kernel wants it.
type Options struct {
	Flags     uintptr   // MS_* set on the mount (mount(2) flags)
	Clear     uintptr   // MS_* explicitly cleared (rw, suid, dev, exec, atime...)
	Propagate []uintptr // MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (|MS_REC), in order
	// RecSet and RecClear are MOUNT_ATTR_* applied with mount_setattr(2)
	// AT_RECURSIVE: the "r" options (rro, rnosuid...), which reach every
	// submount of a recursive bind.
	RecSet, RecClear uint64
	// CopyUp is runc's tmpcopyup: a tmpfs gets a copy of what is in
	// the directory it is mounted over (see copyTree).
	CopyUp bool
	// IDMap and RIDMap are "idmap" and "ridmap" (runtime-spec 1.2): the
	// bind is idmapped, its top mount only or every submount too. Never
	// passed to the filesystem.
	IDMap, RIDMap bool
	Data          string // the rest, comma-joined, for the filesystem
}

// Bind reports whether the options ask for a bind mount.
func (o *Options) Bind() bool { return o.Flags&unix.MS_BIND != 0 }

// Recursive reports whether a bind is recursive (rbind).
func (o *Options) Recursive() bool { return o.Flags&unix.MS_REC != 0 }

type flagOpt struct {
	clear bool
	flag  uintptr
}

// mount(8) options that are mount flags.
var flagOptions = map[string]flagOpt{
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"iversion":      {false, unix.MS_I_VERSION},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"loud":          {true, unix.MS_SILENT},
	"mand":          {false, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"silent":        {false, unix.MS_SILENT},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

var propagationOptions = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

type attrOpt struct {
	clear bool
	attr  uint64
}

// Recursive options, applied with mount_setattr(2) (Linux 5.12).
var recursiveOptions = map[string]attrOpt{
	"rro":         {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":         {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":     {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":       {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":      {false, unix.MOUNT_ATTR_NODEV},
	"rdev":        {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":     {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":       {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime": {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":   {true, unix.MOUNT_ATTR_NODIRATIME},
	// relatime is the atime field's value 0: selecting it is clearing
	// the field. rnorelatime has no value of its own (as in runc).
	"rrelatime":      {true, unix.MOUNT_ATTR__ATIME},
	"rnorelatime":    {true, 0},
	"rnoatime":       {false, unix.MOUNT_ATTR_NOATIME},
	"ratime":         {true, unix.MOUNT_ATTR_NOATIME},
	"rstrictatime":   {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnostrictatime": {true, unix.MOUNT_ATTR_STRICTATIME},
	"rnosymfollow":   {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":     {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// Options we know but do not implement; naming them beats passing them to
// the filesystem as data, which fails with a vague EINVAL.
var unsupportedOptions = map[string]string{
	"copy-symlink": "copy-symlink is not supported",
}

// ParseOptions splits a runtime-spec mount option list. Options of the
// form x-* are for user space (mount(8) convention) and are ignored.
func ParseOptions(opts []string) (Options, error) {
	var o Options
	var data []string
	for _, opt := range opts {
		if f, ok := flagOptions[opt]; ok {
			if f.clear {
				o.Flags &^= f.flag
				o.Clear |= f.flag
			} else {
				o.Flags |= f.flag
				o.Clear &^= f.flag
			}
			continue
		}
		if p, ok := propagationOptions[opt]; ok {
			o.Propagate = append(o.Propagate, p)
			continue
		}
		if a, ok := recursiveOptions[opt]; ok {
			if a.clear {
				o.RecSet &^= a.attr
				o.RecClear |= a.attr
			} else {
				o.RecSet |= a.attr
				o.RecClear &^= a.attr
			}
			continue
		}
		if opt == "tmpcopyup" {
			o.CopyUp = true
			continue
		}
		if opt == "idmap" || opt == "ridmap" {
			o.IDMap = true
			o.RIDMap = o.RIDMap || opt == "ridmap"
			continue
		}
		if why, ok := unsupportedOptions[opt]; ok {
			return o, fmt.Errorf("option %q: %s", opt, why)
		}
		if strings.HasPrefix(opt, "x-") {
			continue
		}
		if opt == "" {
			return o, fmt.Errorf("empty option")
		}
		data = append(data, opt)
	}
	o.Data = strings.Join(data, ",")
	return o, nil
}

// deepReadonly makes "ro" on a recursive bind of the host's /sys (hostSys:
// sysfs, a cgroup hierarchy or a path under /sys) reach every
// submount, as "rro" does. mount(2) with MS_REMOUNT|MS_BIND|MS_RDONLY, and
// mount_setattr(2) without AT_RECURSIVE, change the top mount only: a
// host's /sys bound "rbind,ro" (spec --rootless, or the sysfs fallback
// of a user namespace) left the host's cgroup hierarchies under it
// writable, and a container wrote a host cgroup's limits
// (CVE-2023-25809). runc fixed that one case, the /sys/fs/cgroup mount;
// we make every submount of a read-only /sys read-only (securityfs,
// tracefs, bpf... as well). Any other tree keeps "ro" top-only, as
// mount(8), runc and the runtime-spec ("rro" is the recursive one) mean
// it, and Kubernetes relies on it: a readOnly volume's submounts stay
// writable unless it asks for recursiveReadOnly (CRI
// Mount.recursive_read_only, "rro" in the spec; critest's "should
// support non-recursive readonly mounts"). An explicit "rrw" is the
// user's word on the submounts and is left to apply.
func deepReadonly(o Options, hostSys bool) Options {
	if hostSys && o.Bind() && o.Recursive() && o.Flags&unix.MS_RDONLY != 0 && o.RecClear&unix.MOUNT_ATTR_RDONLY == 0 {
		o.RecSet |= unix.MOUNT_ATTR_RDONLY
	}
	return o
}

const (
	// atimeFlags are the atime flags: one mode (noatime, relatime,
	// strictatime) and nodiratime.
	atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_NODIRATIME
	// lockFlags are the flags the kernel locks on the mounts a user
	// namespace inherits (MNT_LOCK_READONLY, _NODEV, _NOSUID, _NOEXEC,
	// _ATIME).
	lockFlags = unix.MS_RDONLY | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSUID | atimeFlags
)

// statfsFlags returns the mount flags (MS_*) that statfs(2) reports
// (calculate_f_flags in fs/statfs.c). A mount with no atime mode flag is
// strictatime, which has no ST_ flag of its own.
func statfsFlags(st *unix.Statfs_t) uintptr {
	const stNosymfollow = 0x2000 // ST_NOSYMFOLLOW, <linux/statfs.h>
	var flags uintptr
	for _, f := range []struct {
		st int64
		ms uintptr
	}{
		{unix.ST_RDONLY, unix.MS_RDONLY},
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_MANDLOCK, unix.MS_MANDLOCK},
		{unix.ST_SYNCHRONOUS, unix.MS_SYNCHRONOUS},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
		{stNosymfollow, unix.MS_NOSYMFOLLOW},
	} {
		if st.Flags&f.st == f.st {
			flags |= f.ms
		}
	}
	if flags&(unix.MS_NOATIME|unix.MS_RELATIME) == 0 {
		flags |= unix.MS_STRICTATIME
	}
	return flags
}

// flagNames names the MS_* flags of flags that can be locked, for errors.
func flagNames(flags uintptr) string {
	var names []string
	for _, f := range []struct {
		name string
		flag uintptr
	}{
		{"MS_RDONLY", unix.MS_RDONLY},
		{"MS_NOSUID", unix.MS_NOSUID},
		{"MS_NODEV", unix.MS_NODEV},
		{"MS_NOEXEC", unix.MS_NOEXEC},
		{"MS_NOATIME", unix.MS_NOATIME},
		{"MS_NODIRATIME", unix.MS_NODIRATIME},
		{"MS_RELATIME", unix.MS_RELATIME},
		{"MS_STRICTATIME", unix.MS_STRICTATIME},
	} {
		if flags&f.flag != 0 {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, "|")
}

// attrs converts the MS_* flags that mount_setattr(2) understands.
func attrs(flags uintptr) (set uint64) {
	if flags&unix.MS_RDONLY != 0 {
		set |= unix.MOUNT_ATTR_RDONLY
	}
	if flags&unix.MS_NOSUID != 0 {
		set |= unix.MOUNT_ATTR_NOSUID
	}
	if flags&unix.MS_NODEV != 0 {
		set |= unix.MOUNT_ATTR_NODEV
	}
	if flags&unix.MS_NOEXEC != 0 {
		set |= unix.MOUNT_ATTR_NOEXEC
	}
	if flags&unix.MS_NODIRATIME != 0 {
		set |= unix.MOUNT_ATTR_NODIRATIME
	}
	if flags&unix.MS_NOSYMFOLLOW != 0 {
		set |= unix.MOUNT_ATTR_NOSYMFOLLOW
	}
	switch {
	case flags&unix.MS_NOATIME != 0:
		set |= unix.MOUNT_ATTR_NOATIME
	case flags&unix.MS_STRICTATIME != 0:
		set |= unix.MOUNT_ATTR_STRICTATIME
	case flags&unix.MS_RELATIME != 0:
		set |= unix.MOUNT_ATTR_RELATIME
	}
	return set
}

// KnownOptions lists every mount option this runtime understands.
func KnownOptions() []string {
	var out []string
	for k := range flagOptions {
		out = append(out, k)
	}
	for k := range propagationOptions {
		out = append(out, k)
	}
	for k := range recursiveOptions {
		out = append(out, k)
	}
	out = append(out, "tmpcopyup", "idmap", "ridmap")
	sort.Strings(out)
	return out
}
