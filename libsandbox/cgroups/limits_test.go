package cgroups

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCPULimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		v1      bool
		systemd bool
		files   map[string]string
		quota   int64
		period  uint64
		wantErr bool
	}{
		{name: "v2 no limit", files: map[string]string{"cpu.max": "max 100000\n"}, quota: -1, period: 100000},
		{name: "v2 half a CPU", files: map[string]string{"cpu.max": "50000 100000\n"}, quota: 50000, period: 100000},
		{name: "v2 malformed", files: map[string]string{"cpu.max": "50000\n"}, wantErr: true},
		{name: "v2 missing", files: map[string]string{}, wantErr: true},
		{name: "systemd scope", systemd: true, files: map[string]string{"cpu.max": "25000 100000\n"}, quota: 25000, period: 100000},
		{name: "v1 no limit", v1: true, files: map[string]string{"cpu.cfs_quota_us": "-1\n", "cpu.cfs_period_us": "100000\n"}, quota: -1, period: 100000},
		{name: "v1 two CPUs", v1: true, files: map[string]string{"cpu.cfs_quota_us": "200000\n", "cpu.cfs_period_us": "100000\n"}, quota: 200000, period: 100000},
		{name: "v1 malformed", v1: true, files: map[string]string{"cpu.cfs_quota_us": "x\n", "cpu.cfs_period_us": "100000\n"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for f, v := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var m Manager = &fs2{dir: dir, st: &State{V2: dir}}
			if tc.systemd {
				m = &systemd{fs2: &fs2{dir: dir, st: &State{V2: dir, Systemd: &Unit{}}}}
			}
			if tc.v1 {
				m = &fs1{st: &State{V1: map[string]string{"cpu,cpuacct": dir}, V1Controllers: map[string]string{"cpu": "cpu,cpuacct", "cpuacct": "cpu,cpuacct"}}}
			}
			quota, period, err := CPULimit(m)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && (quota != tc.quota || period != tc.period) {
				t.Errorf("got %d/%d, want %d/%d", quota, period, tc.quota, tc.period)
			}
		})
	}
}
