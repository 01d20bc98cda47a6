package libsandbox

import (
	"os"
	"os/exec"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// init is executed by /proc/self/fd/N, which the standard library's child
// resolves only after it has laid out the fds it hands on: it moves those
// that would be overwritten to the numbers right above the highest (and
// its error pipe), then dup2s them onto 0..len-1. An fd of the binary at
// one of those numbers was overwritten, and the execve ran something
// else (EACCES). execFdOutOfReach gives one the child leaves alone,
// wherever the binary's fd was.
func TestExecFdOutOfReach(t *testing.T) {
	bin, err := os.Open("/bin/true")
	if err != nil {
		t.Skipf("needs /bin/true: %v", err)
	}
	defer bin.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	at := func(f *os.File, fd int) *os.File {
		t.Helper()
		if err := unix.Dup3(int(f.Fd()), fd, unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		return os.NewFile(uintptr(fd), "fd"+strconv.Itoa(fd))
	}
	free := func(fd int) bool {
		_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		return err == unix.EBADF
	}
	// The highest inherited fd at 300; the last extra file has a lower
	// number than its place in the child, so the child moves it.
	const highest = 300
	hi := at(null, highest)
	defer hi.Close()
	extra := []*os.File{}
	for len(extra) < 20 {
		extra = append(extra, hi)
	}
	extra = append(extra, null) // its fd is below 3+20
	if int(null.Fd()) >= 3+len(extra)-1 {
		t.Skipf("fd %d of /dev/null is not below its place %d in the child", null.Fd(), 3+len(extra)-1)
	}
	inherited := append([]*os.File{null, null, null}, extra...)

	// Where the child moves fds (the pipe, then the last extra file),
	// and one of the places it dup2s onto.
	places := []int{highest + 1, highest + 2, highest + 3}
	for p := 3 + len(extra) - 2; p > 3; p-- {
		if free(p) {
			places = append(places, p)
			break
		}
	}
	runFrom := func(name string, inherited, extra []*os.File, places []int) {
		t.Helper()
		for _, p := range places {
			if !free(p) {
				t.Fatalf("%s: fd %d is in use", name, p)
			}
			exe := at(bin, p)
			fd, closeFd, err := execFdOutOfReach(exe, inherited)
			if err != nil {
				t.Fatal(err)
			}
			cmd := &exec.Cmd{
				Path:       "/proc/self/fd/" + strconv.Itoa(fd),
				Args:       []string{"true"},
				Stdin:      inherited[0],
				Stdout:     inherited[1],
				Stderr:     inherited[2],
				ExtraFiles: extra,
			}
			if err := cmd.Run(); err != nil {
				t.Errorf("%s: the binary's fd at %d (given %d): %v", name, p, fd, err)
			}
			closeFd()
			exe.Close()
		}
	}
	runFrom("distinct fds", inherited, extra, places)

	// One low fd in every place (a runtime started with stdio closed
	// has a file in two): the child moves fds from above the count,
	// not the highest (a review found it).
	low := null
	one := []*os.File{}
	for len(one) < 20 {
		one = append(one, low)
	}
	all := append([]*os.File{low, low, low}, one...)
	if int(low.Fd()) >= len(all)-1 {
		t.Skipf("fd %d of /dev/null is not below the count %d", low.Fd(), len(all))
	}
	runFrom("one fd everywhere", all, one, []int{len(all) + 1, len(all) + 2, 2*len(all) - 4, 2*len(all) + 10})
}
