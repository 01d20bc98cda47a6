package nsexec

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/internal/procattr"
)

// setProcAttrs applies process.scheduler, process.ioPriority,
// linux.personality and linux.memoryPolicy to this thread, the one that
// will execve the user's program: each is a per-task attribute that
// execve keeps. It runs where runc's init runs them (standard_init_linux.go,
// before finalizeNamespace): as root with every capability, so that a
// real-time policy or the RT I/O class (CAP_SYS_NICE) is the config's
// to give whatever the process's capabilities, and before ready, so that
// the kernel's refusal (EPERM for SCHED_FIFO in a cgroup with no
// cpu.rt_runtime_us, EINVAL for a node outside the cpuset) is create's
// error.
//
// Each is a raw system call on this thread: golang.org/x/sys would do the
// same, but the point is that it is this thread and no other (the Go
// runtime's other threads die at execve).
//
// A SCHED_DEADLINE task cannot fork (sched_fork: EAGAIN): the
// startContainer hooks, which init forks after this, then fail, as they
// do under runc.
func setProcAttrs(cfg *initcfg.Config) error {
	proc, linux := cfg.Spec.Process, cfg.Spec.Linux
	if proc.Scheduler != nil {
		attr, err := procattr.Scheduler(proc.Scheduler)
		if err != nil {
			return err
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(attr)), 0); e != 0 {
			return fmt.Errorf("process.scheduler: sched_setattr %s: %w", proc.Scheduler.Policy, e)
		}
	}
	if proc.IOPriority != nil {
		prio, err := procattr.IOPriority(proc.IOPriority)
		if err != nil {
			return err
		}
		if _, _, e := unix.RawSyscall(unix.SYS_IOPRIO_SET, procattr.IOPrioWhoProcess, 0, uintptr(prio)); e != 0 {
			return fmt.Errorf("process.ioPriority: ioprio_set %s %d: %w", proc.IOPriority.Class, proc.IOPriority.Priority, e)
		}
	}
	if linux.Personality != nil {
		persona, err := procattr.Personality(linux.Personality)
		if err != nil {
			return err
		}
		if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, uintptr(persona), 0, 0); e != 0 {
			return fmt.Errorf("linux.personality: %w", e)
		}
	}
	if linux.MemoryPolicy != nil {
		mp, err := procattr.MemoryPolicy(linux.MemoryPolicy)
		if err != nil {
			return err
		}
		var nodes unsafe.Pointer
		if mp.Nodes != nil {
			nodes = unsafe.Pointer(&mp.Nodes[0])
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SET_MEMPOLICY, uintptr(mp.Mode), uintptr(nodes), uintptr(mp.MaxNode)); e != 0 {
			return fmt.Errorf("linux.memoryPolicy: set_mempolicy %s %q: %w", linux.MemoryPolicy.Mode, linux.MemoryPolicy.Nodes, e)
		}
	}
	return nil
}
