package libsandbox

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/intelrdt"
)

// resctrlRoot is where linux.intelRdt's groups are (see package
// intelrdt).
var resctrlRoot = intelrdt.DefaultRoot

// checkIntelRdt checks linux.intelRdt before anything is made, the host's
// resctrl included: the spec wants an error where none is mounted.
func checkIntelRdt(rdt *specs.LinuxIntelRdt) error {
	if rdt == nil {
		return nil
	}
	if err := intelrdt.Check(rdt); err != nil {
		return err
	}
	_, err := intelrdt.Root(resctrlRoot)
	return err
}

// intelRdtStep is create's step: init is put in its resctrl group before
// it runs anything of the user's, and the state names the group at once,
// so that a delete --force after a create that died removes it.
func (cr *creation) intelRdtStep() (func(), error) {
	rdt := cr.spec.Linux.IntelRdt
	if rdt == nil {
		return nil, nil
	}
	st, err := intelrdt.Apply(resctrlRoot, cr.id, rdt, cr.c.state.InitPid)
	if err != nil {
		return nil, err
	}
	cr.c.state.IntelRdt = st
	undo := func() { intelrdt.Destroy(st) }
	if err := writeState(cr.dir, cr.c.state); err != nil {
		return undo, err
	}
	return undo, nil
}

// rdtPause adds, to an exec's pause (prev, may be nil), putting the first
// child in the container's resctrl group: the process it forks inherits
// the group.
func rdtPause(prev func(int) error, st *intelrdt.State) func(int) error {
	return func(pid int) error {
		if prev != nil {
			if err := prev(pid); err != nil {
				return err
			}
		}
		return intelrdt.Enter(st, pid)
	}
}
