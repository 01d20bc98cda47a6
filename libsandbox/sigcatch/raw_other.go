//go:build !amd64 && !arm64

package sigcatch

import "os"

// Elsewhere every signal goes to os/signal: the handler is assembly,
// written for amd64 and arm64.
const rawSupported = false

// ourPID is the handler's: none here.
var ourPID int64

func catchRaw(c chan<- os.Signal, sigs []os.Signal) []os.Signal {
	return sigs
}

// ResetInChild has nothing to reset.
//
//go:nosplit
func ResetInChild() {}
