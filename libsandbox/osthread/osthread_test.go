package osthread

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// A goroutine that leaves our mount namespace must not leave the
// process's main thread there: /proc/self/ns/mnt is the main thread's.
// Without Discard (a plain locked goroutine that returns), this failed
// in most runs of a small program (3 of 5).
func TestDiscardLeavesMainThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare(CLONE_NEWNS)")
	}
	before, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		errc := make(chan error, 1)
		var tid int
		Discard(func() {
			tid = unix.Gettid()
			errc <- unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS)
		})
		if err := <-errc; err != nil {
			t.Fatalf("unshare: %v", err)
		}
		if tid == os.Getpid() {
			t.Fatalf("run %d: f ran on the main thread", i)
		}
		if now, _ := os.Readlink("/proc/self/ns/mnt"); now != before {
			t.Fatalf("run %d: /proc/self/ns/mnt is %s, was %s: the main thread stayed in the namespace", i, now, before)
		}
	}
}
