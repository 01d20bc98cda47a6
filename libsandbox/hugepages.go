package libsandbox

import "golang.org/x/sys/unix"

// hugePagesOffForInit turns transparent huge pages off for us and so for
// the init we start next: PR_SET_THP_DISABLE is inherited by children and
// kept across execve. On a host with THP "always" every 2 MB-aligned
// region init's Go runtime touches (heap arena, thread stacks, glibc's
// per-thread malloc arenas) can come as a huge page, charged whole to the
// container's memory cgroup: 3.1-3.7 MB instead of 1.6 MB measured on
// cgroup v2 (memory.peak, anon 3.1 MB against 1.0 MB).
//
// It reports whether it turned them off; init then turns them back on
// just before the user's execve (initcfg.Config.HugePagesBack). When our
// caller had them off already, it does nothing and reports false: the
// user's process inherits the caller's setting, as it would under runc.
// It runs in the process that starts init, never before exec's re-exec
// from the sealed copy, which would otherwise see our own setting as the
// caller's. Best effort: a failure costs memory only.
func hugePagesOffForInit() bool {
	if off, err := unix.PrctlRetInt(unix.PR_GET_THP_DISABLE, 0, 0, 0, 0); err != nil || off != 0 {
		return false
	}
	return unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0) == nil
}
