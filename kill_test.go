package main

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want unix.Signal
	}{
		{"TERM", unix.SIGTERM},
		{"SIGTERM", unix.SIGTERM},
		{"term", unix.SIGTERM},
		{"sigterm", unix.SIGTERM},
		{"SigTerm", unix.SIGTERM},
		{"15", unix.SIGTERM},
		{"KILL", unix.SIGKILL},
		{"9", unix.SIGKILL},
		{"HUP", unix.SIGHUP},
		{"SIGUSR1", unix.SIGUSR1},
		{"usr2", unix.SIGUSR2},
		{"WINCH", unix.SIGWINCH},
		{"STOP", unix.SIGSTOP},
		{"CONT", unix.SIGCONT},
		{"1", unix.SIGHUP},
		// Real-time signals have numbers only.
		{"34", unix.Signal(34)},
		{"64", unix.Signal(64)},
		// 0: a liveness probe.
		{"0", unix.Signal(0)},
	} {
		got, err := parseSignal(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseSignal(%q): got %d (%v), %v; want %d (%v), nil", tc.in, int(got), got, err, int(tc.want), tc.want)
		}
	}
}

func TestParseSignalErrors(t *testing.T) {
	for _, in := range []string{
		"", "-1", "-15", "65", "100", "1.5", "0x0f",
		"FOO", "SIGFOO", "SIG", "SIGSIGTERM", " TERM", "TERM ", "TE RM",
	} {
		got, err := parseSignal(in)
		if err == nil {
			t.Errorf("parseSignal(%q): got %d (%v), nil; want an error", in, int(got), got)
			continue
		}
		if !strings.Contains(err.Error(), "signal") || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("parseSignal(%q): got error %q, want it to name the signal %q", in, err, in)
		}
	}
}
