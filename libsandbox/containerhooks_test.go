package libsandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/statefile"
)

// A process of the container may kill init while it waits for its
// createContainer hooks (CAP_KILL in its user namespace, init in its
// pid namespace); init, our zombie then, has no namespaces: the hooks
// must not run, above all not in ours (a review of f8de9a7 ran the
// host's root hook in the host's namespaces so).
func TestContainerHooksInitDead(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root: user and mount namespaces")
	}
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--mount", "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("unshare: %v", err)
	}
	pid := cmd.Process.Pid
	for i := 0; i < 500; i++ {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.TrimSpace(string(b)) == "sleep" {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	unix.Kill(pid, unix.SIGKILL)
	defer cmd.Wait()
	// A zombie until we reap it, as init is until create does.
	for i := 0; i < 500; i++ {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); strings.Contains(string(b), ") Z ") {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	cr := &creation{
		spec: &specs.Spec{Hooks: &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marker}}}}},
		opts: &CreateOpts{},
		plan: &plan{rootfs: "/"},
		c:    &Container{id: "dead", state: (*persisted)(&statefile.State{InitPid: pid})},
	}
	err := cr.runContainerHooks()
	if _, serr := os.Stat(marker); serr == nil {
		t.Fatalf("the hook ran with init dead (error: %v)", err)
	}
	if err == nil || !strings.Contains(err.Error(), "init's namespaces") {
		t.Fatalf("got %v, want an error about init's namespaces", err)
	}
}
