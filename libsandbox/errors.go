// Package libsandbox creates and manages containers from OCI bundles: the
// library behind the sandbox-runtime command.
package libsandbox

import "errors"

// Errors callers check with errors.Is. Their text is runc's, because
// clients (containerd, podman, CRI-O) match it.
var (
	ErrExist      = errors.New("container with given ID already exists")
	ErrInvalidID  = errors.New("invalid container ID format")
	ErrNotExist   = errors.New("container does not exist")
	ErrNotRunning = errors.New("container not running")
	ErrPaused     = errors.New("container paused")
	ErrNotPaused  = errors.New("container not paused")
	ErrRunning    = errors.New("container is running")
	ErrNotCreated = errors.New("container is not created")
)
