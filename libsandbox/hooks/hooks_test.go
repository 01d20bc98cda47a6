package hooks

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The test binary is its own hook: run as argv[0] helperName it does what
// its last arguments say and exits. argv[0] rather than the usual
// GO_WANT_HELPER_PROCESS, so that the hook's environment is exactly the
// one under test, empty included.
func TestMain(m *testing.M) {
	if os.Args[0] == helperName {
		os.Exit(helper(os.Args))
	}
	os.Exit(m.Run())
}

const helperName = "hook-helper"

// seen is what a hook received.
type seen struct {
	Args  []string
	Env   []string
	Stdin string
}

func helper(args []string) int {
	action, rest := args[len(args)-2], args[len(args)-1]
	switch action {
	case "dump": // write what we got to the file rest
		in, _ := io.ReadAll(os.Stdin)
		b, _ := json.Marshal(seen{Args: args, Env: os.Environ(), Stdin: string(in)})
		if err := os.WriteFile(rest, b, 0o600); err != nil {
			return 10
		}
		return 0
	case "fail": // exit with status rest after writing to both streams
		fmt.Println("some output")
		fmt.Fprintln(os.Stderr, "oops: no such widget")
		n, _ := strconv.Atoi(rest)
		return n
	case "sleep":
		d, _ := time.ParseDuration(rest)
		time.Sleep(d)
		return 0
	}
	return 20
}

func self(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func hook(t *testing.T, action, arg string) specs.Hook {
	return specs.Hook{Path: self(t), Args: []string{helperName, action, arg}}
}

func readSeen(t *testing.T, name string) seen {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("the hook did not run: %v", err)
	}
	var s seen
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func testState() *specs.State {
	return &specs.State{
		Version: specs.Version, ID: "c1", Status: specs.StateCreated, Pid: 4242,
		Bundle: "/run/bundles/c1", Annotations: map[string]string{"a": "b"},
	}
}

func TestRunStateOnStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "seen.json")
	state := testState()
	if err := Run("prestart", []specs.Hook{hook(t, "dump", out)}, state); err != nil {
		t.Fatalf("Run: %v", err)
	}
	s := readSeen(t, out)
	var got specs.State
	if err := json.Unmarshal([]byte(s.Stdin), &got); err != nil {
		t.Fatalf("stdin of the hook: %q is not JSON: %v", s.Stdin, err)
	}
	if !reflect.DeepEqual(&got, state) {
		t.Errorf("state on stdin: got %+v, want %+v", got, *state)
	}
}

func TestRunArgsAndEnv(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"given env", []string{"A=1", "B=two words", "EMPTY=", "PATH=/nowhere"}},
		// Nothing of the runtime's environment leaks into a hook.
		{"no env", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RUNTIME_SECRET", "must-not-leak")
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			h := specs.Hook{Path: self(t), Args: []string{helperName, "--flag", "dump", out}, Env: tc.env}
			if err := Run("createRuntime", []specs.Hook{h}, testState()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			s := readSeen(t, out)
			if len(s.Env) != len(tc.env) || len(tc.env) > 0 && !reflect.DeepEqual(s.Env, tc.env) {
				t.Errorf("env: got %q, want exactly %q", s.Env, tc.env)
			}
			if want := h.Args; !reflect.DeepEqual(s.Args, want) {
				t.Errorf("args: got %q, want %q (args[0] included)", s.Args, want)
			}
		})
	}
}

// With no args, argv[0] is the path (the runtime spec leaves args
// optional). A shell script shows it: $0 is what the kernel ran.
func TestRunNoArgs(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hook.sh")
	out := filepath.Join(dir, "out")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$0 $#\" > "+out+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Run("poststart", []specs.Hook{{Path: script}}, testState()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the hook did not run: %v", err)
	}
	if got, want := strings.TrimSpace(string(b)), script+" 0"; got != want {
		t.Errorf("$0 and $#: got %q, want %q", got, want)
	}
}

func TestRunFailing(t *testing.T) {
	err := Run("prestart", []specs.Hook{hook(t, "fail", "3")}, testState())
	if err == nil {
		t.Fatal("Run of a failing hook: got nil error, want one")
	}
	for _, want := range []string{"error running prestart hook #0", "exit status 3", "oops: no such widget", "some output"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error: got %q, want it to contain %q", err, want)
		}
	}
}

// Hooks run in order and the first failure stops the rest.
func TestRunStopsAtFirstFailure(t *testing.T) {
	dir := t.TempDir()
	first, third := filepath.Join(dir, "first"), filepath.Join(dir, "third")
	list := []specs.Hook{hook(t, "dump", first), hook(t, "fail", "1"), hook(t, "dump", third)}
	err := Run("createContainer", list, testState())
	if err == nil || !strings.Contains(err.Error(), "error running createContainer hook #1") {
		t.Errorf("error: got %v, want one naming createContainer hook #1", err)
	}
	if _, err := os.Stat(first); err != nil {
		t.Errorf("hook #0: did not run (%v), want it run", err)
	}
	if _, err := os.Stat(third); err == nil {
		t.Errorf("hook #2: ran, want it not run after #1 failed")
	}
}

// RunAll runs every hook, after a failure too, and reports each failure.
func TestRunAllGoesOnAfterFailures(t *testing.T) {
	dir := t.TempDir()
	first, third := filepath.Join(dir, "first"), filepath.Join(dir, "third")
	list := []specs.Hook{hook(t, "fail", "1"), hook(t, "dump", first), hook(t, "fail", "2"), hook(t, "dump", third)}
	err := RunAll("poststop", list, testState())
	if err == nil {
		t.Fatal("RunAll with failing hooks: got nil error, want one")
	}
	for _, want := range []string{"error running poststop hook #0", "exit status 1", "error running poststop hook #2", "exit status 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error: got %q, want it to contain %q", err, want)
		}
	}
	for _, f := range []string{first, third} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("hook after a failure: did not run (%v), want it run", err)
		}
	}
	if err := RunAll("poststop", list[1:2], testState()); err != nil {
		t.Errorf("RunAll of a good hook: got %v, want nil", err)
	}
}

func TestRunMissingHook(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	err := Run("poststop", []specs.Hook{{Path: missing}}, testState())
	if err == nil || !strings.Contains(err.Error(), "error running poststop hook #0") || !strings.Contains(err.Error(), missing) {
		t.Errorf("error: got %v, want one naming poststop hook #0 and %s", err, missing)
	}
}

func TestRunNone(t *testing.T) {
	if err := Run("prestart", nil, nil); err != nil {
		t.Errorf("Run with no hooks: got %v, want nil", err)
	}
}

func TestRunTimeout(t *testing.T) {
	h := hook(t, "sleep", "30s")
	h.Timeout = new(int)
	*h.Timeout = 1
	start := time.Now()
	err := Run("prestart", []specs.Hook{h}, testState())
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("Run of a hook past its timeout: got nil error, want one")
	}
	if !strings.Contains(err.Error(), "error running prestart hook #0") || !strings.Contains(err.Error(), "timeout of 1.0s") {
		t.Errorf("error: got %q, want it to name the hook and the 1.0s timeout", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("Run returned after %v, want about 1s", elapsed)
	}
}

// A hook that leaves a child holding its stdout must not keep Run
// waiting past the timeout. Only the hook itself is killed (as in runc),
// so the test kills the child it left.
func TestRunTimeoutChildHoldsStdout(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	t.Cleanup(func() {
		b, err := os.ReadFile(pidfile)
		if err != nil {
			return
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			unix.Kill(pid, unix.SIGKILL)
		}
	})
	h := specs.Hook{
		Path:    "/bin/sh",
		Args:    []string{"sh", "-c", `/bin/sleep 30 & echo $! > "$0"; exec /bin/sleep 30`, pidfile},
		Timeout: new(int),
	}
	*h.Timeout = 1
	start := time.Now()
	err := Run("prestart", []specs.Hook{h}, testState())
	elapsed := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("error: got %v, want one about the timeout", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("Run returned after %v, want about 2s (timeout plus WaitDelay)", elapsed)
	}
}
