package libsandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
	"golang.org/x/sys/unix"
)

func TestCriuFlagValues(t *testing.T) {
	for _, s := range []string{"", "soft", "full", "strict", "ignore"} {
		if _, err := cgMode(s); err != nil {
			t.Errorf("cgMode(%q): %v", s, err)
		}
	}
	if _, err := cgMode("hard"); err == nil || !strings.Contains(err.Error(), "--manage-cgroups-mode") {
		t.Errorf("cgMode(hard): got %v, want an error naming the flag", err)
	}
	// The network namespace is always left empty, asked for or not.
	for _, l := range [][]string{nil, {"network"}} {
		if m, err := emptyNs(l); err != nil || m != unix.CLONE_NEWNET {
			t.Errorf("emptyNs(%q): got %#x, %v; want CLONE_NEWNET", l, m, err)
		}
	}
	if _, err := emptyNs([]string{"ipc"}); err == nil || !strings.Contains(err.Error(), "--empty-ns") {
		t.Errorf("emptyNs(ipc): got %v, want an error naming the flag", err)
	}
	if ps, err := pageServer("10.0.0.1:27"); err != nil || ps.GetAddress() != "10.0.0.1" || ps.GetPort() != 27 {
		t.Errorf("pageServer: got %v, %v", ps, err)
	}
	for _, bad := range []string{"10.0.0.1", ":27", "h:0", "h:port", "h:70000"} {
		if _, err := pageServer(bad); err == nil || !strings.Contains(err.Error(), "--page-server") {
			t.Errorf("pageServer(%q): got %v, want an error naming the flag", bad, err)
		}
	}
}

// The keys of namespaces joined by path are runc's, so that an image
// moves between the runtimes.
func TestNsKey(t *testing.T) {
	for typ, want := range map[specs.LinuxNamespaceType]string{
		specs.NetworkNamespace: "extRootNetNS", specs.PIDNamespace: "extRootPidNS",
	} {
		if got := nsKey(typ); got != want {
			t.Errorf("nsKey(%s): got %q, want %q", typ, got, want)
		}
	}
}

func TestMountKey(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "real/data"), 0o755)
	os.Symlink("/real", filepath.Join(root, "link"))
	os.Symlink("../../../../etc", filepath.Join(root, "escape"))
	for dest, want := range map[string]string{
		"/out":         "/out",
		"out/":         "/out",
		"/link/data":   "/real/data", // as the container sees it
		"/escape/x":    "/etc/x",     // never out of the rootfs
		"/a/../b/./c/": "/b/c",
		"/":            "/",
	} {
		if got := mountKey(root, dest); got != want {
			t.Errorf("mountKey(%q): got %q, want %q", dest, got, want)
		}
	}
}

func TestOnTmpfs(t *testing.T) {
	mounts := []rootfs.Mount{{Destination: "/dev", Type: "tmpfs"}, {Destination: "/data/", Type: "bind"}}
	for dest, want := range map[string]bool{"/dev/pts": true, "/dev": false, "/devices": false, "/data/x": false} {
		if got := onTmpfs(dest, mounts); got != want {
			t.Errorf("onTmpfs(%q): got %v, want %v", dest, got, want)
		}
	}
}
