package intelrdt

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stats is the "intel_rdt" of an `events` stats event, in runc's JSON
// shape (runc 1.5's types.IntelRdt): empty, {}, for a container without
// linux.intelRdt.
type Stats struct {
	L3CacheInfo       *L3CacheInfo        `json:"l3_cache_info,omitempty"`
	L3CacheSchemaRoot string              `json:"l3_cache_schema_root,omitempty"`
	L3CacheSchema     string              `json:"l3_cache_schema,omitempty"`
	MemBwInfo         *MemBwInfo          `json:"mem_bw_info,omitempty"`
	MemBwSchemaRoot   string              `json:"mem_bw_schema_root,omitempty"`
	MemBwSchema       string              `json:"mem_bw_schema,omitempty"`
	Schemata          []string            `json:"schemata,omitempty"`
	MBMStats          *[]MBMNumaNodeStats `json:"mbm_stats,omitempty"`
	CMTStats          *[]CMTNumaNodeStats `json:"cmt_stats,omitempty"`
}

// L3CacheInfo is resctrl's info/L3 (Documentation/filesystems/resctrl.rst).
type L3CacheInfo struct {
	CbmMask    string `json:"cbm_mask,omitempty"`
	MinCbmBits uint64 `json:"min_cbm_bits,omitempty"`
	NumClosids uint64 `json:"num_closids,omitempty"`
}

// MemBwInfo is resctrl's info/MB.
type MemBwInfo struct {
	BandwidthGran uint64 `json:"bandwidth_gran,omitempty"`
	DelayLinear   uint64 `json:"delay_linear,omitempty"`
	MinBandwidth  uint64 `json:"min_bandwidth,omitempty"`
	NumClosids    uint64 `json:"num_closids,omitempty"`
}

// MBMNumaNodeStats is one L3 domain's memory bandwidth counters.
type MBMNumaNodeStats struct {
	MBMTotalBytes uint64 `json:"mbm_total_bytes"`
	MBMLocalBytes uint64 `json:"mbm_local_bytes"`
}

// CMTNumaNodeStats is one L3 domain's cache occupancy.
type CMTNumaNodeStats struct {
	LLCOccupancy uint64 `json:"llc_occupancy"`
}

// ReadStats reads what runc's events reports of the container's resctrl
// group st under root: the group's schemata; with cache allocation
// (info/L3), the L3 lines of root's and the group's schemata and info/L3;
// with memory bandwidth allocation (info/MB), the same for MB; with
// monitoring (info/L3_MON's mon_features), each L3 domain's counters of
// the container's monitoring group, or of its group without one (then
// shared with whatever else is in the group, as runc reports it).
func ReadStats(root string, st *State) (*Stats, error) {
	s := &Stats{}
	if st == nil {
		return s, nil
	}
	rootLines, err := schemata(root)
	if err != nil {
		return nil, err
	}
	own, err := schemata(st.Path)
	if err != nil {
		return nil, err
	}
	s.Schemata = own
	cat, mba := Features(root)
	if cat {
		info := filepath.Join(root, "info", "L3")
		s.L3CacheInfo = &L3CacheInfo{CbmMask: readString(info, "cbm_mask"), MinCbmBits: readUint(info, "min_cbm_bits"), NumClosids: readUint(info, "num_closids")}
		s.L3CacheSchemaRoot = lineWith(rootLines, "L3")
		s.L3CacheSchema = lineWith(own, "L3")
	}
	if mba {
		info := filepath.Join(root, "info", "MB")
		s.MemBwInfo = &MemBwInfo{BandwidthGran: readUint(info, "bandwidth_gran"), DelayLinear: readUint(info, "delay_linear"), MinBandwidth: readUint(info, "min_bandwidth"), NumClosids: readUint(info, "num_closids")}
		s.MemBwSchemaRoot = lineWith(rootLines, "MB")
		s.MemBwSchema = lineWith(own, "MB")
	}
	mbm, cmt := monFeatures(root)
	if mbm || cmt {
		mon := st.MonPath
		if mon == "" {
			mon = st.Path
		}
		m, c, err := monStats(mon)
		if err != nil {
			return nil, err
		}
		if mbm {
			s.MBMStats = &m
		}
		if cmt {
			s.CMTStats = &c
		}
	}
	return s, nil
}

// schemata returns a group's schemata lines as runc gives them: the
// file with its outer white space trimmed, split at newlines.
func schemata(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "schemata"))
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n"), nil
}

// lineWith returns the last line naming resource res, trimmed.
func lineWith(lines []string, res string) string {
	out := ""
	for _, l := range lines {
		if strings.Contains(l, res) {
			out = strings.TrimSpace(l)
		}
	}
	return out
}

func readString(dir, file string) string {
	b, _ := os.ReadFile(filepath.Join(dir, file))
	return strings.TrimSpace(string(b))
}

func readUint(dir, file string) uint64 {
	n, _ := strconv.ParseUint(readString(dir, file), 10, 64)
	return n
}

// monFeatures reports which monitoring counters resctrl offers
// (info/L3_MON/mon_features).
func monFeatures(root string) (mbm, cmt bool) {
	for _, f := range strings.Fields(readString(filepath.Join(root, "info", "L3_MON"), "mon_features")) {
		switch f {
		case "mbm_total_bytes", "mbm_local_bytes":
			mbm = true
		case "llc_occupancy":
			cmt = true
		}
	}
	return mbm, cmt
}

// monStats reads each L3 domain's counters (mon_data/mon_L3_NN) of the
// group dir, in domain order (ReadDir's, by name).
func monStats(dir string) ([]MBMNumaNodeStats, []CMTNumaNodeStats, error) {
	ents, err := os.ReadDir(filepath.Join(dir, "mon_data"))
	if err != nil {
		return nil, nil, err
	}
	mbm := []MBMNumaNodeStats{}
	cmt := []CMTNumaNodeStats{}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, "mon_data", e.Name())
		mbm = append(mbm, MBMNumaNodeStats{MBMTotalBytes: readUint(d, "mbm_total_bytes"), MBMLocalBytes: readUint(d, "mbm_local_bytes")})
		cmt = append(cmt, CMTNumaNodeStats{LLCOccupancy: readUint(d, "llc_occupancy")})
	}
	return mbm, cmt, nil
}
