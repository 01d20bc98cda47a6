package intelrdt

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
)

// events' intel_rdt: {} without linux.intelRdt; with it, what runc's
// events reports, feature by feature.
func TestReadStats(t *testing.T) {
	t.Run("no intelRdt", func(t *testing.T) {
		s, err := ReadStats(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(s); string(b) != "{}" {
			t.Errorf("intel_rdt = %s, want {}", b)
		}
	})
	t.Run("no allocation or monitoring features: the schemata only", func(t *testing.T) {
		root, _, _ := fakeRoot(t)
		s, err := ReadStats(root, &State{Path: filepath.Join(root, "gold")})
		if err != nil {
			t.Fatal(err)
		}
		// As runc: the file trimmed, split at newlines.
		want := &Stats{Schemata: []string{"L3:0=0f0;1=7ff", "    MB:0= 50;1=100"}}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("stats = %+v, want %+v", s, want)
		}
	})
	t.Run("cache and bandwidth allocation, monitoring of the container's own group", func(t *testing.T) {
		root, _, _ := fakeRoot(t)
		write(t, root, "info/L3/cbm_mask", "7ff\n")
		write(t, root, "info/L3/min_cbm_bits", "1\n")
		write(t, root, "info/L3/num_closids", "16\n")
		write(t, root, "info/MB/bandwidth_gran", "10\n")
		write(t, root, "info/MB/delay_linear", "1\n")
		write(t, root, "info/MB/min_bandwidth", "10\n")
		write(t, root, "info/MB/num_closids", "8\n")
		write(t, root, "info/L3_MON/mon_features", "llc_occupancy\nmbm_total_bytes\nmbm_local_bytes\n")
		mon := filepath.Join(root, "gold", "mon_groups", "c1")
		write(t, mon, "mon_data/mon_L3_00/mbm_total_bytes", "100\n")
		write(t, mon, "mon_data/mon_L3_00/mbm_local_bytes", "60\n")
		write(t, mon, "mon_data/mon_L3_00/llc_occupancy", "4096\n")
		write(t, mon, "mon_data/mon_L3_01/mbm_total_bytes", "200\n")
		write(t, mon, "mon_data/mon_L3_01/mbm_local_bytes", "120\n")
		write(t, mon, "mon_data/mon_L3_01/llc_occupancy", "8192\n")
		// The group's own counters are not the container's.
		write(t, root, "gold/mon_data/mon_L3_00/mbm_total_bytes", "999\n")
		s, err := ReadStats(root, &State{Path: filepath.Join(root, "gold"), MonPath: mon})
		if err != nil {
			t.Fatal(err)
		}
		want := &Stats{
			L3CacheInfo:       &L3CacheInfo{CbmMask: "7ff", MinCbmBits: 1, NumClosids: 16},
			L3CacheSchemaRoot: "L3:0=7ff;1=7ff",
			L3CacheSchema:     "L3:0=0f0;1=7ff",
			MemBwInfo:         &MemBwInfo{BandwidthGran: 10, DelayLinear: 1, MinBandwidth: 10, NumClosids: 8},
			MemBwSchemaRoot:   "MB:0=100;1=100",
			MemBwSchema:       "MB:0= 50;1=100",
			Schemata:          []string{"L3:0=0f0;1=7ff", "    MB:0= 50;1=100"},
			MBMStats:          &[]MBMNumaNodeStats{{MBMTotalBytes: 100, MBMLocalBytes: 60}, {MBMTotalBytes: 200, MBMLocalBytes: 120}},
			CMTStats:          &[]CMTNumaNodeStats{{LLCOccupancy: 4096}, {LLCOccupancy: 8192}},
		}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("stats = %+v, want %+v", s, want)
		}
	})
	t.Run("a group that is gone fails", func(t *testing.T) {
		root, _, _ := fakeRoot(t)
		if _, err := ReadStats(root, &State{Path: filepath.Join(root, "gone")}); err == nil {
			t.Errorf("no error")
		}
	})
}
