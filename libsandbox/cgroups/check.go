package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// What cgroup a container may be given (security review, issue 11 item
// 5). A container's cgroup is the runtime's to write: its limits, its
// device rules (on v2 an eBPF program attached to it, which applies to
// every cgroup below it too), and delete kills everything in it and
// removes it. Given a cgroup that holds others' processes, or that
// others made, the container would take it over: a cgroupsPath of ".."
// resolved to the parent of the runtime's own cgroup, whose sibling
// cgroups then lost their devices and whose processes died with the
// container.
//
// runc 1.5 refuses a cgroup with processes anywhere in it ("container's
// cgroup is not empty") and a frozen one ("container's cgroup
// unexpectedly frozen"), in libcontainer/factory_linux.go:58-88, but
// takes an existing empty one, writes its limits and device rules there
// and, at delete, removes it (fs2 Manager.Destroy, fs Manager.Destroy:
// cgroups.RemovePath, which removes sub-cgroups too), made by whoever
// made it. We refuse an existing cgroup instead: we cannot keep a
// directory we did not make and also promise that nothing we wrote into
// it (limits, devices.list, device programs) outlives the container,
// short of undoing every write, and delete must remove only what we
// made. A manager that wants a cgroup of its own for a container makes
// the parent, and the container's cgroup is made below it.
//
// The one write into cgroups we did not make is the delegation of
// controllers, cgroup.subtree_control of the container's ancestors on v2
// (enableControllers), which the container's limits need; runc makes it
// too (fs2 CreateCgroupPath) and neither undoes it.

// Check refuses, before anything is made on the host, a cgroup the
// container must not be given: path (linux.cgroupsPath as the spec has
// it) resolved to st's directories. Errors name linux.cgroupsPath.
func (h *Host) Check(path string, st *State) error {
	if err := h.checkOwn(path, st); err != nil {
		return err
	}
	return checkTaken(st)
}

// checkOwn refuses a cgroup that is the runtime's own cgroup or one of
// its ancestors, a hierarchy's root included: "..", "." and "a/..",
// cleaned, are the base a relative path starts from (see v2Dir and
// v1Dir), and "/" is the root. Such a cgroup holds the runtime and
// whatever runs beside it. checkTaken would find its processes too,
// unless the runtime cannot see them all (a cgroup namespace hides the
// cgroups above its root); this also says why.
func (h *Host) checkOwn(path string, st *State) error {
	refuse := func(dir, own string) error {
		return fmt.Errorf("linux.cgroupsPath %q resolves to %s, which contains the runtime's own cgroup %s: a container needs a cgroup of its own", path, dir, own)
	}
	if st.V2 != "" {
		own := filepath.Join(h.V2, h.Own[""]) // the root when not known
		if within(own, st.V2) {
			return refuse(st.V2, own)
		}
	}
	for _, m := range h.V1 {
		dir, ok := st.V1[m.Key()]
		if !ok {
			continue
		}
		ownPath, ok := h.Own[m.Key()]
		if !ok {
			ownPath = "/"
		}
		if own := h.v1Dir(m, ownPath); within(own, dir) {
			return refuse(dir, own)
		}
	}
	return nil
}

// within reports whether d is dir or below it.
func within(d, dir string) bool {
	return d == dir || strings.HasPrefix(d, dir+"/")
}

// checkTaken refuses a cgroup that already exists: first, in runc's
// words, one with processes anywhere in it or a frozen one (the runtime
// used to wait forever for an init placed in a frozen cgroup), then any
// other. A cgroup below a frozen one is frozen as soon as it is made,
// so the nearest ancestor that exists counts too. Create checks again:
// the check before create made anything does not hold it.
//
// It runs twice on every create, so it looks once at each directory
// (one that is not there holds no process and is not taken), and for a
// freeze only where one can be (st.freezable): a v1 hierarchy without
// the freezer has neither cgroup.freeze nor freezer.state.
func checkTaken(st *State) error {
	dirs := st.dirs()
	var there []string
	for _, d := range dirs {
		// The look pidsRecursive's walk makes first (an lstat), so
		// that an error is worded as before.
		if _, err := os.Lstat(d); errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("linux.cgroupsPath: unable to get cgroup PIDs: %w", err)
		}
		there = append(there, d)
		pids, err := pidsRecursive(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("linux.cgroupsPath: unable to get cgroup PIDs: %w", err)
		}
		if len(pids) > 0 {
			return fmt.Errorf("linux.cgroupsPath: container's cgroup is not empty: %d process(es) found (in %s)", len(pids), d)
		}
	}
	for _, d := range st.freezable() {
		if f := frozenAt(d); f != "" {
			return fmt.Errorf("linux.cgroupsPath: container's cgroup unexpectedly frozen (%s is frozen)", f)
		}
	}
	if len(there) > 0 {
		return fmt.Errorf("linux.cgroupsPath: cgroup %s already exists; a container gets a cgroup the runtime makes itself (and removes at delete), never one that was there before", there[0])
	}
	return nil
}

// freezable returns the container's directories that a freezer can
// hold: the v1 freezer hierarchy's (as freezer.go finds it) and the v2
// one.
func (st *State) freezable() []string {
	var out []string
	if key, ok := st.V1Controllers["freezer"]; ok && st.V1[key] != "" {
		out = append(out, st.V1[key])
	}
	if st.V2 != "" {
		out = append(out, st.V2)
	}
	return out
}

// dirs returns the container's directory in every hierarchy, in a fixed
// order (the v1 ones sorted, then the v2 one).
func (st *State) dirs() []string {
	dirs := make([]string, 0, len(st.V1)+1)
	for _, d := range st.V1 {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	if st.V2 != "" {
		dirs = append(dirs, st.V2)
	}
	return dirs
}

// frozenAt returns the cgroup that would keep a process in dir frozen:
// on v2 dir or any ancestor with cgroup.freeze 1 (the kernel freezes a
// cgroup when it or an ancestor asks), on v1 dir or its nearest existing
// ancestor in FROZEN or FREEZING (a v1 cgroup's freezer.state says
// FROZEN when its parent is). Directories that do not exist yet are
// skipped; the walk ends at the first existing one without either file
// (a hierarchy's root, or a v1 hierarchy without the freezer).
func frozenAt(dir string) string {
	if !filepath.IsAbs(dir) {
		return "" // never the working directory
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			if v, err := read(d, "cgroup.freeze"); err == nil {
				if v == "1" {
					return d
				}
			} else if v, err := read(d, "freezer.state"); err == nil {
				if V1Frozen(v) {
					return d
				}
			} else {
				return ""
			}
		}
		if d == "/" || d == "." {
			return ""
		}
	}
}

// made reports whether the runtime made dir for this container (Claim
// or mkdirAll recorded it).
func (st *State) made(dir string) bool {
	for _, d := range st.Created {
		if d == dir {
			return true
		}
	}
	return false
}
