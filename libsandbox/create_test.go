package libsandbox

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runSteps undoes, in reverse order, what the steps before a failing one
// made, and the failing step's own partial work, and nothing after it.
func TestRunSteps(t *testing.T) {
	var log []string
	mk := func(name string, fail, undoOnFail bool) step {
		return step{name: name, do: func() (func(), error) {
			log = append(log, "do "+name)
			undo := func() { log = append(log, "undo "+name) }
			if fail {
				if undoOnFail {
					return undo, errors.New(name + " failed")
				}
				return nil, errors.New(name + " failed")
			}
			return undo, nil
		}}
	}
	noUndo := step{name: "plain", do: func() (func(), error) { log = append(log, "do plain"); return nil, nil }}
	for _, tc := range []struct {
		name  string
		steps []step
		err   string
		want  []string
	}{
		{"all succeed: nothing undone", []step{mk("a", false, false), mk("b", false, false)}, "",
			[]string{"do a", "do b"}},
		{"the third fails: the first two undone, last first", []step{mk("a", false, false), noUndo, mk("b", false, false), mk("c", true, false), mk("d", false, false)}, "c failed",
			[]string{"do a", "do plain", "do b", "do c", "undo b", "undo a"}},
		{"a step that fails half-way undoes its part first", []step{mk("a", false, false), mk("b", true, true)}, "b failed",
			[]string{"do a", "do b", "undo b", "undo a"}},
		{"the first fails: nothing to undo", []step{mk("a", true, false), mk("b", false, false)}, "a failed",
			[]string{"do a"}},
	} {
		log = nil
		err := runSteps("t", tc.steps)
		if (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("%s: got error %v, want %q", tc.name, err, tc.err)
		}
		if !reflect.DeepEqual(log, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, log, tc.want)
		}
	}
}

// Create's failures before init exists leave nothing behind, and the
// state directory of an ID in use is not touched. These need no root:
// they fail before anything of the host's is made.
func TestCreateFailsLeavingNothing(t *testing.T) {
	root := t.TempDir()
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	good := func() *specs.Spec {
		return &specs.Spec{
			Version: specs.Version,
			Root:    &specs.Root{Path: "rootfs"},
			Process: &specs.Process{Args: []string{"true"}, Cwd: "/"},
			Linux:   &specs.Linux{},
		}
	}
	// An ID already in use: its directory stays as it was.
	inUse := filepath.Join(root, "taken")
	if err := os.Mkdir(inUse, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inUse, "marker"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id string
		spec     func() *specs.Spec
		opts     CreateOpts
		err      string
	}{
		{"bad id", "../x", good, CreateOpts{Bundle: bundle}, "invalid container ID"},
		{"bad spec", "c1", func() *specs.Spec { s := good(); s.Process.Args = nil; return s }, CreateOpts{Bundle: bundle}, "process.args"},
		{"terminal, detached, no console socket", "c2", func() *specs.Spec { s := good(); s.Process.Terminal = true; return s }, CreateOpts{Bundle: bundle}, "--console-socket"},
		{"console socket without a terminal", "c3", good, CreateOpts{Bundle: bundle, ConsoleSocket: "/nonexistent.sock"}, "--console-socket: only allowed"},
		{"console socket that is not there", "c4", func() *specs.Spec { s := good(); s.Process.Terminal = true; return s }, CreateOpts{Bundle: bundle, ConsoleSocket: filepath.Join(root, "none.sock")}, "--console-socket"},
		{"ID in use", "taken", good, CreateOpts{Bundle: bundle}, "already exists"},
	} {
		_, err := Create(root, tc.id, tc.spec(), &tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.err)
			continue
		}
		ents, _ := os.ReadDir(root)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if !reflect.DeepEqual(names, []string{"taken"}) {
			t.Errorf("%s: left %q in the root, want only the ID in use", tc.name, names)
		}
	}
	if _, err := os.Stat(filepath.Join(inUse, "marker")); err != nil {
		t.Errorf("the directory of the ID in use was changed: %v", err)
	}
}

// The pids limit, as a field or a unified pids.max, is left out of the
// cgroup's first write and applied later, the unified one after the field.
func TestWithoutPidsAndTasksLimit(t *testing.T) {
	lim := int64(0)
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: &lim},
		Pids:    &specs.LinuxPids{Limit: &lim},
		Unified: map[string]string{"pids.max": "7", "memory.high": "max"},
	}
	w := withoutPids(r)
	if w.Pids != nil || w.Unified["pids.max"] != "" || w.Unified["memory.high"] != "max" || w.Memory == nil {
		t.Errorf("withoutPids = %+v, want memory and memory.high only", w)
	}
	if r.Pids == nil || r.Unified["pids.max"] != "7" {
		t.Errorf("withoutPids changed its argument: %+v", r)
	}
	tl := tasksLimit(r)
	if tl == nil || tl.Pids != r.Pids || len(tl.Unified) != 1 || tl.Unified["pids.max"] != "7" || tl.Memory != nil {
		t.Errorf("tasksLimit = %+v, want the field and the unified pids.max only", tl)
	}
	if tasksLimit(&specs.LinuxResources{Memory: r.Memory}) != nil || withoutPids(nil) != nil {
		t.Error("no pids limit: want nothing to defer")
	}
}
