// Package procattr turns the per-process attributes of the runtime spec
// (process.scheduler, process.ioPriority, linux.personality,
// linux.memoryPolicy, CPU lists) into the values their system calls
// take. The runtime checks a config with it before anything is made, and
// both init (create) and the raw-forked child of exec apply what it
// returns, so a value means the same in both. Pure functions but for
// CheckNodes, which reads the node directory it is given.
package procattr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Scheduling policies of sched_setattr(2) (include/uapi/linux/sched.h).
// SCHED_ISO is reserved there and never implemented: the kernel refuses
// it (EINVAL), and so do we, naming the field.
var policies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther:    0,
	specs.SchedFIFO:     1,
	specs.SchedRR:       2,
	specs.SchedBatch:    3,
	specs.SchedIdle:     5,
	specs.SchedDeadline: 6,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork:  unix.SCHED_FLAG_RESET_ON_FORK,
	specs.SchedFlagReclaim:      unix.SCHED_FLAG_RECLAIM,
	specs.SchedFlagDLOverrun:    unix.SCHED_FLAG_DL_OVERRUN,
	specs.SchedFlagKeepPolicy:   unix.SCHED_FLAG_KEEP_POLICY,
	specs.SchedFlagKeepParams:   unix.SCHED_FLAG_KEEP_PARAMS,
	specs.SchedFlagUtilClampMin: unix.SCHED_FLAG_UTIL_CLAMP_MIN,
	specs.SchedFlagUtilClampMax: unix.SCHED_FLAG_UTIL_CLAMP_MAX,
}

// Scheduler returns the sched_setattr(2) attributes for s, checked as
// runc checks them (libcontainer/configs/validate "scheduler") plus the
// kernel's range for real-time priorities, so that a bad value is
// create's error naming the field rather than an EINVAL from init.
func Scheduler(s *specs.Scheduler) (*unix.SchedAttr, error) {
	policy, ok := policies[s.Policy]
	switch {
	case s.Policy == "":
		return nil, errors.New("process.scheduler.policy: missing")
	case s.Policy == specs.SchedISO:
		return nil, errors.New("process.scheduler.policy: SCHED_ISO is not implemented by Linux")
	case !ok:
		return nil, fmt.Errorf("process.scheduler.policy: unknown policy %q", s.Policy)
	}
	rt := s.Policy == specs.SchedFIFO || s.Policy == specs.SchedRR
	if (s.Policy == specs.SchedOther || s.Policy == specs.SchedBatch) && (s.Nice < -20 || s.Nice > 19) {
		return nil, fmt.Errorf("process.scheduler.nice %d: must be between -20 and 19", s.Nice)
	}
	if rt && (s.Priority < 1 || s.Priority > 99) {
		// sched_setattr(2): 1 (low) to 99 (high) for the real-time
		// policies (MAX_RT_PRIO-1).
		return nil, fmt.Errorf("process.scheduler.priority %d: must be between 1 and 99 for %s", s.Priority, s.Policy)
	}
	if !rt && s.Priority != 0 {
		return nil, fmt.Errorf("process.scheduler.priority: only for SCHED_FIFO and SCHED_RR, not %s", s.Policy)
	}
	if s.Policy != specs.SchedDeadline && (s.Runtime != 0 || s.Deadline != 0 || s.Period != 0) {
		return nil, errors.New("process.scheduler.runtime/deadline/period: only for SCHED_DEADLINE")
	}
	attr := &unix.SchedAttr{
		Size:     unix.SizeofSchedAttr,
		Policy:   policy,
		Nice:     s.Nice,
		Priority: uint32(s.Priority),
		Runtime:  s.Runtime,
		Deadline: s.Deadline,
		Period:   s.Period,
	}
	for i, f := range s.Flags {
		v, ok := schedFlags[f]
		if !ok {
			return nil, fmt.Errorf("process.scheduler.flags[%d]: unknown flag %q", i, f)
		}
		attr.Flags |= v
	}
	return attr, nil
}

// ioprio classes (include/uapi/linux/ioprio.h).
var ioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT:   1,
	specs.IOPRIO_CLASS_BE:   2,
	specs.IOPRIO_CLASS_IDLE: 3,
}

// IOPrioWhoProcess is ioprio_set(2)'s IOPRIO_WHO_PROCESS: who 0 is the
// caller. Not runc's IOPRIO_WHO_PGRP: exec's first child sets it before
// the process has a session of its own, while it is still in the process
// group of the runtime's caller, whose shell would get it too; the
// process's children inherit it either way (copy_io at fork).
const IOPrioWhoProcess = 1

// IOPriority returns the ioprio_set(2) value for p: class << 13 | level
// (IOPRIO_PRIO_VALUE).
func IOPriority(p *specs.LinuxIOPriority) (int, error) {
	class, ok := ioClasses[p.Class]
	if !ok {
		return 0, fmt.Errorf("process.ioPriority.class: unknown class %q (IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return 0, fmt.Errorf("process.ioPriority.priority %d: must be between 0 and 7", p.Priority)
	}
	return class<<13 | p.Priority, nil
}

// Personality returns the personality(2) persona for p: PER_LINUX or
// PER_LINUX32 (include/uapi/linux/personality.h). The spec defines no
// flag: one given is refused rather than ignored.
func Personality(p *specs.LinuxPersonality) (int, error) {
	if len(p.Flags) > 0 {
		return 0, fmt.Errorf("linux.personality.flags[0] %q: no flag is defined by the runtime spec", p.Flags[0])
	}
	switch p.Domain {
	case specs.PerLinux:
		return 0x0000, nil
	case specs.PerLinux32:
		return 0x0008, nil
	case "":
		return 0, errors.New("linux.personality.domain: missing")
	}
	return 0, fmt.Errorf("linux.personality.domain: unknown domain %q (LINUX or LINUX32)", p.Domain)
}

var mpolModes = map[specs.MemoryPolicyModeType]int{
	specs.MpolDefault:            unix.MPOL_DEFAULT,
	specs.MpolPreferred:          unix.MPOL_PREFERRED,
	specs.MpolBind:               unix.MPOL_BIND,
	specs.MpolInterleave:         unix.MPOL_INTERLEAVE,
	specs.MpolLocal:              unix.MPOL_LOCAL,
	specs.MpolPreferredMany:      unix.MPOL_PREFERRED_MANY,
	specs.MpolWeightedInterleave: unix.MPOL_WEIGHTED_INTERLEAVE,
}

var mpolFlags = map[specs.MemoryPolicyFlagType]int{
	specs.MpolFNumaBalancing: unix.MPOL_F_NUMA_BALANCING,
	specs.MpolFRelativeNodes: unix.MPOL_F_RELATIVE_NODES,
	specs.MpolFStaticNodes:   unix.MPOL_F_STATIC_NODES,
}

// MemoryPolicyModes and MemoryPolicyFlags name what MemoryPolicy takes,
// for `features`.
func MemoryPolicyModes() []string { return keys(mpolModes) }
func MemoryPolicyFlags() []string { return keys(mpolFlags) }

func keys[K ~string, V any](m map[K]V) []string {
	var out []string
	for k := range m {
		out = append(out, string(k))
	}
	return out
}

// Mempolicy is a set_mempolicy(2) call: Mode has the flags or'ed in;
// Nodes is the nodemask (nil: none), MaxNode what to pass with it.
type Mempolicy struct {
	Mode    int
	Nodes   []uint64
	MaxNode uint64
}

// MemoryPolicy returns the set_mempolicy(2) call for m, checked as runc
// checks it (the modes that take no node, those that need one).
func MemoryPolicy(m *specs.LinuxMemoryPolicy) (*Mempolicy, error) {
	mode, ok := mpolModes[m.Mode]
	if !ok {
		if m.Mode == "" {
			return nil, errors.New("linux.memoryPolicy.mode: missing")
		}
		return nil, fmt.Errorf("linux.memoryPolicy.mode: unknown mode %q", m.Mode)
	}
	for i, f := range m.Flags {
		v, ok := mpolFlags[f]
		if !ok {
			return nil, fmt.Errorf("linux.memoryPolicy.flags[%d]: unknown flag %q", i, f)
		}
		mode |= v
	}
	nodes, err := List(m.Nodes)
	if err != nil {
		return nil, fmt.Errorf("linux.memoryPolicy.nodes %q: %w", m.Nodes, err)
	}
	switch m.Mode {
	case specs.MpolDefault, specs.MpolLocal:
		if nodes != nil {
			return nil, fmt.Errorf("linux.memoryPolicy.nodes %q: %s takes no nodes", m.Nodes, m.Mode)
		}
	case specs.MpolBind, specs.MpolInterleave, specs.MpolPreferredMany, specs.MpolWeightedInterleave:
		if nodes == nil {
			return nil, fmt.Errorf("linux.memoryPolicy.nodes: %s needs at least one node", m.Mode)
		}
	}
	p := &Mempolicy{Mode: mode, Nodes: nodes}
	if nodes != nil {
		// The kernel reads maxnode-1 bits (get_nodes: "maxnode--",
		// kept for compatibility since 2.6): pass one more than the
		// bits we have.
		p.MaxNode = uint64(len(nodes))*64 + 1
	}
	return p, nil
}

// CheckNodes checks the nodes of p against the host's nodes under dir
// (/sys/devices/system/node): each must exist ("possible"), and be online
// unless MPOL_F_STATIC_NODES or MPOL_F_RELATIVE_NODES says the mask is
// meant for nodes that may come later or is relative to the allowed ones
// (set_mempolicy(2)). Without it, set_mempolicy fails with a bare EINVAL
// in init.
func CheckNodes(p *Mempolicy, dir string) error {
	if p.Nodes == nil {
		return nil
	}
	read := func(name string) ([]uint64, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		return List(strings.TrimSpace(string(b)))
	}
	possible, err := read("possible")
	if err != nil {
		return fmt.Errorf("linux.memoryPolicy.nodes: the host's NUMA nodes: %w", err)
	}
	online, err := read("online")
	if err != nil {
		return fmt.Errorf("linux.memoryPolicy.nodes: the host's NUMA nodes: %w", err)
	}
	free := p.Mode&(unix.MPOL_F_STATIC_NODES|unix.MPOL_F_RELATIVE_NODES) != 0
	for n := range Members(p.Nodes) {
		switch {
		case !free && !Has(possible, n):
			return fmt.Errorf("linux.memoryPolicy.nodes: node %d does not exist on this host (nodes %s)", n, Format(possible))
		case !free && !Has(online, n):
			return fmt.Errorf("linux.memoryPolicy.nodes: node %d is not online (online: %s)", n, Format(online))
		}
	}
	return nil
}

// MaxID bounds the CPU and node numbers List accepts (runc's MaxCPU):
// a mask for a bogus number would be large for nothing. The kernel
// supports at most 8192 CPUs (CONFIG_NR_CPUS) and 1024 nodes.
const MaxID = 8191

// List parses a list in the kernel's cpulist format ("0-3,7") into a
// bit mask of 64-bit words; "" is nil.
func List(s string) ([]uint64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var mask []uint64
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := id(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = id(hi); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("range %q goes backwards", r)
			}
		}
		for n := a; n <= b; n++ {
			for int(n/64) >= len(mask) {
				mask = append(mask, 0)
			}
			mask[n/64] |= 1 << (n % 64)
		}
	}
	if mask == nil {
		return nil, fmt.Errorf("no member in %q", s)
	}
	return mask, nil
}

func id(s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n > MaxID {
		return 0, fmt.Errorf("%d is above %d", n, MaxID)
	}
	return n, nil
}

// Has reports whether n is in mask.
func Has(mask []uint64, n uint64) bool {
	return int(n/64) < len(mask) && mask[n/64]&(1<<(n%64)) != 0
}

// Members yields the numbers in mask, in order.
func Members(mask []uint64) func(func(uint64) bool) {
	return func(yield func(uint64) bool) {
		for w, word := range mask {
			for b := uint64(0); b < 64; b++ {
				if word&(1<<b) != 0 && !yield(uint64(w)*64+b) {
					return
				}
			}
		}
	}
}

// Format writes mask in cpulist format.
func Format(mask []uint64) string {
	var parts []string
	start, prev := int64(-1), int64(-2)
	flush := func() {
		if start < 0 {
			return
		}
		if start == prev {
			parts = append(parts, strconv.FormatInt(start, 10))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", start, prev))
		}
	}
	for n := range Members(mask) {
		if int64(n) != prev+1 {
			flush()
			start = int64(n)
		}
		prev = int64(n)
	}
	flush()
	return strings.Join(parts, ",")
}
