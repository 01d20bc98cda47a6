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
)

// Run runs hooks in order and stops at the first failure, which it
// returns as runc words it ("error running createRuntime hook #0: ...").
// The caller applies the runtime spec's rule for that kind of hook
// (fatal for prestart/createRuntime/createContainer/startContainer, a
// warning for poststart/poststop).
func Run(kind string, list []specs.Hook, state *specs.State) error {
	if len(list) == 0 {
		return nil
	}
	b, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode state for %s hooks: %w", kind, err)
	}
	for i, h := range list {
		if err := runOne(h, b); err != nil {
			return fmt.Errorf("error running %s hook #%d: %w", kind, i, err)
		}
	}
	return nil
}

func runOne(h specs.Hook, state []byte) error {
	ctx := context.Background()
	var timeout time.Duration
	if h.Timeout != nil {
		timeout = time.Duration(*h.Timeout) * time.Second
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	args := h.Args
	if len(args) == 0 {
		args = []string{h.Path}
	}
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Args = args
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
		return fmt.Errorf("hook ran past specified timeout of %.1fs", timeout.Seconds())
	}
	if err != nil {
		return fmt.Errorf("%w, stdout: %s, stderr: %s", err, stdout.String(), stderr.String())
	}
	return nil
}
