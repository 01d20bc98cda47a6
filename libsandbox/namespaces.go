package libsandbox

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// nsFlags maps runtime-spec namespace types to CLONE_NEW* flags.
var nsFlags = map[specs.LinuxNamespaceType]int{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// NamespaceTypes lists the namespace types this runtime supports.
func NamespaceTypes() []string {
	return []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}
}

// join is a namespace to enter by path.
type join struct {
	typ  specs.LinuxNamespaceType
	flag int
	path string
	f    *os.File
}

// nsPlan is linux.namespaces worked out: which to create, which to join.
type nsPlan struct {
	create int // CLONE_NEW* flags of namespaces to create
	joins  []join
}

// joinOf returns the join of namespace type t, if t is joined.
func (p *nsPlan) joinOf(t specs.LinuxNamespaceType) (join, bool) {
	for _, j := range p.joins {
		if j.typ == t {
			return j, true
		}
	}
	return join{}, false
}

func (p *nsPlan) has(t specs.LinuxNamespaceType) bool {
	if p.create&nsFlags[t] != 0 {
		return true
	}
	for _, j := range p.joins {
		if j.typ == t {
			return true
		}
	}
	return false
}

func (p *nsPlan) joined(t specs.LinuxNamespaceType) bool {
	_, ok := p.joinOf(t)
	return ok
}

func (p *nsPlan) close() {
	for _, j := range p.joins {
		if j.f != nil {
			j.f.Close()
		}
	}
}

// planNamespaces checks linux.namespaces and opens the paths to join. A
// path must name a namespace of the declared type (NS_GET_NSTYPE).
func planNamespaces(list []specs.LinuxNamespace) (_ *nsPlan, retErr error) {
	p := &nsPlan{}
	defer func() {
		if retErr != nil {
			p.close()
		}
	}()
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range list {
		flag, ok := nsFlags[ns.Type]
		if !ok {
			return nil, fmt.Errorf("linux.namespaces[%d].type: unknown namespace type %q", i, ns.Type)
		}
		if seen[ns.Type] {
			return nil, fmt.Errorf("linux.namespaces[%d]: duplicate namespace %q", i, ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path == "" {
			p.create |= flag
			continue
		}
		f, err := os.Open(ns.Path)
		if err != nil {
			return nil, fmt.Errorf("linux.namespaces[%d].path: %w", i, err)
		}
		typ, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
		if err != nil || typ != flag {
			f.Close()
			return nil, fmt.Errorf("linux.namespaces[%d].path: %s is not a %s namespace", i, ns.Path, ns.Type)
		}
		p.joins = append(p.joins, join{typ: ns.Type, flag: flag, path: ns.Path, f: f})
	}
	return p, nil
}
