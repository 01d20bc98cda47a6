package cgroups

import (
	"strings"
	"testing"
)

func TestSharesToWeight(t *testing.T) {
	for _, tc := range []struct{ in, want uint64 }{
		{0, 0}, // unset
		{1, 1}, // below the v1 minimum: clamped
		{2, 1},
		{1024, 39}, // the v1 default
		{262144, 10000},
		{1 << 20, 10000}, // above the maximum: clamped
	} {
		if got := SharesToWeight(tc.in); got != tc.want {
			t.Errorf("SharesToWeight(%d) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBlkioWeightToIOWeight(t *testing.T) {
	for _, tc := range []struct{ in, want uint64 }{
		{0, 0},
		{10, 1},
		{100, 910},
		{500, 4950},
		{1000, 10000},
	} {
		if got := BlkioWeightToIOWeight(tc.in); got != tc.want {
			t.Errorf("BlkioWeightToIOWeight(%d) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSwapToV2(t *testing.T) {
	for _, tc := range []struct {
		swap, limit int64
		want        int64
		err         string
	}{
		{swap: -1, limit: 100, want: -1},
		{swap: -1, limit: -1, want: -1},
		{swap: 0, limit: 100, want: 0},
		{swap: 300, limit: 100, want: 200},
		{swap: 100, limit: 100, want: 0},
		{swap: 50, limit: 100, err: "must not be below memory.limit"},
		{swap: 300, limit: 0, err: "without a memory limit"},
		{swap: 300, limit: -1, err: "without a memory limit"},
	} {
		got, err := SwapToV2(tc.swap, tc.limit)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "linux.resources.memory.swap") {
				t.Errorf("SwapToV2(%d, %d) error = %v, want one naming linux.resources.memory.swap and saying %q", tc.swap, tc.limit, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("SwapToV2(%d, %d) = %v, %v, want %v, nil", tc.swap, tc.limit, got, err, tc.want)
		}
	}
}

func TestCPUMax(t *testing.T) {
	for _, tc := range []struct {
		quota  *int64
		period *uint64
		want   string
	}{
		{nil, nil, "max"},
		{i64(50000), u64(100000), "50000 100000"},
		{i64(-1), u64(100000), "max 100000"},
		{nil, u64(100000), "max 100000"},
		{i64(50000), nil, "50000"},
		{i64(0), u64(0), "max"},
	} {
		if got := cpuMax(tc.quota, tc.period); got != tc.want {
			t.Errorf("cpuMax(%v, %v) = %v, want %v", deref(tc.quota), deref(tc.period), got, tc.want)
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func TestPageSizeName(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "2MB", want: "2MB"},
		{in: "1GB", want: "1GB"},
		{in: "64KB", want: "64KB"},
		{in: "", err: "empty pageSize"},
		{in: "MB", err: "want a number and a unit"},
		{in: "2", err: "want a number and a unit"},
		{in: "2M", err: "unit must be"},
		{in: "2mb", err: "unit must be"},
		{in: "2.5MB", err: "unit must be"},
		{in: "2048kB", err: "unit must be"},
	} {
		got, err := pageSizeName(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("pageSizeName(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("pageSizeName(%q) = %v, %v, want %v, nil", tc.in, got, err, tc.want)
		}
	}
}

func TestLimitString(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{-1, "max"},
		{-2, "max"},
		{0, "0"},
		{4096, "4096"},
		{1 << 40, "1099511627776"},
	} {
		if got := limitString(tc.in); got != tc.want {
			t.Errorf("limitString(%d) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
