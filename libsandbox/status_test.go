package libsandbox

import (
	"errors"
	"testing"
)

// Every (op, status) pair: allowed, or refused in runc's words around the
// right sentinel.
func TestGates(t *testing.T) {
	all := []Status{Creating, Created, Running, Paused, Stopped}
	type want struct {
		msg      string
		sentinel error
	}
	ok := want{}
	for _, tc := range []struct {
		op   op
		name string
		want map[Status]want
	}{
		{opStart, "start", map[Status]want{
			Creating: {"cannot start a container in the creating state", ErrNotCreated},
			Created:  ok,
			Running:  {"cannot start an already running container", ErrRunning},
			Paused:   {"cannot start a container in the paused state", ErrNotCreated},
			Stopped:  {"cannot start a container that has stopped", ErrNotRunning},
		}},
		{opExec, "exec", map[Status]want{
			Creating: {"cannot exec in a creating container: container not running", ErrNotRunning},
			Created:  ok, Running: ok,
			Paused:  {"cannot exec in a paused container (use --ignore-paused to override)", ErrPaused},
			Stopped: {"cannot exec in a stopped container: container not running", ErrNotRunning},
		}},
		{opExecIgnorePaused, "exec --ignore-paused", map[Status]want{
			Creating: {"cannot exec in a creating container: container not running", ErrNotRunning},
			Created:  ok, Running: ok, Paused: ok,
			Stopped: {"cannot exec in a stopped container: container not running", ErrNotRunning},
		}},
		{opPause, "pause", map[Status]want{
			Creating: {"container not running", ErrNotRunning},
			Created:  ok, Running: ok,
			Paused:  {"container c1 is already paused", ErrPaused},
			Stopped: {"container not running", ErrNotRunning},
		}},
		{opResume, "resume", map[Status]want{
			Creating: {"container not paused", ErrNotPaused}, Created: {"container not paused", ErrNotPaused},
			Running: {"container not paused", ErrNotPaused}, Paused: ok, Stopped: {"container not paused", ErrNotPaused},
		}},
		{opUpdate, "update", map[Status]want{
			Creating: {"container not running", ErrNotRunning}, Created: ok, Running: ok, Paused: ok,
			Stopped: {"container not running", ErrNotRunning},
		}},
		{opSignal, "kill", map[Status]want{
			Creating: {"container not running", ErrNotRunning}, Created: ok, Running: ok, Paused: ok,
			Stopped: {"container not running", ErrNotRunning},
		}},
		{opStats, "events --stats", map[Status]want{
			Creating: ok, Created: ok, Running: ok, Paused: ok, Stopped: {"container not running", ErrNotRunning},
		}},
	} {
		g := gates[tc.op]
		for _, st := range all {
			w := tc.want[st]
			allowed := false
			for _, s := range g.allow {
				allowed = allowed || s == st
			}
			if w == ok {
				if !allowed {
					t.Errorf("%s in %s: refused, want allowed", tc.name, st)
				}
				continue
			}
			if allowed {
				t.Errorf("%s in %s: allowed, want %q", tc.name, st, w.msg)
				continue
			}
			err := g.refuse("c1", st)
			if err.Error() != w.msg || !errors.Is(err, w.sentinel) {
				t.Errorf("%s in %s: got %q (%v), want %q around %v", tc.name, st, err, errors.Is(err, w.sentinel), w.msg, w.sentinel)
			}
		}
	}
}
