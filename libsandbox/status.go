package libsandbox

import "fmt"

// op is something done to a container that its status may forbid.
type op int

const (
	opStart op = iota
	opExec
	opExecIgnorePaused
	opPause
	opResume
	opUpdate
	opSignal
	opStats
)

// gates says, for each op, the statuses it is allowed in and how it
// refuses the others: runc's words (clients and scripts match them),
// around one of the sentinels of errors.go for errors.Is. The one place
// where the status transitions of the verbs are written down (delete's
// --force rule is Destroy's own: it is not a refusal).
var gates = map[op]struct {
	allow  []Status
	refuse func(id string, st Status) error
}{
	opStart: {[]Status{Created}, func(id string, st Status) error {
		switch st {
		case Stopped:
			return refusal(ErrNotRunning, "cannot start a container that has stopped")
		case Running:
			return refusal(ErrRunning, "cannot start an already running container")
		}
		return refusal(ErrNotCreated, "cannot start a container in the %s state", st)
	}},
	opExec: {[]Status{Created, Running}, func(id string, st Status) error {
		if st == Paused {
			return refusal(ErrPaused, "cannot exec in a paused container (use --ignore-paused to override)")
		}
		return refusal(ErrNotRunning, "cannot exec in a %s container: %v", st, ErrNotRunning)
	}},
	opExecIgnorePaused: {[]Status{Created, Running, Paused}, func(id string, st Status) error {
		return refusal(ErrNotRunning, "cannot exec in a %s container: %v", st, ErrNotRunning)
	}},
	opPause: {[]Status{Created, Running}, func(id string, st Status) error {
		if st == Paused {
			return refusal(ErrPaused, "container %s is already paused", id)
		}
		return ErrNotRunning
	}},
	opResume: {[]Status{Paused}, func(string, Status) error { return ErrNotPaused }},
	opUpdate: {[]Status{Created, Running, Paused}, func(string, Status) error { return ErrNotRunning }},
	opSignal: {[]Status{Created, Running, Paused}, func(string, Status) error { return ErrNotRunning }},
	opStats:  {[]Status{Created, Running, Paused, Creating}, func(string, Status) error { return ErrNotRunning }},
}

// require returns the container's status now if o is allowed in it, or
// o's refusal.
func (c *Container) require(o op) (Status, error) {
	st := c.Status()
	g := gates[o]
	for _, s := range g.allow {
		if s == st {
			return st, nil
		}
	}
	return st, g.refuse(c.id, st)
}

// statusError is a refusal in runc's words that errors.Is matches to a
// sentinel.
type statusError struct {
	msg      string
	sentinel error
}

func (e *statusError) Error() string { return e.msg }
func (e *statusError) Unwrap() error { return e.sentinel }

func refusal(sentinel error, format string, args ...any) error {
	return &statusError{msg: fmt.Sprintf(format, args...), sentinel: sentinel}
}
