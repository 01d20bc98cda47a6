package cgroups

// The spec's resources as systemd unit properties (systemd.resource-
// control(5)), for the systemd driver. Pure functions of the resources,
// the device rules, the cgroup's current files and systemd's version.

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	sd "github.com/coreos/go-systemd/v22/dbus"
	dbus "github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func newProp(name string, v any) sd.Property {
	return sd.Property{Name: name, Value: dbus.MakeVariant(v)}
}

// infinity is systemd's "no limit" for its uint64 properties.
const infinity = uint64(math.MaxUint64)

// limitProp is a limit of the spec (-1: none) as systemd has it.
func limitProp(v int64) uint64 {
	if v < 0 {
		return infinity
	}
	return uint64(v)
}

// ioLimit is one entry of IODeviceWeight, IOReadBandwidthMax and their
// siblings, D-Bus type (st).
type ioLimit struct {
	Path  string
	Value uint64
}

// deviceAllow is one entry of DeviceAllow, D-Bus type (ss).
type deviceAllow struct {
	Path  string
	Perms string
}

// The systemd versions that first took a property we set.
const (
	sdCPUQuotaPeriod = 242 // CPUQuotaPeriodUSec
	sdAllowedCPUs    = 244 // AllowedCPUs, AllowedMemoryNodes
	sdDeviceMajor    = 240 // DeviceAllow=char-MAJOR, /dev/char/M:m without the node
)

// resourceProps returns the properties for r (and for the device rules,
// when there are some), and r with the CPU quota rounded as systemd
// rounds it, to be written to cpu.max too: systemd keeps the quota as a
// percentage of a CPU (CPUQuotaPerSecUSec in 10 ms steps), and the file
// must say what a daemon-reload would write back (runc's addCPUQuota).
// update: the container runs, and a quota or swap limit left out is
// taken from its files.
func (m *systemd) resourceProps(r *specs.LinuxResources, rules []Rule, update bool) ([]sd.Property, *specs.LinuxResources, error) {
	var props []sd.Property
	if rules != nil {
		props = append(props, m.deviceProps(rules)...)
	}
	if r == nil {
		return props, nil, nil
	}
	out := *r
	if mem := r.Memory; mem != nil {
		if err := checkNonNegative("linux.resources.memory.limit", mem.Limit); err != nil {
			return nil, nil, err
		}
		if err := checkNonNegative("linux.resources.memory.swap", mem.Swap); err != nil {
			return nil, nil, err
		}
		if mem.Limit != nil && *mem.Limit != 0 {
			props = append(props, newProp("MemoryMax", limitProp(*mem.Limit)))
		}
		if mem.Reservation != nil && *mem.Reservation != 0 {
			props = append(props, newProp("MemoryLow", limitProp(*mem.Reservation)))
		}
		if mem.Swap != nil && *mem.Swap != 0 {
			limit := int64(-1)
			if mem.Limit != nil {
				limit = *mem.Limit
			} else if cur, err := readUint(m.dir, "memory.max"); update && err == nil && cur != infinity {
				limit = int64(cur)
			}
			v, err := SwapToV2(*mem.Swap, limit)
			if err != nil {
				return nil, nil, err
			}
			props = append(props, newProp("MemorySwapMax", limitProp(v)))
		}
	}
	if c := r.CPU; c != nil {
		cpu := *c
		out.CPU = &cpu
		if c.Shares != nil && *c.Shares != 0 {
			props = append(props, newProp("CPUWeight", SharesToWeight(*c.Shares)))
		}
		if c.Quota != nil || c.Period != nil {
			quota := c.Quota
			if quota == nil && update {
				quota = currentQuota(m.dir)
			}
			period := uint64(100000) // the kernel's default, as cpuMax
			if c.Period != nil && *c.Period != 0 {
				period = *c.Period
				if m.version() >= sdCPUQuotaPeriod {
					props = append(props, newProp("CPUQuotaPeriodUSec", period))
				}
			}
			perSec := infinity
			if quota != nil && *quota > 0 {
				perSec = uint64(*quota) * 1000000 / period
				if perSec%10000 != 0 {
					perSec = (perSec/10000 + 1) * 10000
					q := int64(perSec * period / 1000000)
					cpu.Quota = &q
				}
			}
			props = append(props, newProp("CPUQuotaPerSecUSec", perSec))
		}
		for _, s := range []struct{ list, prop, field string }{
			{c.Cpus, "AllowedCPUs", "linux.resources.cpu.cpus"},
			{c.Mems, "AllowedMemoryNodes", "linux.resources.cpu.mems"},
		} {
			if s.list == "" {
				continue
			}
			bits, err := cpuBits(s.list)
			if err != nil {
				return nil, nil, fmt.Errorf("%s %q: %w", s.field, s.list, err)
			}
			if m.version() >= sdAllowedCPUs {
				props = append(props, newProp(s.prop, bits))
			}
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		lim := *p.Limit
		if lim == 0 {
			lim = 1 // pidsMax
		}
		props = append(props, newProp("TasksMax", limitProp(lim)))
	}
	if b := r.BlockIO; b != nil {
		io, err := ioProps(b)
		if err != nil {
			return nil, nil, err
		}
		props = append(props, io...)
	}
	uni, err := unifiedProps(r.Unified)
	if err != nil {
		return nil, nil, err
	}
	return append(props, uni...), &out, nil
}

// currentQuota is the quota in the cgroup's cpu.max, nil if none.
func currentQuota(dir string) *int64 {
	cur, err := read(dir, "cpu.max")
	if err != nil {
		return nil
	}
	q, _, _ := strings.Cut(cur, " ")
	n, err := strconv.ParseInt(q, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

// cpuBits turns a cpuset list ("0-3,6") into the little-endian bitmask
// systemd takes for AllowedCPUs and AllowedMemoryNodes (D-Bus ay: bit j
// of byte i is CPU 8i+j).
func cpuBits(list string) ([]byte, error) {
	var bits []byte
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		for c := a; c <= b; c++ {
			for int(c/8) >= len(bits) {
				bits = append(bits, 0)
			}
			bits[c/8] |= 1 << (c % 8)
		}
	}
	return bits, nil
}

// ioProps: the weights and throttles of the io controller. Devices are
// named by their /dev/block/M:m link, which systemd resolves to the
// device number.
func ioProps(b *specs.LinuxBlockIO) ([]sd.Property, error) {
	var props []sd.Property
	if b.Weight != nil && *b.Weight != 0 {
		if *b.Weight < 10 || *b.Weight > 1000 {
			return nil, fmt.Errorf("linux.resources.blockIO.weight: %d is outside 10..1000", *b.Weight)
		}
		props = append(props, newProp("IOWeight", BlkioWeightToIOWeight(uint64(*b.Weight))))
	}
	var weights []ioLimit
	for i, d := range b.WeightDevice {
		if d.Weight == nil {
			continue
		}
		if *d.Weight < 10 || *d.Weight > 1000 {
			return nil, fmt.Errorf("linux.resources.blockIO.weightDevice[%d]: %d is outside 10..1000", i, *d.Weight)
		}
		weights = append(weights, ioLimit{blockPath(d.Major, d.Minor), BlkioWeightToIOWeight(uint64(*d.Weight))})
	}
	if len(weights) > 0 {
		props = append(props, newProp("IODeviceWeight", weights))
	}
	names := map[string]string{
		"rbps": "IOReadBandwidthMax", "wbps": "IOWriteBandwidthMax",
		"riops": "IOReadIOPSMax", "wiops": "IOWriteIOPSMax",
	}
	for _, t := range throttles(b) {
		if len(t.list) == 0 {
			continue
		}
		var l []ioLimit
		for _, d := range t.list {
			v := d.Rate
			if v == 0 {
				v = infinity
			}
			l = append(l, ioLimit{blockPath(d.Major, d.Minor), v})
		}
		props = append(props, newProp(names[t.v2Key], l))
	}
	return props, nil
}

func blockPath(major, minor int64) string { return fmt.Sprintf("/dev/block/%d:%d", major, minor) }

// unifiedProps converts the keys of linux.resources.unified that have a
// property (runc's unifiedResToSystemdProps); the others are only
// written to their files.
func unifiedProps(u map[string]string) ([]sd.Property, error) {
	var props []sd.Property
	limits := map[string]string{
		"memory.high": "MemoryHigh", "memory.low": "MemoryLow", "memory.min": "MemoryMin",
		"memory.max": "MemoryMax", "memory.swap.max": "MemorySwapMax", "pids.max": "TasksMax",
	}
	for k, v := range u {
		field := "linux.resources.unified." + k
		v = strings.TrimSpace(v)
		switch k {
		case "memory.high", "memory.low", "memory.min", "memory.max", "memory.swap.max", "pids.max":
			n := infinity
			if v != "max" {
				var err error
				if n, err = strconv.ParseUint(v, 10, 64); err != nil {
					return nil, fmt.Errorf("%s: %q is not a number or max", field, v)
				}
			}
			props = append(props, newProp(limits[k], n))
		case "cpu.weight":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not a number", field, v)
			}
			props = append(props, newProp("CPUWeight", n))
		}
	}
	return props, nil
}

// deviceProps says the device rules as systemd can: DevicePolicy=strict
// and a DeviceAllow list. systemd cannot say everything the rules can (a
// deny carved out of a wider allow, a default of allow), so the list
// allows at least what the rules allow, never less: the device filter
// the fs2 driver attaches next to systemd's enforces the rules exactly
// (every attached program must allow an access), and systemd's keeps
// the container's devices denied by default should ours ever go. The
// empty DeviceAllow first clears the unit's list (an update replaces
// it), as runc does (devices/systemd.go).
func (m *systemd) deviceProps(rules []Rule) []sd.Property {
	allowed, allowAll := allowList(rules)
	if allowAll {
		return []sd.Property{newProp("DevicePolicy", "auto"), newProp("DeviceAllow", []deviceAllow{})}
	}
	var list []deviceAllow
	for _, r := range allowed {
		kind := "char"
		if r.Type == 'b' {
			kind = "block"
		}
		var path string
		switch {
		case r.Major < 0:
			// systemd has no "*:n": all devices of the type.
			path = kind + "-*"
		case r.Minor < 0:
			if m.version() >= sdDeviceMajor {
				path = kind + "-" + strconv.FormatInt(r.Major, 10)
			} else if g := deviceGroup("/proc/devices", r.Type, r.Major); g != "" {
				path = kind + "-" + g
			} else {
				path = kind + "-*"
			}
		default:
			path = fmt.Sprintf("/dev/%s/%d:%d", kind, r.Major, r.Minor)
		}
		list = append(list, deviceAllow{path, r.Access})
	}
	return []sd.Property{
		newProp("DeviceAllow", []deviceAllow{}),
		newProp("DevicePolicy", "strict"),
		newProp("DeviceAllow", list),
	}
}

// allowList reduces rules (the last one that matches an access decides;
// a rule of type a resets) to the devices they allow, at least: a deny
// takes an access off the allows it covers entirely, and one narrower
// than an allow leaves that allow as it is. allowAll: the rules allow by
// default, which DevicePolicy=strict cannot say.
func allowList(rules []Rule) (allowed []Rule, allowAll bool) {
	for _, r := range rules {
		if r.Type == 'a' {
			if r.Allow {
				allowAll, allowed = true, nil
			} else if strings.Contains(r.Access, "r") && strings.Contains(r.Access, "w") && strings.Contains(r.Access, "m") {
				allowAll, allowed = false, nil
			} else {
				allowed = subtract(allowed, r)
			}
			continue
		}
		if allowAll {
			continue
		}
		if r.Allow {
			allowed = append(allowed, r)
		} else {
			allowed = subtract(allowed, r)
		}
	}
	return allowed, allowAll
}

// subtract takes deny's access off the allows it covers entirely.
func subtract(allowed []Rule, deny Rule) []Rule {
	out := allowed[:0:0]
	for _, a := range allowed {
		if covers(deny, a) {
			acc := ""
			for _, c := range a.Access {
				if !strings.ContainsRune(deny.Access, c) {
					acc += string(c)
				}
			}
			if acc == "" {
				continue
			}
			a.Access = acc
		}
		out = append(out, a)
	}
	return out
}

// covers reports whether every device a names is one d names.
func covers(d, a Rule) bool {
	if d.Type != 'a' && d.Type != a.Type {
		return false
	}
	if d.Type == 'a' {
		return true
	}
	return (d.Major < 0 || d.Major == a.Major && a.Major >= 0) &&
		(d.Minor < 0 || d.Minor == a.Minor && a.Minor >= 0)
}

// deviceGroup is the driver name /proc/devices gives a major number (for
// systemd before v240, whose DeviceAllow takes char-NAME, not a number).
func deviceGroup(procDevices string, typ byte, major int64) string {
	f, err := os.Open(procDevices)
	if err != nil {
		return ""
	}
	defer f.Close()
	want := map[byte]string{'c': "Character devices:", 'b': "Block devices:"}[typ]
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(l, "devices:") {
			in = l == want
			continue
		}
		if n, name, ok := strings.Cut(l, " "); in && ok && n == strconv.FormatInt(major, 10) {
			return name
		}
	}
	return ""
}

// The annotations that set unit properties, runc's
// (libcontainer/specconv/spec_linux.go initSystemdProps): the value is a
// D-Bus variant in GVariant text ("uint64 1000", "true", "'a string'"),
// and a property name ending in Sec is one in USec that takes seconds.
const propertyAnnotation = "org.systemd.property."

func annotationProps(ann map[string]string) ([]sd.Property, error) {
	var props []sd.Property
	for k, v := range ann {
		name, ok := strings.CutPrefix(k, propertyAnnotation)
		if !ok {
			continue
		}
		field := fmt.Sprintf("annotations[%q]", k)
		if len(name) < 3 || strings.IndexFunc(name, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }) >= 0 {
			return nil, fmt.Errorf("%s: %q is not a unit property name (ASCII letters only)", field, name)
		}
		val, err := dbus.ParseVariant(v, dbus.Signature{})
		if err != nil {
			return nil, fmt.Errorf("%s: value %q: %w", field, v, err)
		}
		if base, ok := strings.CutSuffix(name, "Sec"); ok && base[len(base)-1] >= 'a' && base[len(base)-1] <= 'z' {
			usec, err := secToUSec(val)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			name, val = base+"USec", dbus.MakeVariant(usec)
		}
		props = append(props, sd.Property{Name: name, Value: val})
	}
	return props, nil
}

// secToUSec converts a number of seconds to microseconds.
func secToUSec(v dbus.Variant) (uint64, error) {
	switch n := v.Value().(type) {
	case uint8:
		return uint64(n) * 1e6, nil
	case uint16:
		return uint64(n) * 1e6, nil
	case uint32:
		return uint64(n) * 1e6, nil
	case uint64:
		return n * 1e6, nil
	case int16, int32, int64:
		i := intOf(n)
		if i < 0 {
			return 0, errors.New("seconds must not be negative")
		}
		return uint64(i) * 1e6, nil
	case float64:
		if n < 0 {
			return 0, errors.New("seconds must not be negative")
		}
		return uint64(n * 1e6), nil
	}
	return 0, fmt.Errorf("seconds must be a number, not %s", v.Signature())
}

func intOf(v any) int64 {
	switch n := v.(type) {
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	}
	return 0
}
