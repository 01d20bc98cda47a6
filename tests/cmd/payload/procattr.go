package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	// procattr reads per-thread attributes (get_mempolicy(2) has no
	// other form): read them on the thread that execve started on,
	// which is what the runtime set up. Locked during package init, the
	// main goroutine stays on it.
	if len(os.Args) > 1 && os.Args[1] == "procattr" {
		runtime.LockOSThread()
	}
}

// procattr prints what the runtime gives a process per task, one line
// each: its scheduler (sched_getattr), I/O priority (ioprio_get),
// personality, memory policy (get_mempolicy) and CPU affinity.
func procattr() error {
	var attr unix.SchedAttr
	if _, _, e := unix.Syscall6(unix.SYS_SCHED_GETATTR, 0, uintptr(unsafe.Pointer(&attr)), unix.SizeofSchedAttr, 0, 0, 0); e != 0 {
		return fmt.Errorf("sched_getattr: %w", e)
	}
	fmt.Printf("sched: policy=%d nice=%d priority=%d flags=%#x\n", attr.Policy, attr.Nice, attr.Priority, attr.Flags)
	prio, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, 1, 0, 0)
	if e != 0 {
		return fmt.Errorf("ioprio_get: %w", e)
	}
	fmt.Printf("ioprio: class=%d level=%d\n", prio>>13, prio&0x1fff)
	persona, _, e := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if e != 0 {
		return fmt.Errorf("personality: %w", e)
	}
	fmt.Printf("personality: %#x\n", persona)
	var mode int32
	var mask [16]uint64
	if _, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)), uintptr(unsafe.Pointer(&mask[0])), uintptr(len(mask)*64), 0, 0, 0); e != 0 {
		return fmt.Errorf("get_mempolicy: %w", e)
	}
	fmt.Printf("mempolicy: mode=%#x nodes=%s\n", mode, list(mask[:]))
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	var words []uint64
	for _, w := range cpus {
		words = append(words, uint64(w))
	}
	fmt.Printf("cpus: %s\n", list(words))
	return nil
}

// list writes a bit mask in cpulist form ("0-1,3").
func list(mask []uint64) string {
	var parts []string
	n := len(mask) * 64
	for i := 0; i < n; i++ {
		if mask[i/64]&(1<<(i%64)) == 0 {
			continue
		}
		j := i
		for j+1 < n && mask[(j+1)/64]&(1<<((j+1)%64)) != 0 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(i))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", i, j))
		}
		i = j
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ",")
}
