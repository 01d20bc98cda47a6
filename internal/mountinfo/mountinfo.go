// Package mountinfo parses /proc/PID/mountinfo (proc(5)).
package mountinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Info is one line.
type Info struct {
	ID, Parent   int      // fields 1 and 2: mount IDs; a mount stacked on another has it as parent
	Dev          string   // field 3: major:minor of the file system (st_dev of its files)
	Root         string   // field 4: root of the mount within its filesystem
	Point        string   // field 5: mount point
	Options      string   // field 6: per-mount options
	Optional     []string // optional fields: shared:N, master:N...
	FSType       string
	Source       string
	SuperOptions string
}

// Parse reads every line of a mountinfo file.
func Parse(r io.Reader) ([]Info, error) {
	var out []Info
	sc := bufio.NewScanner(r)
	// Lines are short; the scanner grows its buffer for a long one (up
	// to 1 MB). init reads mountinfo, and its heap is the container's.
	sc.Buffer(make([]byte, 4096), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		pre, post, ok := strings.Cut(line, " - ")
		// One space between fields, exactly: the kernel escapes only
		// space, tab, newline and backslash in paths, so a path may
		// hold a carriage return or another byte strings.Fields would
		// split at.
		pf := strings.Split(pre, " ")
		qf := strings.Split(post, " ")
		if !ok || len(pf) < 6 || len(qf) < 2 {
			return nil, fmt.Errorf("mountinfo: malformed line %q", line)
		}
		id, err1 := strconv.Atoi(pf[0])
		parent, err2 := strconv.Atoi(pf[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mountinfo: malformed mount IDs in %q", line)
		}
		in := Info{
			ID:       id,
			Parent:   parent,
			Dev:      pf[2],
			Root:     Unescape(pf[3]),
			Point:    Unescape(pf[4]),
			Options:  pf[5],
			Optional: pf[6:],
			FSType:   qf[0],
			Source:   Unescape(qf[1]),
		}
		if len(qf) > 2 {
			in.SuperOptions = qf[2]
		}
		out = append(out, in)
	}
	return out, sc.Err()
}

// Self parses the calling thread's mountinfo.
func Self() ([]Info, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// Unescape undoes the kernel's octal escapes (\040 for a space...).
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
