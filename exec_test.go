package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestSubCgroupPaths(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want map[string]string
		err  string
	}{
		{nil, nil, ""},
		{[]string{"sub"}, map[string]string{"": "sub"}, ""},
		{[]string{"/a/b"}, map[string]string{"": "/a/b"}, ""},
		{[]string{"memory:sub"}, map[string]string{"memory": "sub"}, ""},
		{[]string{"cpu,cpuacct:x", "memory:y"}, map[string]string{"cpu": "x", "cpuacct": "x", "memory": "y"}, ""},
		{[]string{"memory:"}, map[string]string{"memory": ""}, ""},
		// runc's errors.
		{[]string{"sub", "memory:x"}, nil, "invalid --cgroup argument: sub (missing <controller>: prefix)"},
		{[]string{":sub"}, nil, "invalid --cgroup argument: :sub (empty <controller> prefix)"},
		{[]string{"cpu,:sub"}, nil, "invalid --cgroup argument: cpu,:sub (empty <controller> prefix)"},
		{[]string{"memory:a", "memory:b"}, nil, "invalid --cgroup argument(s): controller memory specified multiple times"},
	} {
		got, err := subCgroupPaths(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("subCgroupPaths(%q): got %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("subCgroupPaths(%q): got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
