// Package early re-executes `exec` from a sealed copy of the runtime
// binary before the other packages' initialisers run.
//
// exec must run from a sealed copy (package exeseal: CVE-2019-5736), so
// its first process only re-executes itself. Done from main, that first
// process paid for everything a Go start of this binary does before
// main — unicode's tables, net's and netip's, urfave/cli's, logrus's,
// ~0.8 ms here — and for the command line's parsing, all thrown away by
// the execve. Go initialises packages in import-path order, each once
// its imports are done (the Go spec, "Package initialization"), and
// this package imports only syscall, strconv and sealfd (no unicode,
// no os, no fmt): its init runs after the runtime's, syscall's and a few
// internal packages', before the heavy ones. TestEarlyReexec in package
// main checks that order on the real binary.
//
// It does only the common case and leaves every other one to main's
// path, which does the same with its full error handling: the command
// line it cannot read with certainty (an unknown global flag), a
// mount it cannot make (no overlayfs, no privilege: main falls back to
// a sealed memfd), an execve that fails. The mark in the environment
// (sealfd.SealedEnv, its value our pid) then tells main's path that it
// runs from the sealed copy; it checks that itself before it trusts it.
//
// Nothing here reads anything a container controls: the command line,
// our environment, /proc/self.
package early

import (
	"strconv"
	"syscall"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/exeseal/sealfd"
)

// GlobalFlagsWithValue are the runtime's global flags that take a value
// (the others are booleans); package main's test checks them against
// the CLI's.
var GlobalFlagsWithValue = []string{"log", "log-format", "root", "criu", "rootless"}

// GlobalBoolFlags are the others.
var GlobalBoolFlags = []string{"debug", "systemd-cgroup", "help", "h", "version", "v"}

func init() {
	if _, marked := syscall.Getenv(sealfd.SealedEnv); marked {
		return // re-executed already, or main's path will deal with it
	}
	args, ok := cmdline()
	if !ok || Verb(args) != "exec" {
		return
	}
	reexec(args)
}

// reexec executes the sealed copy, and returns only if it could not.
func reexec(args []string) {
	buf := make([]byte, 4096)
	n, err := syscall.Readlink("/proc/self/exe", buf)
	if err != nil || n >= len(buf) {
		return
	}
	tmp, err := sealfd.EmptyTmpfs()
	if err != nil {
		return
	}
	fd, err := sealfd.Overlay(string(buf[:n]), sealfd.FdPath(tmp))
	syscall.Close(tmp)
	if err != nil {
		return
	}
	env := append(syscall.Environ(), sealfd.SealedEnv+"="+strconv.Itoa(syscall.Getpid()))
	// Through the magic link, as exeseal.Reexec: syscall.Exec restores
	// the RLIMIT_NOFILE the Go runtime raised (syscall's init).
	syscall.Exec(sealfd.FdPath(fd), args, env)
	syscall.Close(fd)
}

// cmdline reads our argv from /proc/self/cmdline: os.Args is set by
// package os's initialiser, which has not run.
func cmdline() ([]string, bool) {
	fd, err := syscall.Open("/proc/self/cmdline", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	var data []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if n == 0 {
			break
		}
		data = append(data, buf[:n]...)
	}
	var args []string
	start := 0
	for i, c := range data {
		if c == 0 {
			args = append(args, string(data[start:i]))
			start = i + 1
		}
	}
	if start != len(data) || len(args) == 0 {
		return nil, false
	}
	return args, true
}

// Verb returns the command of a runtime command line: the first
// argument after the global flags, or "" when a flag is not one of
// ours (then the CLI's parser decides) or there is no command.
func Verb(args []string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" || a == "" || a[0] != '-' {
			if a == "--" || a == "" {
				return ""
			}
			return a
		}
		name, hasValue := flagName(a)
		switch {
		case in(name, GlobalFlagsWithValue):
			if !hasValue {
				i++
			}
		case in(name, GlobalBoolFlags):
		default:
			return ""
		}
	}
	return ""
}

// flagName returns the name in -name, --name, -name=value or
// --name=value, and whether the value is in the argument.
func flagName(a string) (string, bool) {
	name := a[1:]
	if len(name) > 0 && name[0] == '-' {
		name = name[1:]
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '=' {
			return name[:i], true
		}
	}
	return name, false
}

func in(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
