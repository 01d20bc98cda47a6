package libsandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu/rpc"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
)

// CriuOpts are the options checkpoint and restore share with runc's
// (libcontainer.CriuOpts); each error names its flag.
type CriuOpts struct {
	// CriuPath is the criu binary (the global --criu); "" is "criu"
	// in $PATH.
	CriuPath string
	// ImagePath holds CRIU's images; WorkPath its logs (ImagePath if
	// empty); ParentPath, relative to ImagePath, a pre-dump's.
	ImagePath, WorkPath, ParentPath string

	LeaveRunning, PreDump, AutoDedup bool
	TCPEstablished, TCPSkipInFlight  bool
	LinkRemap, ExtUnixSk, ShellJob   bool
	FileLocks, LazyPages             bool
	// StatusFd, if >= 0, is our fd CRIU's lazy-pages server reports
	// readiness on (one \0 byte).
	StatusFd int
	// PageServer is ADDRESS:PORT of a page server to send pages to.
	PageServer string
	// ManageCgroupsMode: soft (""), full, strict or ignore.
	ManageCgroupsMode string
	// EmptyNs are namespace types to create empty on restore and not
	// dump; the network one always is (see emptyNs).
	EmptyNs []string
	// LsmProfile and LsmMountContext (restore) replace the image's.
	LsmProfile, LsmMountContext string
}

// descriptorsFile, in the image directory, lists what init's fds 0-2
// were at the dump ("pipe:[123]", "/dev/null"), as runc's: a restore
// re-connects the pipes among them to its own stdio (inherit_fd).
const descriptorsFile = "descriptors.json"

// criuLogLevel is CRIU's log level in dump.log and restore.log: 4 is
// debug, what runc asks for; a failure is quoted from the log.
const criuLogLevel = 4

func cgMode(s string) (rpc.CriuCgMode, error) {
	switch s {
	case "":
		return rpc.CriuCgMode_DEFAULT, nil
	case "soft":
		return rpc.CriuCgMode_SOFT, nil
	case "full":
		return rpc.CriuCgMode_FULL, nil
	case "strict":
		return rpc.CriuCgMode_STRICT, nil
	case "ignore":
		return rpc.CriuCgMode_IGNORE, nil
	}
	return 0, fmt.Errorf("--manage-cgroups-mode: invalid value %q (soft, full, strict or ignore)", s)
}

// emptyNs is CRIU's empty_ns mask. The network namespace is always in
// it, as runc has it: the runtime does not set up networks (what is in
// the namespace is the caller's, a CNI plugin's), so CRIU is not to dump
// or restore one. Restored, the container's network namespace is new and
// holds only a loopback device, which restore brings up as create does
// (restoredLoopbackUp; runc leaves it down); linux.netDevices are moved
// into it again (setup-namespaces).
func emptyNs(types []string) (uint32, error) {
	mask := uint32(unix.CLONE_NEWNET)
	for _, t := range types {
		if t != string(specs.NetworkNamespace) {
			return 0, fmt.Errorf("--empty-ns: namespace %q is not supported (only network)", t)
		}
	}
	return mask, nil
}

// pageServer parses --page-server ADDRESS:PORT.
func pageServer(s string) (*rpc.CriuPageServerInfo, error) {
	if s == "" {
		return nil, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return nil, fmt.Errorf("--page-server %q: want ADDRESS:PORT", s)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return nil, fmt.Errorf("--page-server %q: invalid port %q", s, port)
	}
	return &rpc.CriuPageServerInfo{Address: rpc.String(host), Port: rpc.Int32(int32(p))}, nil
}

// checkCriu makes sure criu runs and is recent enough, before anything
// is made: without it, a restore would make the container's cgroup and
// state only to remove them again.
func checkCriu(path string) error {
	v, err := criu.Version(path)
	if err != nil {
		return fmt.Errorf("criu: %w", err)
	}
	if v < criu.MinVersion {
		return fmt.Errorf("criu: version %s; checkpoint and restore need %s or later", criu.FormatVersion(v), criu.FormatVersion(criu.MinVersion))
	}
	return nil
}

// checkFeatures asks CRIU about the optional features the options use,
// and refuses those this criu or kernel lacks, naming the flag.
func checkFeatures(o *CriuOpts, preDump bool) error {
	want := &rpc.CriuFeatures{}
	if preDump || o.ParentPath != "" {
		want.MemTrack = rpc.Bool(true)
	}
	if o.LazyPages {
		want.LazyPages = rpc.Bool(true)
	}
	if want.MemTrack == nil && want.LazyPages == nil {
		return nil
	}
	got, err := criu.Features(o.CriuPath, want)
	if err != nil {
		return fmt.Errorf("criu feature check: %w", err)
	}
	if want.MemTrack != nil && !got.GetMemTrack() {
		flag := "--pre-dump"
		if !preDump {
			flag = "--parent-path"
		}
		return fmt.Errorf("%s: CRIU cannot track memory changes on this host (the kernel's soft-dirty bits), which a pre-dump needs", flag)
	}
	if want.LazyPages != nil && !got.GetLazyPages() {
		return errors.New("--lazy-pages: CRIU cannot restore pages lazily on this host (it needs userfaultfd)")
	}
	return nil
}

// configFile is CRIU's configuration file for the container: the
// annotation org.criu.config (CRIU's name; empty: none), else
// /etc/criu/sandbox-runtime.conf, as runc uses /etc/criu/runc.conf. CRIU
// reads it if it exists, and what it sets wins over the request.
func configFile(ann map[string]string) *string {
	if f, ok := ann["org.criu.config"]; ok {
		if f == "" {
			return nil
		}
		return rpc.String(f)
	}
	return rpc.String("/etc/criu/sandbox-runtime.conf")
}

// nsKey is the key a namespace joined by path is known by in the image:
// CRIU leaves it out of the dump (external) and takes it back from an
// inherited fd at restore. runc's keys, so that images move between the
// runtimes.
func nsKey(t specs.LinuxNamespaceType) string {
	n := nsCriuName(t)
	return "extRoot" + strings.ToUpper(n[:1]) + n[1:] + "NS"
}

// nsCriuName is CRIU's name of a namespace type (that of /proc/PID/ns).
func nsCriuName(t specs.LinuxNamespaceType) string { return nsFiles[t] }

// mountKey is the mount point of dest in the container, as CRIU names
// it: symlinks in the rootfs resolved as the container sees them.
func mountKey(rootfs, dest string) string {
	if p, err := securejoin.SecureJoin(rootfs, dest); err == nil {
		return "/" + strings.TrimPrefix(strings.TrimPrefix(p, rootfs), "/")
	}
	return filepath.Clean("/" + dest)
}

// isBind reports whether a spec mount is a bind mount.
func isBind(m rootfs.Mount) bool {
	return m.Type == "bind" || m.Options.Bind()
}

// isSpecBind is isBind for a mount of the saved config (checkpoint reads
// the spec, not a resolved plan).
func isSpecBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	o, err := rootfs.ParseOptions(m.Options)
	return err == nil && o.Bind()
}

// openDir makes dir (if missing; a container may be checkpointed into
// one directory more than once) and opens it: CRIU gets our fd's number
// and opens it through /proc/<our pid>/fd.
func openDir(dir, flag string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return f, nil
}

// CriuStatus says whether checkpoint and restore can work here: criu's
// version (0 if it does not run) and, if they cannot, why (CRIU's own
// reason when its check of the kernel fails).
func CriuStatus(path string) (int, error) {
	v, err := criu.Version(path)
	if err != nil {
		return 0, err
	}
	if v < criu.MinVersion {
		return v, fmt.Errorf("version %s; checkpoint and restore need %s or later", criu.FormatVersion(v), criu.FormatVersion(criu.MinVersion))
	}
	return v, criu.Check(path)
}

// The features annotations that say whether checkpoint and restore work
// on this host (CriuStatus).
const (
	AnnotationCheckpointEnabled = "io.github.sandbox-runtime.checkpoint.enabled"
	AnnotationCriuVersion       = "io.github.sandbox-runtime.checkpoint.criu"
	AnnotationCheckpointReason  = "io.github.sandbox-runtime.checkpoint.reason"
)

// CheckpointFeatures adds to f what `features` says of checkpoint and
// restore with the criu at path: the annotations above, and
// org.criu.config among the potentially unsafe ones (it names a CRIU
// configuration file, which can make CRIU run any program; runc lists
// it too).
func CheckpointFeatures(f *features.Features, path string) {
	v, err := CriuStatus(path)
	f.Annotations[AnnotationCheckpointEnabled] = strconv.FormatBool(err == nil)
	if v != 0 {
		f.Annotations[AnnotationCriuVersion] = criu.FormatVersion(v)
	}
	if err != nil {
		f.Annotations[AnnotationCheckpointReason] = err.Error()
	}
	f.PotentiallyUnsafeConfigAnnotations = append(f.PotentiallyUnsafeConfigAnnotations, "org.criu.config")
}
