package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func dev(major, minor int64, p string) specs.LinuxDevice {
	mode := os.FileMode(0o666)
	var zero uint32
	return specs.LinuxDevice{Path: p, Type: "c", Major: major, Minor: minor, FileMode: &mode, UID: &zero, GID: &zero}
}

// DefaultDevices are made in every container whose /dev the runtime sets
// up (runtime-spec "Default Devices").
var DefaultDevices = []specs.LinuxDevice{
	dev(1, 3, "/dev/null"),
	dev(1, 5, "/dev/zero"),
	dev(1, 7, "/dev/full"),
	dev(1, 8, "/dev/random"),
	dev(1, 9, "/dev/urandom"),
	dev(5, 0, "/dev/tty"),
}

// devSymlinks are the runtime-spec's /dev symlinks.
var devSymlinks = [][2]string{
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
	{"pts/ptmx", "/dev/ptmx"},
}

func (r *Root) setupDev(devices []specs.LinuxDevice, userns bool) error {
	seen := map[string]bool{}
	for _, d := range devices {
		seen[path.Clean(d.Path)] = true
	}
	all := make([]specs.LinuxDevice, 0, len(DefaultDevices)+len(devices))
	for _, d := range DefaultDevices {
		if !seen[d.Path] {
			all = append(all, d)
		}
	}
	all = append(all, devices...)
	for i := range all {
		if err := r.makeDevice(&all[i], userns); err != nil {
			return fmt.Errorf("device %s: %w", all[i].Path, err)
		}
	}
	devfd, err := mkdirAllInRoot(r.fd, "/dev", 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(devfd)
	for _, l := range devSymlinks {
		if err := unix.Symlinkat(l[0], devfd, path.Base(l[1])); err != nil && err != unix.EEXIST {
			return fmt.Errorf("symlink %s: %w", l[1], err)
		}
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		if err := unix.Symlinkat("/proc/kcore", devfd, "core"); err != nil && err != unix.EEXIST {
			return fmt.Errorf("symlink /dev/core: %w", err)
		}
	}
	return nil
}

// DeviceType maps the spec's device type letter to S_IF*.
func DeviceType(t string) (uint32, bool) {
	switch t {
	case "c", "u":
		return unix.S_IFCHR, true
	case "b":
		return unix.S_IFBLK, true
	case "p":
		return unix.S_IFIFO, true
	}
	return 0, false
}

// makeDevice makes one device node with mknod(2); in a user namespace,
// where mknod is not allowed, it bind-mounts the host's node of the same
// path instead (as runc does).
func (r *Root) makeDevice(d *specs.LinuxDevice, userns bool) error {
	typ, ok := DeviceType(d.Type)
	if !ok {
		return fmt.Errorf("unknown type %q", d.Type)
	}
	if userns {
		return r.bind(d.Path, d.Path, Options{Flags: unix.MS_BIND})
	}
	parent, err := mkdirAllInRoot(r.fd, path.Dir(path.Clean(d.Path)), 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	name := path.Base(path.Clean(d.Path))
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(d.FileMode.Perm())
	}
	// Replace what the image or a default put there, but never follow
	// a symlink: unlinkat removes the link itself.
	if err := unix.Unlinkat(parent, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove existing: %w", err)
	}
	// A fifo has no device number: the spec lets major and minor be
	// given for one, and they mean nothing (mknod(2) ignores dev).
	var rdev uint64
	if typ != unix.S_IFIFO {
		rdev = unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	}
	if err := unix.Mknodat(parent, name, typ|mode, int(rdev)); err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	// Owner and mode are set through an fd of the node we made, never
	// by name: the directory may be shared with another container,
	// which can rename a symlink over the node in between, and chmod(2)
	// follows symlinks; before the pivot an absolute one leads to the
	// host (a host file made world-writable; security.bats).
	fd, err := unix.Openat(parent, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: d.Path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "fstat", Path: d.Path, Err: err}
	}
	if st.Mode&unix.S_IFMT != typ || (typ != unix.S_IFIFO && st.Rdev != rdev) {
		return errors.New("replaced while it was being made")
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	// mknod's mode is reduced by the umask; set it exactly. An O_PATH
	// fd cannot be fchmod'ed: chmod its magic link, which leads to the
	// node itself.
	if err := unix.Chmod(fdPath(fd), mode); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}
