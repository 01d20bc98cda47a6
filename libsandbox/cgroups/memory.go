package cgroups

// The memory controller: v2 memory.* and v1 memory.*_in_bytes, side by side.

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

func (m *fs2) setMemory(mem *specs.LinuxMemory, update bool) error {
	if mem == nil {
		return nil
	}
	if mem.Kernel != nil || mem.KernelTCP != nil {
		logrus.Warn("linux.resources.memory.kernel and kernelTCP are ignored (deprecated; not in cgroup v2)")
	}
	if mem.Swappiness != nil {
		logrus.Warn("linux.resources.memory.swappiness is ignored: cgroup v2 has no per-cgroup swappiness")
	}
	if mem.DisableOOMKiller != nil && *mem.DisableOOMKiller {
		return errors.New("linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer")
	}
	if err := checkNonNegative("linux.resources.memory.limit", mem.Limit); err != nil {
		return err
	}
	if err := checkNonNegative("linux.resources.memory.swap", mem.Swap); err != nil {
		return err
	}
	// Before any write: a refused update changes nothing.
	if update {
		if err := m.checkMemoryUsage(mem); err != nil {
			return err
		}
	}
	if mem.Swap != nil {
		var limit int64
		if mem.Limit != nil {
			limit = *mem.Limit
		} else if cur, err := readUint(m.at(), "memory.max"); err == nil && cur != ^uint64(0) {
			limit = int64(cur)
		} else {
			limit = -1
		}
		v, err := SwapToV2(*mem.Swap, limit)
		if err != nil {
			return err
		}
		if *mem.Swap != 0 {
			if !exists(m.at(), "memory.swap.max") {
				// Without swap accounting nothing limits swap: "max"
				// is what there is (runc ignores max and 0 too).
				if v > 0 {
					return errors.New("linux.resources.memory.swap: swap accounting is not available on this host (no memory.swap.max)")
				}
			} else if err := m.fs.write(m.at(), "memory.swap.max", limitString(v), "linux.resources.memory.swap"); err != nil {
				return err
			}
		}
	}
	if mem.Limit != nil && *mem.Limit != 0 {
		if err := m.fs.write(m.at(), "memory.max", limitString(*mem.Limit), "linux.resources.memory.limit"); err != nil {
			return err
		}
	}
	if mem.Reservation != nil && *mem.Reservation != 0 {
		if err := m.fs.write(m.at(), "memory.low", limitString(*mem.Reservation), "linux.resources.memory.reservation"); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs1) setMemory(mem *specs.LinuxMemory, update bool) error {
	if mem == nil {
		return nil
	}
	if mem.Kernel != nil || mem.KernelTCP != nil {
		logrus.Warn("linux.resources.memory.kernel and kernelTCP are ignored (deprecated by the kernel)")
	}
	if err := checkNonNegative("linux.resources.memory.limit", mem.Limit); err != nil {
		return err
	}
	if err := checkNonNegative("linux.resources.memory.swap", mem.Swap); err != nil {
		return err
	}
	// Checked before any write: a refused update changes nothing.
	if mem.Swappiness != nil && *mem.Swappiness > 100 {
		return fmt.Errorf("linux.resources.memory.swappiness: %d is above 100", *mem.Swappiness)
	}
	d, err := m.need("memory", "linux.resources.memory")
	if err != nil {
		return err
	}
	limit, swap := int64(0), int64(0)
	if mem.Limit != nil {
		limit = *mem.Limit
	}
	if mem.Swap != nil {
		swap = *mem.Swap
	}
	if swap != 0 {
		if limit == 0 && !update {
			return errors.New("linux.resources.memory.swap: cannot set a swap limit without a memory limit")
		}
		if limit > 0 && swap > 0 && swap < limit {
			return fmt.Errorf("linux.resources.memory.swap: %d (memory+swap) must not be below memory.limit %d", swap, limit)
		}
		if !exists(d, "memory.memsw.limit_in_bytes") {
			return errors.New("linux.resources.memory.swap: swap accounting is not enabled on this host (no memory.memsw.limit_in_bytes)")
		}
	}
	if update && limit > 0 {
		if cur, err := readUint(d, "memory.usage_in_bytes"); err == nil && uint64(limit) < cur {
			return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d", limit, cur)
		}
	}
	setLimit := func() error {
		if limit == 0 {
			return nil
		}
		return m.fs.write(d, "memory.limit_in_bytes", strconv.FormatInt(limit, 10), "linux.resources.memory.limit")
	}
	setSwap := func() error {
		if swap == 0 {
			return nil
		}
		return m.fs.write(d, "memory.memsw.limit_in_bytes", strconv.FormatInt(swap, 10), "linux.resources.memory.swap")
	}
	// memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes at
	// every step: raising both needs memsw first, lowering both limit
	// first. Try one order and fall back to the other.
	if err := setLimit(); err != nil {
		if err2 := setSwap(); err2 != nil {
			return err
		}
		if err := setLimit(); err != nil {
			return err
		}
	} else if err := setSwap(); err != nil {
		return err
	}
	if mem.Reservation != nil && *mem.Reservation != 0 {
		if err := m.fs.write(d, "memory.soft_limit_in_bytes", strconv.FormatInt(*mem.Reservation, 10), "linux.resources.memory.reservation"); err != nil {
			return err
		}
	}
	if mem.Swappiness != nil {
		if err := m.fs.write(d, "memory.swappiness", strconv.FormatUint(*mem.Swappiness, 10), "linux.resources.memory.swappiness"); err != nil {
			return err
		}
	}
	if mem.DisableOOMKiller != nil {
		v := "0"
		if *mem.DisableOOMKiller {
			v = "1"
		}
		if err := m.fs.write(d, "memory.oom_control", v, "linux.resources.memory.disableOOMKiller"); err != nil {
			return err
		}
	}
	return nil
}

func checkNonNegative(field string, v *int64) error {
	if v != nil && *v < -1 {
		return fmt.Errorf("%s: %d is negative (use -1 for no limit)", field, *v)
	}
	return nil
}

// checkMemoryUsage refuses a new memory limit below what the cgroup uses
// now.
func (m *fs2) checkMemoryUsage(mem *specs.LinuxMemory) error {
	if mem == nil || mem.Limit == nil || *mem.Limit <= 0 {
		return nil
	}
	if cur, err := readUint(m.at(), "memory.current"); err == nil && uint64(*mem.Limit) < cur {
		return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d", *mem.Limit, cur)
	}
	return nil
}
