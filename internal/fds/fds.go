// Package fds passes open files to a re-executed runtime as ExtraFiles
// plus --name=N flags, and reads them back on the other side (as gVisor's
// donation.go does), instead of hand-numbered environment variables.
package fds

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// List accumulates files to pass. The child gets Files[i] as fd
// First+i.
type List struct {
	First int
	Files []*os.File
	Args  []string
}

// New starts a list whose first file will be fd first (3 plus the number
// of preserved fds).
func New(first int) *List { return &List{First: first} }

// Add passes f as --name=N.
func (l *List) Add(name string, f *os.File) {
	n := l.First + len(l.Files)
	l.Files = append(l.Files, f)
	l.Args = append(l.Args, "--"+name+"="+strconv.Itoa(n))
}

// Parse finds --name=N in args.
func Parse(args []string, name string) (int, error) {
	prefix := "--" + name + "="
	for _, a := range args {
		if strings.HasPrefix(a, prefix) {
			n, err := strconv.Atoi(a[len(prefix):])
			if err != nil || n < 3 {
				return -1, fmt.Errorf("bad %s: %q", name, a)
			}
			return n, nil
		}
	}
	return -1, fmt.Errorf("missing --%s", name)
}

// Has reports whether the flag --name (no value) is in args.
func Has(args []string, name string) bool {
	for _, a := range args {
		if a == "--"+name {
			return true
		}
	}
	return false
}
