// Package hooks runs runtime-spec lifecycle hooks: the container state JSON
// on stdin, the hook's args and env, and its timeout.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Run runs hooks in order and stops at the first failure, which it
// returns as runc words it ("error running createRuntime hook #0: ...").
// It is for the hooks whose failure is fatal: prestart, createRuntime,
// createContainer, startContainer and (since runtime-spec v1.3.0)
// poststart; poststop hooks go through RunAll.
func Run(kind string, list []specs.Hook, state *specs.State) error {
	return RunIn("", kind, list, state)
}

// RunIn is Run with dir as the hooks' working directory (ours if empty):
// createContainer hooks run in the container's root filesystem, as runc
// runs them.
func RunIn(dir, kind string, list []specs.Hook, state *specs.State) error {
	if len(list) == 0 {
		return nil
	}
	b, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode state for %s hooks: %w", kind, err)
	}
	for i, h := range list {
		if err := runOne(h, b, dir); err != nil {
			return fmt.Errorf("error running %s hook #%d: %w", kind, i, err)
		}
	}
	return nil
}

// RunAll runs every hook of the list, failing or not, and returns the
// failures joined (nil if none). It is for poststop hooks: runtime.md
// "Lifecycle" step 13, "If any poststop hook fails, the runtime MUST log
// a warning, but the remaining hooks and lifecycle continue as if the
// hook had succeeded."
func RunAll(kind string, list []specs.Hook, state *specs.State) error {
	if len(list) == 0 {
		return nil
	}
	b, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode state for %s hooks: %w", kind, err)
	}
	var errs []error
	for i, h := range list {
		if err := runOne(h, b, ""); err != nil {
			errs = append(errs, fmt.Errorf("error running %s hook #%d: %w", kind, i, err))
		}
	}
	return errors.Join(errs...)
}

// onlyStdio marks every fd of ours from 3 on close-on-exec, so that a
// hook gets its stdio and nothing else (security issue 11.9): a hook run
// by init would otherwise inherit init's sync socket, log pipe, exec
// fifo and seccomp listener, and one run by the CLI the fds its caller
// left open. A hook is a program of the user's or of the image
// (startContainer): it gets no handle on the runtime. Whoever passes fds
// on later (init to the user's process, --preserve-fds) gives them back
// explicitly: see nsexec's finalExec.
func onlyStdio() error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("hooks: close-on-exec: %w", err)
	}
	return nil
}

func runOne(h specs.Hook, state []byte, dir string) error {
	if err := onlyStdio(); err != nil {
		return err
	}
	ctx := context.Background()
	var timeout time.Duration
	if h.Timeout != nil {
		timeout = time.Duration(*h.Timeout) * time.Second
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Args = Argv(h)
	cmd.Dir = dir
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = bytes.NewReader(state)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A hook that forks a child holding stdout open must not keep us
	// waiting past the kill.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return TimeoutError(h)
	}
	if err != nil {
		return Failed(err, stdout.String(), stderr.String())
	}
	return nil
}

// Argv is h's argv: its args, or its path alone.
func Argv(h specs.Hook) []string {
	if len(h.Args) == 0 {
		return []string{h.Path}
	}
	return h.Args
}

// TimeoutError is runc's words for h killed at its timeout.
func TimeoutError(h specs.Hook) error {
	return fmt.Errorf("hook ran past specified timeout of %.1fs", float64(*h.Timeout))
}

// Failed is runc's words for a hook that failed with err ("exit status
// 1", "signal: killed"), and what it printed.
func Failed(err error, stdout, stderr string) error {
	return fmt.Errorf("%w, stdout: %s, stderr: %s", err, stdout, stderr)
}
