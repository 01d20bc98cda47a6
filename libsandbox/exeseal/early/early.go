// Package early re-executes `exec` from a sealed copy of the runtime
// binary before the other packages' initialisers run.
//
// exec must run from a sealed copy (package exeseal: CVE-2019-5736), so
// its first process only re-executes itself. Done from main, that first
// process paid for everything a Go start of this binary does before
// main (unicode's tables, net's and netip's, urfave/cli's, logrus's:
// ~0.6 ms here) and for the command line's parsing, all thrown away by
// the execve. Go initialises packages in import-path order, each once
// its imports are done (the Go spec, "Package initialization"), and
// this package imports only syscall, strconv and sealfd (no unicode,
// no os, no fmt): its init runs after the runtime's, syscall's and a few
// internal packages', before the heavy ones. The bats test "exec: the
// first process re-executes from the sealed copy before the heavy
// package initialisers" checks that order on the real binary.
//
// It does only the common case and leaves every other one to main's
// path, which does the same with its full error handling: the command
// line it cannot read with certainty (an unknown global flag), a
// mount it cannot make (no overlayfs, no privilege: main falls back to
// a sealed memfd), an execve that fails. The mark in the environment
// (sealfd.SealedEnv, its value our pid) then tells main's path that it
// runs from the sealed copy; it checks that itself before it trusts it.
//
// This initialiser runs in every start of the binary, the init stage's
// too, and init starts in the mount namespace it joins. create refuses
// a container's (libsandbox's ourRoot), but this package must not rely
// on it: in a container's tree, /proc is what the container makes (a
// fake /proc/self/cmdline saying `exec`, a /proc/self/exe and
// /proc/self/fd/N pointing to its own program), and this package would
// execute that program as init, with all of init's privileges, as it
// did in 0cef79b before the refusal. So it decides from the command line in
// our own memory (the runtime's copy of argv, which package os also
// takes), and the runtime starts its stages with its own argv
// ("sandbox-runtime init ..."), never `exec`: /proc is touched only in
// a process a user started as `exec`, in the caller's namespaces, as
// exeseal.Reexec does. TestRuntimeArgs holds runtimeArgs to os.Args.
package early

import (
	"strconv"
	"syscall"
	_ "unsafe" // go:linkname

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
	args := runtimeArgs()
	if Verb(args) != "exec" {
		return
	}
	reexec(args)
}

// runtimeArgs is argv as the Go runtime saved it from the stack at
// start-up: the runtime hands it to package os (as os.Args) through
// this name, which has not run yet. Not /proc/self/cmdline: see above.
//
//go:linkname runtimeArgs os.runtime_args
func runtimeArgs() []string

// reexec executes the sealed copy, and returns only if it could not.
func reexec(args []string) {
	buf := make([]byte, 4096)
	n, err := syscall.Readlink("/proc/self/exe", buf)
	if err != nil || n >= len(buf) {
		return
	}
	fd, err := overlay(string(buf[:n]))
	if err != nil {
		// As exeseal.Open: where no overlayfs can be made (the test
		// VM's 9p root is no lower layer), a sealed memfd copy.
		if fd, err = sealfd.Memfd(); err != nil {
			return
		}
	}
	env := append(syscall.Environ(), sealfd.SealedEnv+"="+strconv.Itoa(syscall.Getpid()))
	// Through the magic link, as exeseal.Reexec: syscall.Exec restores
	// the RLIMIT_NOFILE the Go runtime raised (syscall's init).
	syscall.Exec(sealfd.FdPath(fd), args, env)
	syscall.Close(fd)
}

func overlay(exe string) (int, error) {
	tmp, err := sealfd.EmptyTmpfs()
	if err != nil {
		return -1, err
	}
	defer syscall.Close(tmp)
	return sealfd.Overlay(exe, sealfd.FdPath(tmp))
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
