// nnp is the entrypoint of the critest nonewprivs image, installed
// setuid root: run as uid 1000 it reports uid 0 unless no_new_privs
// stopped the setuid bit (k8s e2e-test-images/nonewprivs).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("Effective uid: %d\n", os.Geteuid())
}
