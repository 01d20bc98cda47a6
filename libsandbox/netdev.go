package libsandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/osthread"
)

// linux.netDevices (runtime-spec 1.3, config-linux.md "Network Devices"):
// host interfaces moved into the container's network namespace by create,
// as runc 1.4 does (libcontainer/network_linux.go devChangeNetNamespace),
// with github.com/vishvananda/netlink as runc uses it.
//
// Nothing is moved back at delete: the spec says the runtime MUST NOT
// ("Namespace Lifecycle and Container Termination"), since the namespace
// may belong to someone else (one joined by path, a pod's) and a
// container may die without a delete. When the namespace goes, the
// kernel moves the physical devices back to the initial namespace and
// deletes the virtual ones (default_device_exit_net in net/core/dev.c).

// checkNetDevices checks linux.netDevices before anything is made: the
// container must have a network namespace that is not ours, every name
// must be one the kernel takes (dev_valid_name), the interfaces must
// exist here, and no two may get the same name.
func checkNetDevices(l *specs.Linux, ns *nsPlan) error {
	if len(l.NetDevices) == 0 {
		return nil
	}
	if !ns.has(specs.NetworkNamespace) {
		return errors.New("linux.netDevices: needs a network namespace to move the devices into: add {\"type\": \"network\"} to linux.namespaces")
	}
	if joinsOwnNetNS(ns) {
		return errors.New("linux.netDevices: the network namespace joined is the runtime's own (the host's): there is nowhere to move the devices")
	}
	names := map[string]string{}
	for _, host := range sortedKeys(l.NetDevices) {
		field := fmt.Sprintf("linux.netDevices[%q]", host)
		if !validIfName(host) {
			return fmt.Errorf("%s: %q is not a valid interface name", field, host)
		}
		name := l.NetDevices[host].Name
		if name == "" {
			name = host
		} else if !validIfName(name) {
			return fmt.Errorf("%s.name: %q is not a valid interface name", field, name)
		}
		if other, ok := names[name]; ok && !strings.Contains(name, "%d") {
			return fmt.Errorf("%s.name: %q is also the name of %q in the container", field, name, other)
		}
		names[name] = host
		if _, err := netlink.LinkByName(host); err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return fmt.Errorf("%s: no such interface in the runtime's network namespace: %w", field, err)
		}
	}
	return nil
}

// validIfName is the kernel's dev_valid_name (net/core/dev.c): 1 to 15
// bytes, not "." or "..", no '/', ':' or white space.
func validIfName(name string) bool {
	if name == "" || len(name) >= unix.IFNAMSIZ || name == "." || name == ".." {
		return false
	}
	return !strings.ContainsAny(name, "/: \t\n\v\f\r")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// moveNetDevices moves linux.netDevices into the network namespace of
// init (pid, checked against its start time), in name order. A device
// already moved when a later one fails stays there: create then kills
// init, and the kernel hands it back with the namespace (see above).
func moveNetDevices(devs map[string]specs.LinuxNetDevice, pid int, start uint64) error {
	if len(devs) == 0 {
		return nil
	}
	f, h, err := initNetns(pid, start)
	if err != nil {
		return fmt.Errorf("linux.netDevices: %w", err)
	}
	defer f.Close()
	defer h.Close()
	for _, host := range sortedKeys(devs) {
		if err := moveNetDevice(host, devs[host].Name, int(f.Fd()), h); err != nil {
			return fmt.Errorf("linux.netDevices[%q]: %w", host, err)
		}
	}
	return nil
}

// initNetns opens the network namespace of init (pid, checked against its
// start time once the namespace is open: a pid reused since is not
// followed) and a netlink handle in it. handleAt makes the handle's
// socket there (NETLINK_ROUTE only: links and addresses are all it is
// for) on a thread thrown away after; the socket then acts on init's
// namespace from ours. It joins no multicast group. A process with
// CAP_NET_ADMIN over that namespace can still send to it (netlink
// unicast to our port id, netlink_sendmsg's netlink_allowed): netlink's
// Execute refuses what the kernel did not send ("Wrong sender portid"),
// so what it sends can only fail a request, and the callers take any
// error as a failure, never as an answer.
//
// A namespace that is ours is refused: what is done through the handle
// is meant for the container's namespace and would change the host's.
// create never gets there (checkNetDevices), but restore can: CRIU makes
// a network namespace only if the image has one, so an image dumped from
// a container in ours, restored with a spec that asks for a new one,
// leaves init in ours (a review found restore bringing up the host's lo).
func initNetns(pid int, start uint64) (*os.File, *netlink.Handle, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return nil, nil, fmt.Errorf("open init's network namespace: %w", err)
	}
	if st, err := readProcStat(pid); err != nil || st.StartTime != start {
		f.Close()
		return nil, nil, errors.New("open init's network namespace: init is gone")
	}
	// The main thread's namespace is the runtime's: no thread that
	// changes its network namespace is ever the main one.
	if same, err := sameFile(f, "/proc/self/ns/net"); err != nil || same {
		f.Close()
		if err == nil {
			err = errRuntimeNetns
		}
		return nil, nil, fmt.Errorf("init's network namespace: %w", err)
	}
	h, err := handleAt(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("netlink in init's network namespace: %w", err)
	}
	return f, h, nil
}

// handleAt makes a netlink handle in the network namespace f, on a
// thread of its own that ends after it (osthread.Discard).
// netlink.NewHandleAt moves the thread it runs on into f's namespace,
// opens the socket there, and moves it back, ignoring a failure of the
// move back (nl.executeInNetns drops setns's error, then unlocks the
// thread). A thread left in the container's namespace would then carry
// goroutines of ours (the package-level netlink calls open their socket
// in the calling thread's namespace: moveNetDevice's), and, were it the main thread, /proc/self/ns/net
// would name the container's. Thrown away, no thread of ours is ever
// in the container's network namespace after this returns, whatever
// setns did.
func handleAt(f *os.File) (*netlink.Handle, error) {
	type made struct {
		h   *netlink.Handle
		err error
	}
	ch := make(chan made, 1)
	osthread.Discard(func() {
		h, err := newHandleAt(netns.NsHandle(f.Fd()), unix.NETLINK_ROUTE)
		ch <- made{h, err}
	})
	m := <-ch
	return m.h, m.err
}

// newHandleAt is netlink.NewHandleAt; a test stands in for a failed
// move back.
var newHandleAt = netlink.NewHandleAt

// errRuntimeNetns: init is in the runtime's own network namespace.
var errRuntimeNetns = errors.New("it is the runtime's own, not one of the container's")

// restoredLoopbackUp brings up "lo" in the network namespace CRIU made for
// a restored init. CRIU makes it empty (empty_ns: the network is not in
// the image, see emptyNs), so its loopback device is down, as in any new
// namespace, and a service of the container on 127.0.0.1 would be
// unreachable after the restore where it answered before the dump (CRIU
// issue #590; runc 1.1.5 and 1.5.1 leave it down). A restored network
// namespace is set up as create sets one up: lo up (initcfg.LoopbackUp),
// then linux.netDevices, then the hooks. It runs at CRIU's
// setup-namespaces notification, while the restored tasks exist but have
// not run, so no process of the container can act before it is up.
func restoredLoopbackUp(pid int, start uint64) error {
	f, h, err := initNetns(pid, start)
	if err != nil {
		return fmt.Errorf("bring up the loopback device: %w", err)
	}
	defer f.Close()
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("bring up the loopback device: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bring up the loopback device: %w", err)
	}
	return nil
}

// moveNetDevice moves host into the namespace nsFd (h is a netlink
// handle there) under name (host's own if empty), with its permanent
// addresses of global scope, and sets it up, as the spec asks.
func moveNetDevice(host, name string, nsFd int, h *netlink.Handle) error {
	link, err := netlink.LinkByName(host)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("no such interface: %w", err)
	}
	// Down first: whatever on the host uses it stops before it goes
	// (the move would close it anyway: dev_close in
	// __dev_change_net_namespace).
	if err := netlink.LinkSetDown(link); err != nil {
		return fmt.Errorf("set down: %w", err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list addresses: %w", err)
	}
	if name == "" {
		name = host
	}
	// The kernel moves the device first and renames it after
	// (do_setlink: __dev_change_net_namespace, then dev_change_name): a
	// name taken in the container's namespace fails the request with the
	// device moved already, under its host name. Look first: only "no
	// such link" lets the move go on (any other answer, an error a
	// process with CAP_NET_ADMIN there can make by sending to our
	// socket included, fails create).
	if !strings.Contains(name, "%d") {
		_, err := h.LinkByName(name)
		if err == nil {
			return fmt.Errorf("move into the container's network namespace: an interface named %q exists there (a name with %%d lets the kernel number it): %w", name, unix.EEXIST)
		}
		if !errors.As(err, &netlink.LinkNotFoundError{}) {
			return fmt.Errorf("look for %q in the container's network namespace: %w", name, err)
		}
	}
	// Move and rename in one RTM_NEWLINK (IFLA_NET_NS_FD with
	// IFLA_IFNAME), so that the device never sits in the container's
	// namespace under a name that collides there; a "%d" in name is the
	// kernel's to fill in (dev_change_name). netlink's LinkSetNsFd has no
	// name, hence the request by hand, as runc builds it.
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(link.Attrs().Index)
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	req.AddData(nl.NewRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(nsFd))))
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		if errors.Is(err, unix.EEXIST) {
			// The name was free when looked for: someone in the
			// namespace took it since, and the device may be there
			// under its host name. It stays (in a namespace create
			// made, the kernel hands it back when init is killed; in
			// one joined by path, its owner's): nothing is ever
			// moved out of a container's namespace into ours, where
			// a device of the container's choosing could come
			// instead (it can take the moved device's index, MAC and
			// name: a review's Medium, against the give-back this
			// replaced).
			logrus.Warnf("linux.netDevices[%q]: %q was taken in the container's network namespace during the move; the device may be left there as %q", host, name, host)
			return fmt.Errorf("move into the container's network namespace: an interface named %q exists there (a name with %%d lets the kernel number it): %w", name, err)
		}
		return fmt.Errorf("move into the container's network namespace as %q: %w", name, err)
	}
	moved, err := findMoved(h, link, name)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		// Only what the user configured to last: permanent addresses
		// (not DHCP's or SLAAC's, whose lifetimes belong to the host's
		// namespace) of global scope (RFC 3549 2.3.3.2), as the spec
		// says.
		if a.Flags&unix.IFA_F_PERMANENT == 0 || a.Scope != unix.RT_SCOPE_UNIVERSE {
			logrus.Debugf("linux.netDevices[%q]: address %s not kept (not permanent or not global)", host, a.IPNet)
			continue
		}
		if err := h.AddrAdd(moved, &netlink.Addr{IPNet: a.IPNet}); err != nil {
			return fmt.Errorf("add address %s in the container: %w", a.IPNet, err)
		}
	}
	if err := h.LinkSetUp(moved); err != nil {
		return fmt.Errorf("set up %s in the container: %w", moved.Attrs().Name, err)
	}
	return nil
}

// findMoved finds the moved device in the container's namespace: by
// index, which a move keeps unless the namespace has it taken, checked
// by hardware address; else by name (unless the kernel chose it).
func findMoved(h *netlink.Handle, link netlink.Link, name string) (netlink.Link, error) {
	mac := link.Attrs().HardwareAddr
	same := func(l netlink.Link) bool {
		return l != nil && net.HardwareAddr.String(l.Attrs().HardwareAddr) == mac.String()
	}
	if l, err := h.LinkByIndex(link.Attrs().Index); err == nil && same(l) {
		return l, nil
	}
	if !strings.Contains(name, "%d") {
		if l, err := h.LinkByName(name); err == nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("moved as %q, but not found in the container's network namespace", name)
}

// netDevicesStep is create's step: init exists, with its network
// namespace, and has not been sent its config, so the devices are in
// place before any hook or process of the container runs. Its undo is
// the kernel's (see above): init is killed by startInit's.
func (cr *creation) netDevicesStep() (func(), error) {
	st := cr.c.state
	return nil, moveNetDevices(cr.spec.Linux.NetDevices, st.InitPid, st.InitStart)
}

// sameFile reports whether f and the file at path are one (device and
// inode, as namespaces are told apart: ns_get_path's nsfs inodes).
func sameFile(f *os.File, path string) (bool, error) {
	var a, b unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &a); err != nil {
		return false, err
	}
	if err := unix.Stat(path, &b); err != nil {
		return false, err
	}
	return a.Dev == b.Dev && a.Ino == b.Ino, nil
}
