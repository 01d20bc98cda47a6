package cgroups

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SharesToWeight converts v1 cpu.shares [2, 262144] to v2 cpu.weight
// [1, 10000] linearly, as runc does (so that a config means the same
// under both runtimes). 0 means unset.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	if shares < 2 {
		shares = 2
	}
	if shares > 262144 {
		shares = 262144
	}
	return 1 + ((shares-2)*9999)/262142
}

// BlkioWeightToIOWeight converts blkio weight [10, 1000] to io.weight
// [1, 10000] (runc's conversion).
func BlkioWeightToIOWeight(w uint64) uint64 {
	if w == 0 {
		return 0
	}
	return 1 + (w-10)*9999/990
}

// SwapToV2 converts the spec's swap, which is memory+swap as v1's
// memory.memsw.limit_in_bytes, to v2's memory.swap.max, which is swap
// alone. -1 is "max"; 0 with no swap set means leave it alone.
func SwapToV2(swap, limit int64) (int64, error) {
	switch {
	case swap == -1:
		return -1, nil
	case swap == 0:
		return 0, nil
	case limit == 0 || limit == -1:
		return 0, errors.New("linux.resources.memory.swap: cannot set a swap limit without a memory limit")
	case swap < limit:
		return 0, fmt.Errorf("linux.resources.memory.swap: %d (memory+swap) must not be below memory.limit %d", swap, limit)
	}
	return swap - limit, nil
}

// limitString writes -1 (and for pids, 0 too: runc) as "max".
func limitString(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// cpuMax formats v2 cpu.max from quota and period (either may be unset).
func cpuMax(quota *int64, period *uint64) string {
	q := "max"
	if quota != nil && *quota > 0 {
		q = strconv.FormatInt(*quota, 10)
	}
	if period != nil && *period != 0 {
		return q + " " + strconv.FormatUint(*period, 10)
	}
	return q
}

// pageSizeName checks a hugepage size as the spec writes it ("2MB",
// "1GB", "64KB") and returns it as the cgroup file names it.
func pageSizeName(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty pageSize")
	}
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return "", fmt.Errorf("pageSize %q: want a number and a unit (KB, MB, GB)", s)
	}
	switch s[i:] {
	case "KB", "MB", "GB":
		return s, nil
	}
	return "", fmt.Errorf("pageSize %q: unit must be KB, MB or GB", s)
}
