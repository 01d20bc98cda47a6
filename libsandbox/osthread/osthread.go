// Package osthread runs code on an OS thread that is thrown away after
// it: for a thread that joins another namespace, or leaves its own (a
// mount namespace, a cgroup namespace), and cannot go back.
//
// The usual way, runtime.LockOSThread and returning still locked, ends
// the thread, except the process's main thread: the Go runtime cannot
// end that one, and parks it for good instead (runtime.mexit: "This is
// the main thread. Just wedge it."), still in the namespaces it joined.
// And the main thread is what the kernel shows as the process's own:
// /proc/self/ns/*, /proc/self/mountinfo, /proc/self/cgroup and
// /proc/self/root are the thread group leader's. So a goroutine that
// joins a container's mount namespace and happens to run on the main
// thread (likely: the goroutine that started it blocks waiting for it,
// and the new goroutine runs next on the same thread) leaves the whole
// runtime reading the container's mount table from /proc/self from
// then on. A test showed it in 3 runs of 5.
package osthread

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Discard runs f, in a goroutine of its own, on a locked OS thread that
// is not the main thread and ends when f returns: f may leave it in
// other namespaces, with an fs_struct of its own, or in other cgroups.
// Discard returns at once; f reports back itself (a channel).
//
// If the goroutine starts on the main thread, it keeps that thread
// locked, so that no goroutine can run there, while f runs on another,
// and then lets it go, unchanged.
func Discard(f func()) {
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			done := make(chan struct{})
			Discard(func() {
				defer close(done)
				f()
			})
			<-done
			runtime.UnlockOSThread()
			return
		}
		f()
		// Returning locked: the runtime ends the thread.
	}()
}
