package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// CheckMembers checks that each thread of tids is in the container's
// cgroup, or in one below it, in every hierarchy. It reads the thread
// lists ("tasks" on v1, "cgroup.threads" on v2) of the container's own
// directories and their sub-cgroups the way the drivers reach them (at):
// through the directory create made, whatever its path names now.
//
// It is restore's check of where CRIU put what it restored: CRIU places
// the processes by path (the cgroup it was itself entered into, as named
// in its /proc/PID/cgroup), and on v1 the owner of a delegated parent can
// rename another cgroup to that path meanwhile (cgroup1_rename) and back
// before anyone looks. It cannot move root's processes out again (v1
// asks the writer to own them), so what this reads while they wait in
// CRIU's restorer holds once they run, unless they run as that owner's
// uid, as it would for a created container. (cgroup2 has no rename; and
// its delegation lets that owner move any process of its subtree.)
func (st *State) CheckMembers(tids []int) error {
	dirs := sortedDirs(st.V1)
	if st.V2 != "" {
		dirs = append(dirs, st.V2)
	}
	for _, d := range dirs {
		in, err := threadsBelow(st.at(d))
		if err != nil {
			return fmt.Errorf("cgroup %s: %w", d, err)
		}
		for _, t := range tids {
			if !in[t] {
				return fmt.Errorf("cgroup %s: thread %d is not in it, nor below it: placed in another cgroup (one renamed to its path by the owner of a parent?)", d, t)
			}
		}
	}
	return nil
}

// threadsBelow returns the threads of dir and its sub-cgroups.
func threadsBelow(dir string) (map[int]bool, error) {
	in := map[int]bool{}
	err := eachCgroup(dir, func(p string) error {
		b, err := readRaw(filepath.Join(p, "cgroup.threads"))
		if errors.Is(err, unix.ENOENT) {
			b, err = readRaw(filepath.Join(p, "tasks"))
		}
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				in[n] = true
			}
		}
		return nil
	})
	return in, err
}

// eachCgroup calls f on dir and on each cgroup below it, parents first.
// An error at dir itself (from the walk or from f) ends the walk and is
// returned, its path as the state names it (shown); below dir, a cgroup
// removed meanwhile, or one f fails on, is passed over.
func eachCgroup(dir string, f func(p string) error) error {
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			if !d.IsDir() {
				return nil
			}
			err = f(p)
		}
		if err != nil && p != dir {
			return nil
		}
		return err
	})
	var pe *os.PathError
	if errors.As(err, &pe) {
		pe.Path = shown(pe.Path)
	}
	return err
}
