package libsandbox

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/osthread"
)

// handleAt's thread ends after it: when netlink's move back to our
// namespace fails (nl.executeInNetns ignores setns's error and unlocks
// the thread), no thread of ours is left in the container's network
// namespace to run our goroutines there. The stand-in does what
// NewHandleAt does when that setns fails: lock, enter, unlock, succeed.
func TestHandleAtLeavesNoThreadInNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare(CLONE_NEWNET)")
	}
	nsFile := make(chan *os.File, 1)
	osthread.Discard(func() {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Error(err)
			nsFile <- nil
			return
		}
		f, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			t.Error(err)
		}
		nsFile <- f
	})
	f := <-nsFile
	if f == nil {
		t.FailNow()
	}
	defer f.Close()
	other, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}

	// The real one: a handle that acts in the other namespace.
	h, err := handleAt(f)
	if err != nil {
		t.Fatal(err)
	}
	lo, err := h.LinkByName("lo")
	h.Close()
	if err != nil || lo.Attrs().Flags&net.FlagUp != 0 {
		t.Fatalf("lo through the handle: %v, %v (want the new namespace's, down)", lo, err)
	}

	defer func(real func(netns.NsHandle, ...int) (*netlink.Handle, error)) { newHandleAt = real }(newHandleAt)
	newHandleAt = func(ns netns.NsHandle, _ ...int) (*netlink.Handle, error) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := unix.Setns(int(ns), unix.CLONE_NEWNET); err != nil {
			return nil, err
		}
		// The move back fails here, and is not reported.
		return &netlink.Handle{}, nil
	}
	if _, err := handleAt(f); err != nil {
		t.Fatal(err)
	}
	var left []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		left = left[:0]
		for task, ns := range netnsOfTasks(t) {
			if ns == other {
				left = append(left, task)
			}
		}
		if len(left) == 0 {
			return
		}
	}
	t.Errorf("threads of ours left in the container's network namespace %s: %v", other, left)
}
