// Package initstage runs the init stage (nsexec.Main) from its
// initialiser, when the runtime binary is started as `sandbox-runtime
// init ...`: before the initialisers of the packages init never uses.
//
// Go initialises packages one at a time, each once its imports are
// done, the ready one first in import-path order (the Go spec, "Package
// initialization"; cmd/link's inittask.go). This package imports only
// nsexec, whose imports reach none of D-Bus's, go-systemd's, net's,
// netlink's, logrus's or urfave/cli's: so it comes before theirs, which
// a create's init, on its critical path, would otherwise run for
// nothing before it reads its config (~0.2 ms here, measured against
// the dispatch from package main's initialiser). The bats test "init:
// the init stage starts before the initialisers it does not need"
// checks the order on the real binary; internal/specjson keeps the
// state.json codec, which reaches libsandbox/cgroups, out of nsexec's
// imports (export.go).
//
// It decides from os.Args, the runtime's copy of the command line: the
// runtime starts init with its own argv (libsandbox's spawn), and
// nothing of a container's (its /proc) is read to decide.
package initstage

import (
	"os"

	"github.com/sandbox-runtime/sandbox-runtime/nsexec"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		nsexec.Main(os.Args[2:]) // never returns
	}
}
