package libsandbox

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandbox-runtime/sandbox-runtime/internal/procattr"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
)

// execProcAttrs gives an exec'd process its per-task attributes, as
// runc's setns init does: its own process.scheduler, process.ioPriority
// and process.execCPUAffinity (the container's process's when it sets
// none: withContainerDefaults), and the container's linux.personality
// and linux.memoryPolicy. All were checked by checkProcess and at create.
func execProcAttrs(rp *rawfork.Process, proc *specs.Process, l *specs.Linux) error {
	var err error
	if proc.Scheduler != nil {
		if rp.Sched, err = procattr.Scheduler(proc.Scheduler); err != nil {
			return err
		}
	}
	if proc.IOPriority != nil {
		if rp.IOPrio, err = procattr.IOPriority(proc.IOPriority); err != nil {
			return err
		}
	}
	if a := proc.ExecCPUAffinity; a != nil {
		if rp.InitialCPUs, err = procattr.List(a.Initial); err != nil {
			return fmt.Errorf("process.execCPUAffinity.initial %q: %w", a.Initial, err)
		}
		if rp.FinalCPUs, err = procattr.List(a.Final); err != nil {
			return fmt.Errorf("process.execCPUAffinity.final %q: %w", a.Final, err)
		}
	}
	if l == nil {
		return nil
	}
	if l.Personality != nil {
		if rp.Persona, err = procattr.Personality(l.Personality); err != nil {
			return err
		}
		rp.SetPersona = true
	}
	if l.MemoryPolicy != nil {
		if rp.Mempolicy, err = procattr.MemoryPolicy(l.MemoryPolicy); err != nil {
			return err
		}
	}
	return nil
}

// procAttrDefaults: an exec'd process without its own scheduler, I/O
// priority or execCPUAffinity gets the container's process's (runc's
// newSetnsProcess starts from the container's config).
func procAttrDefaults(p, base *specs.Process) {
	if p.Scheduler == nil {
		p.Scheduler = base.Scheduler
	}
	if p.IOPriority == nil {
		p.IOPriority = base.IOPriority
	}
	if p.ExecCPUAffinity == nil {
		p.ExecCPUAffinity = base.ExecCPUAffinity
	}
}
