//go:build !amd64

package sigcatch

import "os"

// Elsewhere every signal goes to os/signal: the handler is amd64's
// assembly.
const rawSupported = false

func catchRaw(c chan<- os.Signal, sigs []os.Signal) ([]os.Signal, error) {
	return sigs, nil
}

// ResetInChild has nothing to reset.
//
//go:nosplit
func ResetInChild() {}
