package libsandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal/sealfd"
)

// The maps of a new user namespace (linux.uidMappings, gidMappings), and
// who may write them (user_namespaces(7) "Defining user and group ID
// mappings"; kernel/user_namespace.c new_idmap_permitted):
//
//   - a writer with CAP_SETUID (CAP_SETGID) in the parent namespace, root
//     on the host or in rootless podman's namespace, any ids that exist
//     in that namespace;
//   - anyone else, one line mapping their own effective uid (gid) and
//     nothing more; for a gid map, only once /proc/PID/setgroups says
//     "deny" (else a process could drop a group that denies it access
//     with setgroups(2)), and the container's processes cannot call
//     setgroups then;
//   - for more, the setuid helpers newuidmap and newgidmap (shadow's
//     uidmap package), which write what /etc/subuid and /etc/subgid give
//     the user, as runc, podman and rootlesskit use them.
//
// planIDMaps decides which, and refuses a map the writer will be refused,
// naming the entry, before anything is made.

// mapPlan is how the maps of a new user namespace are written.
type mapPlan struct {
	// uidHelper, gidHelper: the path of newuidmap/newgidmap, for a map
	// we may not write ourselves; "" to write /proc/PID/{uid,gid}_map.
	uidHelper, gidHelper string
	// denySetgroups: write "deny" to /proc/PID/setgroups before the gid
	// map, as the kernel requires of a writer without CAP_SETGID.
	denySetgroups bool
}

// needsHelper reports whether a helper writes a map: only a process
// outside the namespace can run it, while the child waits (rawfork's
// Pause), which the standard library's fork has no place for.
func (p *mapPlan) needsHelper() bool {
	return p != nil && (p.uidHelper != "" || p.gidHelper != "")
}

// mapPrivilege is what the runtime may map, by the rules above.
type mapPrivilege struct {
	uid, gid  int  // effective ids
	capSetuid bool // CAP_SETUID in our own user namespace
	capSetgid bool
	// ns are the ids that exist in our user namespace (all of them on
	// the host).
	nsUIDs, nsGIDs []idRange
	// subIDs returns the user's ranges in /etc/subuid ("uid") or
	// /etc/subgid ("gid").
	subIDs func(kind string) ([]idRange, error)
	// lookPath finds the helpers (exec.LookPath).
	lookPath func(string) (string, error)
}

// Capability numbers (linux/capability.h).
const (
	capSetgid = 6
	capSetuid = 7
)

// currentPrivilege reads the runtime's own: effective ids and
// capabilities, its namespace's maps; /etc/subuid and /etc/subgid only
// when asked.
func currentPrivilege() (*mapPrivilege, error) {
	eff, err := effectiveCaps()
	if err != nil {
		return nil, err
	}
	pv := &mapPrivilege{
		uid:       os.Geteuid(),
		gid:       os.Getegid(),
		capSetuid: eff&(1<<capSetuid) != 0,
		capSetgid: eff&(1<<capSetgid) != 0,
		lookPath:  exec.LookPath,
	}
	if pv.nsUIDs, err = readIDFile("/proc/self/uid_map", parseProcIDMap); err != nil {
		return nil, err
	}
	if pv.nsGIDs, err = readIDFile("/proc/self/gid_map", parseProcIDMap); err != nil {
		return nil, err
	}
	pv.subIDs = func(kind string) ([]idRange, error) {
		// Both files are keyed by the user's login name or uid
		// (subuid(5), subgid(5)), /etc/subgid too.
		name := ""
		if u, err := user.LookupId(strconv.Itoa(pv.uid)); err == nil {
			name = u.Username
		}
		return readIDFile("/etc/sub"+kind, func(r io.Reader) ([]idRange, error) {
			return parseSubIDs(r, name, pv.uid)
		})
	}
	return pv, nil
}

// effectiveCaps reads CapEff from /proc/self/status.
func effectiveCaps() (uint64, error) { return capEff("/proc/self/status") }

// capEff reads the CapEff line of a /proc status file (ours, or another
// thread's: joinmount.go).
func capEff(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("CapEff:")); ok {
			return strconv.ParseUint(strings.TrimSpace(string(v)), 16, 64)
		}
	}
	return 0, errors.New(path + ": no CapEff")
}

// maxMapLines is the kernel's limit on the lines of one map
// (UID_GID_MAP_MAX_EXTENTS).
const maxMapLines = 340

// checkIDMappings refuses what the kernel would refuse of any writer: an
// empty range, one that runs past the last id, more lines than it takes,
// and ranges that overlap on either side (mappings_overlap in
// kernel/user_namespace.c).
func checkIDMappings(field string, maps []specs.LinuxIDMapping) error {
	if len(maps) > maxMapLines {
		return fmt.Errorf("%s: %d entries, the kernel takes at most %d", field, len(maps), maxMapLines)
	}
	const limit = 1 << 32
	for i, m := range maps {
		if m.Size == 0 {
			return fmt.Errorf("%s[%d].size: must not be 0", field, i)
		}
		if uint64(m.ContainerID)+uint64(m.Size) > limit || uint64(m.HostID)+uint64(m.Size) > limit {
			return fmt.Errorf("%s[%d]: the range of %d ids runs past the last id (4294967295)", field, i, m.Size)
		}
		for j := 0; j < i; j++ {
			o := maps[j]
			if overlap(m.ContainerID, m.Size, o.ContainerID, o.Size) {
				return fmt.Errorf("%s[%d]: container ids %s overlap %s[%d]'s (%s)", field, i, rangeOf(m.ContainerID, m.Size), field, j, rangeOf(o.ContainerID, o.Size))
			}
			if overlap(m.HostID, m.Size, o.HostID, o.Size) {
				return fmt.Errorf("%s[%d]: host ids %s overlap %s[%d]'s (%s)", field, i, rangeOf(m.HostID, m.Size), field, j, rangeOf(o.HostID, o.Size))
			}
		}
	}
	return nil
}

func overlap(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}

func rangeOf(start, size uint32) idRange { return idRange{uint64(start), uint64(size)} }

// planIDMaps decides how the maps are written with the privilege pv,
// and refuses, naming the entry, those that the writer would be refused.
// The maps have passed checkIDMappings.
func planIDMaps(uids, gids []specs.LinuxIDMapping, pv *mapPrivilege) (*mapPlan, error) {
	p := &mapPlan{}
	var err error
	if p.uidHelper, _, err = planOne("linux.uidMappings", "uid", "newuidmap", uids, pv.uid, pv.capSetuid, pv.nsUIDs, pv); err != nil {
		return nil, err
	}
	var own bool
	if p.gidHelper, own, err = planOne("linux.gidMappings", "gid", "newgidmap", gids, pv.gid, pv.capSetgid, pv.nsGIDs, pv); err != nil {
		return nil, err
	}
	p.denySetgroups = own
	return p, nil
}

// planOne plans one map. ownOnly: the map is the writer's own id alone,
// written without privilege.
func planOne(field, kind, helper string, maps []specs.LinuxIDMapping, id int, capable bool, ns []idRange, pv *mapPrivilege) (path string, ownOnly bool, err error) {
	if capable {
		for i, m := range maps {
			if r := rangeOf(m.HostID, m.Size); !covered(r, ns) {
				return "", false, fmt.Errorf("%s[%d]: host %ss %s are not mapped in the runtime's user namespace, which has %s", field, i, kind, r, rangesString(ns))
			}
		}
		return "", false, nil
	}
	if len(maps) == 1 && maps[0].Size == 1 && int64(maps[0].HostID) == int64(id) {
		return "", true, nil
	}
	sub, err := pv.subIDs(kind)
	if err != nil {
		return "", false, fmt.Errorf("%s: read /etc/sub%s: %w", field, kind, err)
	}
	allowed := append([]idRange{{uint64(id), 1}}, sub...)
	for i, m := range maps {
		if r := rangeOf(m.HostID, m.Size); !covered(r, allowed) {
			return "", false, fmt.Errorf("%s[%d]: host %ss %s are not yours to map: the runtime runs without root, and maps only your own %s %d and the subordinate %ss /etc/sub%s gives you (%s)",
				field, i, kind, r, kind, id, kind, kind, rangesString(sub))
		}
	}
	path, err = pv.lookPath(helper)
	if err != nil {
		return "", false, fmt.Errorf("%s: mapping more than your own %s needs %s (Debian's uidmap package), because the runtime runs without root: %w", field, kind, helper, err)
	}
	return path, false, nil
}

func rangesString(rs []idRange) string {
	if len(rs) == 0 {
		return "none"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

// writeIDMaps writes the maps of the new user namespace of process pid
// (waiting, outside it: rawfork's Pause) as plan says.
func writeIDMaps(pid int, uid, gid []specs.LinuxIDMapping, plan *mapPlan) error {
	p := "/proc/" + strconv.Itoa(pid)
	if plan == nil {
		plan = &mapPlan{}
	}
	if plan.uidHelper != "" {
		if err := runMapHelper(plan.uidHelper, pid, uid); err != nil {
			return fmt.Errorf("linux.uidMappings: %w", err)
		}
	} else if err := os.WriteFile(p+"/uid_map", formatIDMap(uid), 0); err != nil {
		return fmt.Errorf("linux.uidMappings: %w", err)
	}
	if plan.gidHelper != "" {
		if err := runMapHelper(plan.gidHelper, pid, gid); err != nil {
			return fmt.Errorf("linux.gidMappings: %w", err)
		}
		return nil
	}
	if plan.denySetgroups {
		if err := os.WriteFile(p+"/setgroups", []byte("deny"), 0); err != nil {
			return fmt.Errorf("linux.gidMappings: setgroups: %w", err)
		}
	}
	if err := os.WriteFile(p+"/gid_map", formatIDMap(gid), 0); err != nil {
		return fmt.Errorf("linux.gidMappings: %w", err)
	}
	return nil
}

// runMapHelper runs newuidmap or newgidmap: `PID ID LOWERID COUNT...`.
// Its complaint (a range /etc/subuid does not give, a missing setuid
// bit) is in its output.
func runMapHelper(path string, pid int, maps []specs.LinuxIDMapping) error {
	args := []string{strconv.Itoa(pid)}
	for _, m := range maps {
		args = append(args, strconv.FormatUint(uint64(m.ContainerID), 10), strconv.FormatUint(uint64(m.HostID), 10), strconv.FormatUint(uint64(m.Size), 10))
	}
	cmd := exec.Command(path, args...)
	// Nothing of ours: the helper is setuid root.
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg != "" {
			return fmt.Errorf("%s: %s: %w", path, msg, err)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// idRange is a range of ids, [start, start+size).
type idRange struct{ start, size uint64 }

func (r idRange) end() uint64 { return r.start + r.size }

func (r idRange) String() string { return fmt.Sprintf("%d-%d", r.start, r.end()-1) }

// covered reports whether ranges cover r entirely (ranges may touch or
// overlap each other).
func covered(r idRange, ranges []idRange) bool {
	for next := r.start; next < r.end(); {
		found := false
		for _, x := range ranges {
			if x.start <= next && next < x.end() {
				next = x.end()
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// parseSubIDs reads /etc/subuid or /etc/subgid (subuid(5)): the ranges
// given to the user named name or numbered id.
func parseSubIDs(r io.Reader, name string, id int) ([]idRange, error) {
	var out []idRange
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || (f[0] != name && f[0] != strconv.Itoa(id)) {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		size, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || size == 0 {
			continue
		}
		out = append(out, idRange{start, size})
	}
	return out, sc.Err()
}

// parseProcIDMap reads /proc/PID/uid_map or gid_map: the ids of the
// parent namespace that the namespace's own (its first column) stand
// for are not needed here, only which of the namespace's ids exist.
func parseProcIDMap(r io.Reader) ([]idRange, error) {
	var out []idRange
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		inside, err1 := strconv.ParseUint(f[0], 10, 32)
		size, err2 := strconv.ParseUint(f[2], 10, 33)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad id map line %q", sc.Text())
		}
		out = append(out, idRange{inside, size})
	}
	return out, sc.Err()
}

// readIDFile opens a file that may be missing (an /etc/subuid nobody
// made): no ranges then.
func readIDFile(path string, parse func(io.Reader) ([]idRange, error)) ([]idRange, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parse(bytes.NewReader(b))
}

// mapsExecOnlyOwner reports whether the user namespace of process pid
// maps host uid 0 and host gid sealfd.ExecOnlyGid, the owner of the
// exec-only copy init runs from: its root is then privileged over that
// copy and may read it, and init stays dumpable in it.
func mapsExecOnlyOwner(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	return mapsHostID(dir+"uid_map", 0) && mapsHostID(dir+"gid_map", sealfd.ExecOnlyGid)
}

// mapsHostID reports whether the id map at path (/proc/PID/uid_map, as
// read from our namespace: "inside outside count") maps host id.
func mapsHostID(path string, id uint64) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		outside, err1 := strconv.ParseUint(f[1], 10, 32)
		size, err2 := strconv.ParseUint(f[2], 10, 33)
		if err1 == nil && err2 == nil && id >= outside && id < outside+size {
			return true
		}
	}
	return false
}
