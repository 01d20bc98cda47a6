// pause is the pod sandbox's process in the critest images
// (registry.k8s.io/pause's job): it holds the pod's namespaces, reaps
// the orphans a shared pid namespace hands it, and exits 0 on SIGINT or
// SIGTERM, which as PID 1 it would otherwise ignore.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
