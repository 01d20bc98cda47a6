package main

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cgbpf prints, for each cgroup2 directory, how many device programs
// (BPF_CGROUP_DEVICE) are attached to it itself, not inherited from its
// ancestors: "DIR N". cgroups.bats runs it on the host to see whether a
// refused create left a device filter on a cgroup it did not make. It is
// written here, apart from the runtime's own loader, so that the check
// does not trust the code it checks; bpftool is not always installed.
func cgbpf(dirs []string) error {
	for _, d := range dirs {
		n, err := devicePrograms(d)
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		fmt.Printf("%s %d\n", d, n)
	}
	return nil
}

// devicePrograms asks BPF_PROG_QUERY for the count only: prog_ids NULL
// and prog_cnt 0 make the kernel write the count back into prog_cnt.
func devicePrograms(dir string) (uint32, error) {
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// The BPF_PROG_QUERY member of union bpf_attr, up to prog_cnt
	// (include/uapi/linux/bpf.h): target_fd, attach_type, query_flags,
	// attach_flags (out), prog_ids (u64 pointer), prog_cnt (in/out).
	var attr struct {
		targetFd    uint32
		attachType  uint32
		queryFlags  uint32
		attachFlags uint32
		progIDs     uint64
		progCnt     uint32
		_           uint32
	}
	attr.targetFd = uint32(f.Fd())
	attr.attachType = unix.BPF_CGROUP_DEVICE
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_QUERY, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return 0, os.NewSyscallError("bpf(BPF_PROG_QUERY)", errno)
	}
	return attr.progCnt, nil
}
