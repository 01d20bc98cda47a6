package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Table layout: a label column, then the value wrapped to fit an 80
// column terminal (79: a character in the last column makes some
// terminals wrap an empty line after it).
const (
	labelWidth = 13
	lineWidth  = 79
)

// WriteTable writes r for a reader, in at most 79 columns.
func WriteTable(w io.Writer, r *Report) error {
	t := &table{}
	t.row("container", fmt.Sprintf("%s, pid %d, %s", r.ID, r.Pid, r.Status))
	if r.InitExited {
		t.row("", "init exited while it was read: what follows may be incomplete")
	}
	t.namespaces(r)
	t.user(r)
	t.capabilities(r)
	t.security(r)
	t.filesystem(r)
	t.resources(r)
	t.findings(r)
	for i, e := range r.Errors {
		label := ""
		if i == 0 {
			label = "not read"
		}
		t.row(label, e)
	}
	_, err := io.WriteString(w, t.b.String())
	return err
}

type table struct{ b strings.Builder }

// row writes label and value, the value wrapped at spaces into the
// value column (a word longer than the column is cut).
func (t *table) row(label, value string) {
	t.indented(label, "", value)
}

// indented is row with continuation lines indented by indent more.
func (t *table) indented(label, indent, value string) {
	width := lineWidth - labelWidth
	first := true
	for _, line := range wrap(value, width, len(indent)) {
		l := ""
		if first {
			l = label
		} else {
			line = indent + line
		}
		fmt.Fprintf(&t.b, "%-*s%s\n", labelWidth, l, line)
		first = false
	}
}

// wrap breaks s into lines of at most width columns, the lines after
// the first at most width-indent.
func wrap(s string, width, indent int) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	cur := ""
	limit := width
	for _, w := range words {
		for len(w) > limit {
			if cur != "" {
				lines, cur, limit = append(lines, cur), "", width-indent
				continue
			}
			lines, w, limit = append(lines, w[:limit]), w[limit:], width-indent
		}
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) <= limit:
			cur += " " + w
		default:
			lines, cur, limit = append(lines, cur), w, width-indent
		}
	}
	return append(lines, cur)
}

func (t *table) namespaces(r *Report) {
	var own, host, runtime []string
	for _, ns := range r.Namespaces {
		switch {
		case ns.Inode == 0:
		case ns.New:
			own = append(own, ns.Type)
		case ns.Host:
			host = append(host, ns.Type)
		default:
			runtime = append(runtime, ns.Type)
		}
	}
	label := "namespaces"
	for _, g := range []struct {
		what  string
		names []string
	}{{"its own", own}, {"the host's", host}, {"the runtime's", runtime}} {
		if len(g.names) > 0 {
			t.row(label, g.what+": "+strings.Join(g.names, " "))
			label = ""
		}
	}
}

func (t *table) user(r *Report) {
	u := r.User
	for _, id := range []struct {
		name string
		ids  IDs
		m    []IDMap
	}{{"uid", u.UID, u.UIDMap}, {"gid", u.GID, u.GIDMap}} {
		inside := "unmapped"
		if c := id.ids.Container[1]; c >= 0 {
			inside = strconv.FormatInt(c, 10)
		}
		var maps []string
		for _, e := range id.m {
			maps = append(maps, fmt.Sprintf("%d %d %d", e.ContainerID, e.HostID, e.Size))
		}
		label := ""
		if id.name == "uid" {
			label = "user"
		}
		t.row(label, fmt.Sprintf("%s %s inside is %d on the host (map: %s)", id.name, inside, id.ids.Host[1], strings.Join(maps, ", ")))
	}
}

func (t *table) capabilities(r *Report) {
	c := r.Capabilities
	over := "over the host (the host's user namespace)"
	if c.Over == "container" {
		over = "over its own user namespace only"
	}
	t.row("capabilities", fmt.Sprintf("%d effective, %s", len(c.Effective), over))
	t.indented("", "  ", "effective: "+capList(c.Effective))
	if !slices.Equal(c.Bounding, c.Effective) {
		t.indented("", "  ", "bounding: "+capList(c.Bounding))
	}
	if len(c.Ambient) > 0 {
		t.indented("", "  ", "ambient: "+capList(c.Ambient))
	}
}

func capList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	short := make([]string, len(names))
	for i, n := range names {
		short[i] = strings.ToLower(strings.TrimPrefix(n, "CAP_"))
	}
	return strings.Join(short, " ")
}

func (t *table) security(r *Report) {
	s := r.Security
	t.row("no_new_privs", yesNo(s.NoNewPrivs))
	sc := s.Seccomp.Mode
	if s.Seccomp.Mode == "filter" && s.Seccomp.Filters >= 0 {
		sc = fmt.Sprintf("filter (mode 2), %d filter(s)", s.Seccomp.Filters)
	}
	t.row("seccomp", sc)
	lsm := s.LSMLabel
	if lsm == "" {
		lsm = "none"
	}
	t.row("lsm label", lsm)
}

func (t *table) filesystem(r *Report) {
	fs := r.Filesystem
	ro := "writable"
	if fs.Root.ReadOnly {
		ro = "read-only"
	}
	method := fs.Root.Method
	if fs.Root.HiddenMounts > 0 {
		method += fmt.Sprintf(" (%d mounts of its namespace outside it)", fs.Root.HiddenMounts)
	}
	t.row("root", fmt.Sprintf("%s, %s (%s, %s)", method, fs.Root.Source, fs.Root.FSType, ro))
	// Host mounts: each one of a disk's by name; the read-only
	// instances of pseudo file systems (a container's cgroup
	// hierarchies, on a v1 host) only counted, by type.
	label := "host mounts"
	pseudo := map[string]int{}
	var types []string
	for _, m := range fs.Mounts {
		if !m.Host || isMask(m, nil) {
			continue
		}
		if m.ReadOnly && pseudoFS[m.FSType] {
			if pseudo[m.FSType] == 0 {
				types = append(types, m.FSType)
			}
			pseudo[m.FSType]++
			continue
		}
		rw := "rw"
		if m.ReadOnly {
			rw = "ro"
		}
		t.indented(label, "  ", fmt.Sprintf("%s from %s (%s, %s, %s)", m.Destination, m.Root, m.FSType, rw, m.Propagation))
		label = ""
	}
	if len(types) > 0 {
		var n []string
		for _, ty := range types {
			n = append(n, fmt.Sprintf("%d %s", pseudo[ty], ty))
		}
		t.row(label, "read-only: "+strings.Join(n, ", "))
		label = ""
	}
	if label != "" {
		t.row(label, "none")
	}
	t.row("masked", pathSummary(fs.MaskedPaths, "masked"))
	t.row("read-only", pathSummary(fs.ReadonlyPaths, "read-only"))
	var def, other []string
	for _, d := range fs.Devices {
		if d.Default {
			def = append(def, strings.TrimPrefix(d.Path, "/dev/"))
		} else {
			other = append(other, fmt.Sprintf("%s (%s %d:%d)", d.Path, d.Type, d.Major, d.Minor))
		}
	}
	devs := fmt.Sprintf("default: %s", orNone(def))
	if len(other) > 0 {
		devs += "; other: " + strings.Join(other, " ")
	}
	t.row("devices", devs)
}

// pathSummary counts the checks by state, the good state first, and
// names the paths in any other state.
func pathSummary(checks []PathCheck, good string) string {
	if len(checks) == 0 {
		return "none asked"
	}
	count := map[string]int{}
	var bad []string
	for _, c := range checks {
		count[c.State]++
		if c.State != good && c.State != "absent" {
			bad = append(bad, c.Path+" ("+c.State+")")
		}
	}
	s := fmt.Sprintf("%d of %d %s", count[good], len(checks), good)
	if count["absent"] > 0 {
		s += fmt.Sprintf(", %d absent", count["absent"])
	}
	if len(bad) > 0 {
		s += "; not: " + strings.Join(bad, " ")
	}
	return s
}

func (t *table) resources(r *Report) {
	res := r.Resources
	if res.Version == "" {
		t.row("cgroup", orNone(nonEmpty(res.Cgroup)))
		return
	}
	t.row("cgroup", fmt.Sprintf("%s (%s, %s)", res.Cgroup, res.Version, res.Driver))
	t.row("memory", fmt.Sprintf("limit %s, %s used", bytesOrNone(res.Memory.Limit), size(res.Memory.Usage)))
	pids := "none"
	if res.Pids.Limit != nil {
		pids = strconv.FormatUint(*res.Pids.Limit, 10)
	}
	t.row("pids", fmt.Sprintf("limit %s, %d now", pids, res.Pids.Usage))
	cpu := "none"
	if q := res.CPU.Quota; q != nil && res.CPU.Period > 0 {
		cpu = fmt.Sprintf("%.2f CPUs (%d/%d us)", float64(*q)/float64(res.CPU.Period), *q, res.CPU.Period)
	}
	t.row("cpu", fmt.Sprintf("limit %s, %.2f s used", cpu, float64(res.CPU.Usage)/1e9))
}

// findings writes the findings, those of one kind that say the same
// why (a privileged container's capabilities) on one line.
func (t *table) findings(r *Report) {
	if len(r.Findings) == 0 {
		t.row("findings", "none")
		return
	}
	t.row("findings", strconv.Itoa(len(r.Findings)))
	type group struct {
		first    Finding
		subjects []string
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, f := range r.Findings {
		key := f.ID + "\x00" + f.Severity + "\x00" + f.Why
		if g, ok := byKey[key]; ok {
			g.subjects = append(g.subjects, f.Subject)
			continue
		}
		g := &group{first: f, subjects: []string{f.Subject}}
		byKey[key] = g
		groups = append(groups, g)
	}
	for _, g := range groups {
		what := g.first.What
		if len(g.subjects) > 1 {
			what = strings.Replace(what, g.first.Subject, strings.Join(g.subjects, " "), 1)
		}
		t.indented("  "+g.first.Severity, "  ", what)
		t.indented("", "  ", "why: "+g.first.Why)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func bytesOrNone(p *uint64) string {
	if p == nil {
		return "none"
	}
	return size(*p)
}

// size writes a byte count in decimal units, as limits are usually
// written (12 MB is 12000000 bytes).
func size(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
