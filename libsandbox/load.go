package libsandbox

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Load opens an existing container and takes its lock.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	l, err := lock(dir)
	if err != nil {
		return nil, err
	}
	s, err := readState(dir)
	if err != nil {
		l.Close()
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	return &Container{root: root, id: id, dir: dir, state: s, lockf: l}, nil
}

// LoadUnlocked reads a container's state without taking its lock, for
// read-only verbs (state): state.json is replaced atomically, so a read
// never sees half of it.
func LoadUnlocked(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	s, err := readState(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	return &Container{root: root, id: id, dir: dir, state: s}, nil
}

// List returns the containers under root, sorted by ID. A directory
// without a readable state (a create that never got far) is skipped. A
// root that does not exist is an error (errors.Is os.ErrNotExist): the
// caller decides whether that means no containers yet.
//
// Each container costs a state.json decode, a /proc/<pid>/stat read and a
// freezer read; with many containers that is most of list's time, so the
// directories are read by one goroutine per CPU (1000 containers: 150 ms
// one after the other on this 2-CPU host).
func List(root string) ([]*State, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	all := make([]*State, len(ids))
	workers := min(runtime.GOMAXPROCS(0), len(ids)/64+1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				dir := filepath.Join(root, ids[i])
				s, err := readState(dir)
				if err != nil {
					continue
				}
				c := &Container{root: root, id: ids[i], dir: dir, state: s}
				all[i] = c.State()
			}
		}()
	}
	wg.Wait()
	owners := map[uint32]string{}
	var out []*State
	for i, st := range all {
		if st == nil {
			continue
		}
		st.Owner = owner(filepath.Join(root, ids[i]), owners)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
