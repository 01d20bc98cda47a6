package rootfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// MakeMountpoint makes dest inside the root filesystem at rootfs, a
// directory or, if file is set, an empty file, with its missing parents,
// where the container will see it (symlinks followed inside rootfs), as
// a mount of the spec makes its mount point. Restore prepares a rootfs
// for CRIU this way: CRIU mounts what it restores but makes no mount
// points, and a rootfs made afresh (a checkpoint moved to another host)
// has none of those init made in the first one.
func MakeMountpoint(rootfs, dest string, file bool) error {
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: rootfs, Err: err}
	}
	defer unix.Close(root)
	var fd int
	if file {
		fd, err = createFileInRoot(root, dest)
	} else {
		fd, err = mkdirAllInRoot(root, dest, 0o755)
	}
	if err != nil {
		return fmt.Errorf("mount point %s: %w", dest, err)
	}
	unix.Close(fd)
	return nil
}
