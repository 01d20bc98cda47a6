package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/caps"
)

// maxProcFile bounds what we read of one /proc file: they are the
// kernel's, short, but mountinfo grows with the container's mounts,
// which it chooses.
const maxProcFile = 4 << 20

// readAt reads name under dir (a /proc/PID directory fd). Through the
// fd, a pid that has been reused since names nothing: the read fails
// (ESRCH) instead of describing another process.
func readAt(dir int, name string) ([]byte, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProcFile))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// parseStatus parses /proc/PID/status into key -> value (tabs and
// surrounding spaces trimmed).
func parseStatus(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// parseIDs parses a Uid: or Gid: value: real, effective, saved, fs.
func parseIDs(s string) ([4]int64, error) {
	var ids [4]int64
	f := strings.Fields(s)
	if len(f) != 4 {
		return ids, fmt.Errorf("malformed ids %q", s)
	}
	for i, x := range f {
		n, err := strconv.ParseUint(x, 10, 32)
		if err != nil {
			return ids, fmt.Errorf("malformed ids %q", s)
		}
		ids[i] = int64(n)
	}
	return ids, nil
}

// parseIDMap parses /proc/PID/uid_map or gid_map.
func parseIDMap(b []byte) ([]IDMap, error) {
	out := []IDMap{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("malformed id map line %q", line)
		}
		var n [3]uint32
		for i, x := range f {
			v, err := strconv.ParseUint(x, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("malformed id map line %q", line)
			}
			n[i] = uint32(v)
		}
		out = append(out, IDMap{ContainerID: n[0], HostID: n[1], Size: n[2]})
	}
	return out, nil
}

// toContainer maps host ids through m; -1 for one it does not map.
func toContainer(m []IDMap, host [4]int64) [4]int64 {
	var out [4]int64
	for i, h := range host {
		out[i] = -1
		for _, e := range m {
			if h >= int64(e.HostID) && h < int64(e.HostID)+int64(e.Size) {
				out[i] = int64(e.ContainerID) + h - int64(e.HostID)
				break
			}
		}
	}
	return out
}

// capNames decodes a hex capability mask (CapEff: and the others).
func capNames(hex string) ([]string, error) {
	mask, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return nil, fmt.Errorf("malformed capability mask %q", hex)
	}
	out := []string{}
	for n := 0; n < 64; n++ {
		if mask&(1<<uint(n)) != 0 {
			out = append(out, caps.Name(n))
		}
	}
	return out, nil
}

// nsInode parses a namespace link, "net:[4026531840]".
func nsInode(link string) (uint64, error) {
	_, rest, ok := strings.Cut(link, ":[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, fmt.Errorf("malformed namespace link %q", link)
	}
	return strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
}

// readlinkAt reads a symlink under dir.
func readlinkAt(dir int, name string) (string, error) {
	buf := make([]byte, 256)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(buf[:n]), nil
}

// gone reports whether err says the process has gone: its /proc entry
// answers ESRCH, or no longer has the file.
func gone(err error) bool {
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT)
}
