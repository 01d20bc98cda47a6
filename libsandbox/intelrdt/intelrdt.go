// Package intelrdt places a container in an Intel RDT (resctrl) group:
// linux.intelRdt of the runtime spec (config-linux.md "IntelRdt"), as
// runc 1.4 does (libcontainer/intelrdt). The resctrl root is a parameter,
// so that the unit tests run against a fake tree; only Root checks that a
// real resctrl is mounted there.
//
// A group is a directory of resctrl: the root is the default CLOS, every
// other directory a CLOS of its own with a "schemata" file (one line per
// resource: "L3:0=7f0;1=1f", "MB:0=20;1=70") and a "tasks" file taking
// pids; "mon_groups/NAME" under a group is a monitoring group.
package intelrdt

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

// DefaultRoot is where the spec expects resctrl: "a mounted resctrl
// pseudo-filesystem" in the runtime's mount namespace.
const DefaultRoot = "/sys/fs/resctrl"

// rdtgroupSuperMagic is RDTGROUP_SUPER_MAGIC (include/uapi/linux/magic.h).
const rdtgroupSuperMagic = 0x7655821

// Root returns root if a resctrl filesystem is mounted there, or the
// error the spec asks for ("If no mounted resctrl pseudo-filesystem is
// available in the runtime mount namespace, the runtime MUST generate an
// error").
func Root(root string) (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil || st.Type != rdtgroupSuperMagic {
		return "", fmt.Errorf("linux.intelRdt: this host has no resctrl filesystem mounted at %s", root)
	}
	return root, nil
}

// Check checks rdt without the host: the names and lines the kernel
// would refuse with a bare EINVAL, named by field.
func Check(rdt *specs.LinuxIntelRdt) error {
	if c := rdt.ClosID; c != "" && c != "/" && (strings.ContainsAny(c, "/\n") || c == "." || c == ".." || c == "info" || c == "mon_groups" || c == "mon_data") {
		return fmt.Errorf("linux.intelRdt.closID %q: not a resctrl group name", c)
	}
	if s := rdt.L3CacheSchema; s != "" {
		if err := SchemaLine(s, "L3"); err != nil {
			return fmt.Errorf("linux.intelRdt.l3CacheSchema %w", err)
		}
	}
	if s := rdt.MemBwSchema; s != "" {
		if err := SchemaLine(s, "MB:"); err != nil {
			return fmt.Errorf("linux.intelRdt.memBwSchema %w", err)
		}
	}
	for i, s := range rdt.Schemata {
		if strings.Contains(s, "\n") || !strings.Contains(s, ":") {
			return fmt.Errorf("linux.intelRdt.schemata[%d] %q: must be one line RESOURCE:ID=VALUE;...", i, s)
		}
	}
	return nil
}

// SchemaLine checks s, a schemata line of the resource whose lines
// start with prefix ("L3", "MB:"): one line, of that resource (resctrl
// takes several lines in one write, so a newline would set another
// resource). Its error quotes s; the caller names the field.
func SchemaLine(s, prefix string) error {
	if strings.Contains(s, "\n") || !strings.HasPrefix(s, prefix) {
		return fmt.Errorf("%q: must be one line starting with %s", s, prefix)
	}
	return nil
}

// State is what delete needs: the group the container went into, whether
// delete removes it (the runtime made it, and no closID named it: the
// spec's rule, a closID's group being likely shared), and the
// container's monitoring group.
type State struct {
	Path    string `json:"path"`
	Created bool   `json:"created,omitempty"`
	MonPath string `json:"monPath,omitempty"`
}

// mkdir and rmdir make and remove a group. On resctrl they are
// mkdir(2) and rmdir(2) of a directory the kernel fills (schemata,
// tasks...); the unit tests' fake tree, a plain directory, needs those
// files made and removed with it.
var (
	mkdir = func(dir string) error { return os.Mkdir(dir, 0o755) }
	rmdir = os.Remove
)

// lines returns the schemata to write, in the spec's order:
// l3CacheSchema, memBwSchema, then schemata.
func lines(rdt *specs.LinuxIntelRdt) []string {
	var out []string
	for _, s := range append([]string{rdt.L3CacheSchema, rdt.MemBwSchema}, rdt.Schemata...) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Apply puts pid in the group rdt names under root for container id, as
// the spec's rules say:
//   - closID "/" is the root group; no closID is a group named after the
//     container, made here;
//   - a closID with no schemata must exist already (pre-configured);
//   - a closID with schemata is made if missing; if it exists, its
//     schemata must match what the spec asks for;
//   - the schemata are written, l3CacheSchema first, schemata last;
//   - enableMonitoring makes mon_groups/<id> in the group, with pid in it.
//
// On error, what Apply made is removed again.
func Apply(root, id string, rdt *specs.LinuxIntelRdt, pid int) (_ *State, retErr error) {
	want := lines(rdt)
	st := &State{Path: filepath.Join(root, id)}
	switch rdt.ClosID {
	case "":
	case "/":
		st.Path = root
	default:
		st.Path = filepath.Join(root, rdt.ClosID)
	}
	made := false
	defer func() {
		if retErr != nil {
			// What this Apply made goes, a closID's group too.
			Destroy(&State{Path: st.Path, Created: made, MonPath: st.MonPath})
		}
	}()
	_, err := os.Stat(st.Path)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("linux.intelRdt: %w", err)
	case rdt.ClosID != "" && len(want) == 0 && !exists:
		return nil, fmt.Errorf("linux.intelRdt.closID %q: no such group in %s, and no schemata to make it with", rdt.ClosID, root)
	case rdt.ClosID != "" && len(want) > 0 && exists:
		if err := matches(st.Path, want); err != nil {
			return nil, fmt.Errorf("linux.intelRdt.closID %q: %w", rdt.ClosID, err)
		}
		want = nil // what is there is what was asked for
	case !exists:
		if err := mkdir(st.Path); err != nil {
			return nil, fmt.Errorf("linux.intelRdt: make group: %w", lastCmd(root, err))
		}
		made = true
		st.Created = rdt.ClosID == ""
	}
	if len(want) > 0 {
		if err := os.WriteFile(filepath.Join(st.Path, "schemata"), []byte(strings.Join(want, "\n")+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("linux.intelRdt: write schemata %q: %w", strings.Join(want, `\n`), lastCmd(root, err))
		}
	}
	if err := writeTask(st.Path, pid); err != nil {
		return nil, fmt.Errorf("linux.intelRdt: %w", lastCmd(root, err))
	}
	if rdt.EnableMonitoring {
		mon := filepath.Join(st.Path, "mon_groups", id)
		if err := mkdir(mon); err != nil {
			return nil, fmt.Errorf("linux.intelRdt.enableMonitoring: make monitoring group: %w", lastCmd(root, err))
		}
		st.MonPath = mon
		if err := writeTask(mon, pid); err != nil {
			return nil, fmt.Errorf("linux.intelRdt.enableMonitoring: %w", lastCmd(root, err))
		}
	}
	return st, nil
}

// Destroy removes the monitoring group and the group, if the runtime
// made them: a closID's group is someone else's (the spec: "MUST NOT
// remove"). resctrl removes a directory with tasks in it by moving them
// to the parent group; by delete the container's are dead.
func Destroy(st *State) error {
	if st == nil {
		return nil
	}
	var errs []error
	if st.MonPath != "" {
		if err := rmdir(st.MonPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("linux.intelRdt: remove monitoring group: %w", err))
		}
	}
	if st.Created {
		if err := rmdir(st.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("linux.intelRdt: remove group: %w", err))
		}
	}
	return errors.Join(errs...)
}

func writeTask(dir string, pid int) error {
	f, err := os.OpenFile(filepath.Join(dir, "tasks"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(strconv.Itoa(pid))
	return err
}

// lastCmd adds resctrl's own explanation of the last failure
// (info/last_cmd_status: "Bitmask 300 is not contiguous" and the like).
func lastCmd(root string, err error) error {
	b, e := os.ReadFile(filepath.Join(root, "info", "last_cmd_status"))
	if e != nil || strings.TrimSpace(string(b)) == "ok" || len(b) == 0 {
		return err
	}
	return fmt.Errorf("%w (resctrl: %s)", err, strings.TrimSpace(string(b)))
}

// matches checks that the schemata of an existing group hold what want
// asks for: for each resource and domain asked for, the same value. The
// kernel writes values back its own way (hex masks without leading zeros,
// all domains, in domain order), so values are compared as numbers, domain
// by domain; domains not asked for are not compared.
func matches(dir string, want []string) error {
	b, err := os.ReadFile(filepath.Join(dir, "schemata"))
	if err != nil {
		return fmt.Errorf("read schemata: %w", err)
	}
	have := map[string]map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if res, doms, ok := parseLine(l); ok {
			have[res] = doms
		}
	}
	for _, l := range want {
		res, doms, ok := parseLine(l)
		if !ok {
			return fmt.Errorf("schema %q: not RESOURCE:ID=VALUE;...", l)
		}
		for d, v := range doms {
			got, ok := have[res][d]
			if !ok || !sameValue(got, v, res) {
				return fmt.Errorf("the group exists and its schemata (%s) do not match %q", strings.TrimSpace(strings.ReplaceAll(string(b), "\n", "; ")), l)
			}
		}
	}
	return nil
}

// parseLine splits "L3:0=7f0;1=1f" (spaces allowed, as resctrl prints
// them) into "L3" and its domains.
func parseLine(l string) (string, map[string]string, bool) {
	res, rest, ok := strings.Cut(strings.TrimSpace(l), ":")
	if !ok || res == "" {
		return "", nil, false
	}
	doms := map[string]string{}
	for _, d := range strings.Split(rest, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(d), "=")
		if !ok {
			return "", nil, false
		}
		doms[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return strings.TrimSpace(res), doms, true
}

// sameValue compares two values of resource res: hex bit masks for the
// cache resources, decimal for MB (percent or MBps).
func sameValue(a, b, res string) bool {
	base := 16
	if strings.HasPrefix(res, "MB") {
		base = 10
	}
	x, err1 := strconv.ParseUint(a, base, 64)
	y, err2 := strconv.ParseUint(b, base, 64)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return x == y
}

// Features reports whether the resctrl at root (one Root accepted)
// offers cache allocation (info/L3) and memory bandwidth allocation
// (info/MB): a CPU without them, or a kernel booted with rdt=!l3cat or
// !mba, has no such directory. update asks, as runc's does, before it
// writes either schema.
func Features(root string) (cat, mba bool) {
	_, errL3 := os.Stat(filepath.Join(root, "info", "L3"))
	_, errMB := os.Stat(filepath.Join(root, "info", "MB"))
	return errL3 == nil, errMB == nil
}

// SetSchemata writes lines (update's --l3-cache-schema and
// --mem-bw-schema) to the schemata of the container's group, st, under
// root: the group create put the container in, a closID's shared one
// included, as runc's update writes it.
func SetSchemata(root string, st *State, lines []string) error {
	if err := os.WriteFile(filepath.Join(st.Path, "schemata"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("linux.intelRdt: write schemata %q: %w", strings.Join(lines, `\n`), lastCmd(root, err))
	}
	return nil
}

// Enter puts pid (an exec'd process's first child, before it forks the
// process, which inherits the group: the CLOS and RMID are the task's and
// copied at fork) in the container's group and monitoring group, as
// runc's setnsProcess does.
func Enter(st *State, pid int) error {
	if err := writeTask(st.Path, pid); err != nil {
		return fmt.Errorf("linux.intelRdt: %w", err)
	}
	if st.MonPath != "" {
		if err := writeTask(st.MonPath, pid); err != nil {
			return fmt.Errorf("linux.intelRdt.enableMonitoring: %w", err)
		}
	}
	return nil
}
