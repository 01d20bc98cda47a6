package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/intelrdt"
)

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "change the resource limits of a running container",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "linux.resources JSON from a file, or - for stdin"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "block IO weight, 10 to 1000"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CFS period (microseconds)"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CFS quota (microseconds, -1 for none)"},
		&cli.StringFlag{Name: "cpu-burst", Usage: "CFS burst (microseconds)"},
		&cli.StringFlag{Name: "cpu-share", Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "realtime period (microseconds)"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "realtime runtime (microseconds)"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "SCHED_IDLE for the cgroup (0 or 1)"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to run on (0-3, 0,1)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes (0-3, 0,1)"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit, with k, m or g suffix (-1 for none)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit (-1 for none)"},
		&cli.StringFlag{Name: "kernel-memory", Usage: "ignored (deprecated by the kernel)"},
		&cli.StringFlag{Name: "kernel-memory-tcp", Usage: "ignored (deprecated by the kernel)"},
		&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of processes (-1 for none)"},
		&cli.StringFlag{Name: "l3-cache-schema", Usage: "Intel RDT/CAT L3 cache line of the container's group (L3:ID=MASK;...)"},
		&cli.StringFlag{Name: "mem-bw-schema", Usage: "Intel RDT/MBA memory bandwidth line of the container's group (MB:ID=VALUE;...)"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		r, err := updateResources(c)
		if err != nil {
			return err
		}
		rdt, err := updateSchemata(c)
		if err != nil {
			return err
		}
		ct, err := libsandbox.Load(root(c), c.Args().First())
		if err != nil {
			return err
		}
		defer ct.Close()
		return ct.Update(r, rdt)
	},
}

// updateSchemata reads --l3-cache-schema and --mem-bw-schema: one line
// each, of the resource the flag is for (intelrdt.SchemaLine), named by
// flag.
func updateSchemata(c *cli.Context) (libsandbox.Schemata, error) {
	s := libsandbox.Schemata{
		L3CacheSchema: c.String("l3-cache-schema"),
		MemBwSchema:   c.String("mem-bw-schema"),
	}
	if l := s.L3CacheSchema; l != "" {
		if err := intelrdt.SchemaLine(l, "L3"); err != nil {
			return s, fmt.Errorf("--l3-cache-schema %w", err)
		}
	}
	if l := s.MemBwSchema; l != "" {
		if err := intelrdt.SchemaLine(l, "MB:"); err != nil {
			return s, fmt.Errorf("--mem-bw-schema %w", err)
		}
	}
	return s, nil
}

// updateResources reads --resources and lays the flags over it (the flags
// win, as in runc).
func updateResources(c *cli.Context) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if src := c.String("resources"); src != "" {
		var in io.Reader = os.Stdin
		if src != "-" {
			f, err := os.Open(src)
			if err != nil {
				return nil, fmt.Errorf("--resources: %w", err)
			}
			defer f.Close()
			in = f
		}
		dec := json.NewDecoder(in)
		dec.DisallowUnknownFields()
		if err := dec.Decode(r); err != nil {
			return nil, fmt.Errorf("--resources: invalid linux.resources JSON: %w", err)
		}
	}
	var err error
	num := func(name string, bytes bool) *int64 {
		s := c.String(name)
		if s == "" || err != nil {
			return nil
		}
		var v int64
		if bytes {
			v, err = parseBytes(s)
		} else {
			v, err = strconv.ParseInt(s, 10, 64)
		}
		if err != nil {
			err = fmt.Errorf("--%s %q: %w", name, s, err)
			return nil
		}
		return &v
	}
	unum := func(name string) *uint64 {
		p := num(name, false)
		if p == nil {
			return nil
		}
		if *p < 0 {
			err = fmt.Errorf("--%s: %d is negative", name, *p)
			return nil
		}
		u := uint64(*p)
		return &u
	}
	if v := unum("blkio-weight"); v != nil {
		w := uint16(*v)
		if r.BlockIO == nil {
			r.BlockIO = &specs.LinuxBlockIO{}
		}
		r.BlockIO.Weight = &w
	}
	cpu := r.CPU
	if cpu == nil {
		cpu = &specs.LinuxCPU{}
	}
	set := false
	for _, f := range []struct {
		name string
		u    **uint64
		i    **int64
	}{
		{"cpu-period", &cpu.Period, nil}, {"cpu-quota", nil, &cpu.Quota},
		{"cpu-burst", &cpu.Burst, nil}, {"cpu-share", &cpu.Shares, nil},
		{"cpu-rt-period", &cpu.RealtimePeriod, nil}, {"cpu-rt-runtime", nil, &cpu.RealtimeRuntime},
		{"cpu-idle", nil, &cpu.Idle},
	} {
		if f.u != nil {
			if v := unum(f.name); v != nil {
				*f.u, set = v, true
			}
		} else if v := num(f.name, false); v != nil {
			*f.i, set = v, true
		}
	}
	if s := c.String("cpuset-cpus"); s != "" {
		cpu.Cpus, set = s, true
	}
	if s := c.String("cpuset-mems"); s != "" {
		cpu.Mems, set = s, true
	}
	if set {
		r.CPU = cpu
	}
	mem := r.Memory
	if mem == nil {
		mem = &specs.LinuxMemory{}
	}
	set = false
	for _, f := range []struct {
		name string
		p    **int64
	}{
		{"memory", &mem.Limit}, {"memory-reservation", &mem.Reservation}, {"memory-swap", &mem.Swap},
		{"kernel-memory", &mem.Kernel}, {"kernel-memory-tcp", &mem.KernelTCP},
	} {
		if v := num(f.name, true); v != nil {
			*f.p, set = v, true
		}
	}
	if set {
		r.Memory = mem
	}
	if v := num("pids-limit", false); v != nil {
		r.Pids = &specs.LinuxPids{Limit: v}
	}
	return r, err
}

// parseBytes reads "16m", "1G", "512k", "100" or -1.
func parseBytes(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	notSize := errors.New("not a size (a number with an optional k, m or g suffix)")
	if s == "" {
		return 0, notSize
	}
	mult := int64(1)
	switch strings.ToLower(s[len(s)-1:]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	s = strings.TrimSuffix(strings.ToLower(s), "b")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, notSize
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%s times %d is too large", s, mult)
	}
	return n * mult, nil
}
