package report

import (
	"fmt"
	"path"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/mountinfo"
)

// Looking inside the container's root from the host. The container is
// hostile: it can put symlinks, FIFOs, device nodes and FUSE mounts
// anywhere in its tree, and change them while we look. So:
//
//   - every path is resolved with openat2 RESOLVE_IN_ROOT from its root
//     (and RESOLVE_NO_MAGICLINKS): a symlink, "..", or an absolute link
//     stays inside, whatever the container does in between;
//   - nothing is opened but directories, and those with O_DIRECTORY,
//     which the kernel checks before calling any driver's open: a
//     device node or a FIFO fails with ENOTDIR and is never opened;
//     everything else is lstat'ed (fstatat AT_SYMLINK_NOFOLLOW);
//   - the whole walk runs in a goroutine, and Gather waits for it
//     Source.Timeout at most: a FUSE mount whose server never answers
//     can hold any lookup, readdir or stat for ever. A walk that times
//     out is left behind, blocked in the kernel (the CLI exits), and
//     what it would have said is "unknown";
//   - the walk is bounded in depth and entries too (maxDevDepth,
//     maxDevEntries), so that a /dev of a million entries cannot make
//     the report as long.

const (
	maxDevDepth   = 4
	maxDevEntries = 4096
)

// inRootResult is what the walk found, handed over once, whole.
type inRootResult struct {
	exists  map[string]string // path -> "yes", "no" or "unknown"
	devices []Device
	errs    []string
}

// inRoot checks the config's masked and read-only paths against the
// mounts and the tree, and lists the device nodes under /dev.
func (g *gatherer) inRoot(mi []mountinfo.Info) {
	fs := &g.r.Filesystem
	var masked, readonly []string
	if s := g.src.Spec; s != nil {
		if s.Linux != nil {
			masked = s.Linux.MaskedPaths
			readonly = append(readonly, s.Linux.ReadonlyPaths...)
		}
		if s.Root != nil && s.Root.Readonly {
			readonly = append(readonly, "/")
		}
		for _, m := range s.Mounts {
			if hasOptList(m.Options, "ro") {
				readonly = append(readonly, path.Clean(m.Destination))
			}
		}
	}
	readonly = dedup(readonly)
	// Which paths need a look in the tree: those no mount answers for.
	var look []string
	for _, p := range masked {
		if mi != nil && mountAt(mi, p) == nil {
			look = append(look, p)
		}
	}
	for _, p := range readonly {
		if m := covering(mi, p); m != nil && !readOnly(*m) && m.Point != p {
			look = append(look, p)
		}
	}

	root, err := unix.Openat(g.dir, "root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	var res *inRootResult
	if err != nil {
		g.fail("root", fmt.Errorf("open root: %w", err))
	} else {
		done := make(chan *inRootResult, 1)
		go func() {
			// The goroutine owns root: it may outlive Gather.
			defer unix.Close(root)
			done <- walkRoot(root, look)
		}()
		select {
		case res = <-done:
		case <-time.After(g.src.Timeout):
			g.fail("root", fmt.Errorf("looking inside the container's root timed out after %v (a FUSE mount that does not answer?)", g.src.Timeout))
		}
	}
	if res != nil {
		for _, e := range res.errs {
			g.fail("devices", fmt.Errorf("%s", e))
		}
		fs.Devices = res.devices
	}
	exists := func(p string) string {
		if res == nil {
			return "unknown"
		}
		return res.exists[p]
	}

	for _, p := range masked {
		st := "unknown"
		switch {
		case mi == nil:
		case mountAt(mi, p) != nil:
			// The runtime masks a file with /dev/null bound over it and
			// a directory with a read-only tmpfs; whatever is mounted
			// there now, the original is out of sight.
			st = "masked"
		case exists(p) == "no":
			st = "absent"
		case exists(p) == "yes":
			st = "exposed"
		}
		fs.MaskedPaths = append(fs.MaskedPaths, PathCheck{Path: p, State: st})
	}
	for _, p := range readonly {
		st := "unknown"
		m := covering(mi, p)
		switch {
		case m == nil:
		case readOnly(*m):
			st = "read-only"
		case m.Point == p: // a mount point exists
			st = "writable"
		case exists(p) == "no":
			st = "absent"
		case exists(p) == "yes":
			st = "writable"
		}
		fs.ReadonlyPaths = append(fs.ReadonlyPaths, PathCheck{Path: p, State: st})
	}
}

// walkRoot runs in its own goroutine: see the top of this file.
func walkRoot(root int, look []string) *inRootResult {
	res := &inRootResult{exists: map[string]string{}, devices: []Device{}}
	for _, p := range look {
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
		fd, err := unix.Openat2(root, p, &how)
		switch {
		case err == nil:
			unix.Close(fd)
			res.exists[p] = "yes"
		case err == unix.ENOENT:
			res.exists[p] = "no"
		default:
			res.exists[p] = "unknown"
		}
	}
	how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NONBLOCK | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	dev, err := unix.Openat2(root, "/dev", &how)
	if err != nil {
		if err != unix.ENOENT {
			res.errs = append(res.errs, fmt.Sprintf("open /dev: %v", err))
		}
		return res
	}
	n := 0
	walkDev(dev, "/dev", 1, &n, res)
	sort.Slice(res.devices, func(i, j int) bool { return res.devices[i].Path < res.devices[j].Path })
	return res
}

// walkDev lists the device nodes under the directory fd dir (closed on
// return), named name in the container.
func walkDev(dir int, name string, depth int, n *int, res *inRootResult) {
	defer unix.Close(dir)
	names, err := readDirNames(dir)
	if err != nil {
		res.errs = append(res.errs, fmt.Sprintf("read %s: %v", name, err))
		return
	}
	sort.Strings(names)
	for _, e := range names {
		if *n >= maxDevEntries {
			res.errs = append(res.errs, fmt.Sprintf("%s: more than %d entries, the rest not looked at", name, maxDevEntries))
			return
		}
		*n++
		p := name + "/" + e
		var st unix.Stat_t
		if err := unix.Fstatat(dir, e, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			continue // gone since the readdir
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR, unix.S_IFBLK:
			d := Device{Path: p, Type: "c", Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev)}
			if st.Mode&unix.S_IFMT == unix.S_IFBLK {
				d.Type = "b"
			}
			d.Default = defaultDevice(d)
			res.devices = append(res.devices, d)
		case unix.S_IFDIR:
			if depth >= maxDevDepth {
				continue
			}
			// Beneath dir, no symlink at all: e was a directory at the
			// fstatat; if it has become a symlink or a device since,
			// the open fails.
			how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
			sub, err := unix.Openat2(dir, e, &how)
			if err != nil {
				continue
			}
			walkDev(sub, p, depth+1, n, res)
		}
	}
}

func readDirNames(fd int) ([]string, error) {
	var names []string
	buf := make([]byte, 16384)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
		if len(names) > maxDevEntries {
			return names, nil
		}
	}
}

// defaultDevice: one of the runtime spec's default devices (config.md
// "Default Devices": null, zero, full, random, urandom, tty, console,
// ptmx) or a pty of the container's devpts (Unix98 ptys: majors
// 136-143).
func defaultDevice(d Device) bool {
	if d.Type != "c" {
		return false
	}
	switch {
	case d.Major == 1 && (d.Minor == 3 || d.Minor == 5 || d.Minor == 7 || d.Minor == 8 || d.Minor == 9):
		return true
	case d.Major == 5 && d.Minor <= 2:
		return true
	case d.Major >= 136 && d.Major <= 143:
		return true
	}
	return false
}

// mountAt returns the topmost mount on exactly p.
func mountAt(mi []mountinfo.Info, p string) *mountinfo.Info {
	var m *mountinfo.Info
	for i := range mi {
		if mi[i].Point == p {
			m = &mi[i]
		}
	}
	return m
}

// covering returns the mount p is on: the topmost on the longest mount
// point that is p or one of its parents.
func covering(mi []mountinfo.Info, p string) *mountinfo.Info {
	var m *mountinfo.Info
	for i := range mi {
		if within(p, mi[i].Point) && (m == nil || len(mi[i].Point) >= len(m.Point)) {
			m = &mi[i]
		}
	}
	return m
}

func hasOptList(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

func dedup(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
