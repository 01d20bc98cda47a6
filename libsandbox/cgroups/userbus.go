package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	sd "github.com/coreos/go-systemd/v22/dbus"
	dbus "github.com/godbus/dbus/v5"
)

// UserBus returns the address of the D-Bus session bus of the user the
// runtime runs as, where that user's systemd (user@UID.service) listens:
// $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus if that socket
// exists, as runc's rootless systemd driver finds it
// (DetectUserDbusSessionBusAddress, short of asking `systemctl --user`).
// getenv and exists are os.Getenv and a stat, injected for tests.
//
// The systemd driver dials it (dialUserSystemd) when the runtime runs
// without root, and makes the container's scope under the user's
// manager, whose cgroup (user@UID.service, Delegate=yes) the user owns.
func UserBus(getenv func(string) string, exists func(string) bool) (string, error) {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a, nil
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
		if p := filepath.Join(dir, "bus"); exists(p) {
			return "unix:path=" + p, nil
		}
	}
	return "", errors.New("--systemd-cgroup: the runtime runs without root, and finds no user D-Bus session bus to reach the user's systemd: $DBUS_SESSION_BUS_ADDRESS is not set, nor is there $XDG_RUNTIME_DIR/bus (a systemd user session with dbus-user-session makes it)")
}

// SocketExists is UserBus's exists: path is a socket.
func SocketExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

// dialUserSystemd connects to the user's systemd instance over the
// session bus. The bus authenticates the peer by the uid the kernel
// gives it (SO_PEERCRED, in the bus's user namespace: the host's), so
// EXTERNAL must name that uid, which inside rootless podman's user
// namespace (we are 0 there) is what our uid maps to (hostUID).
func dialUserSystemd() (bus, error) {
	addr, err := UserBus(os.Getenv, SocketExists)
	if err != nil {
		return nil, err
	}
	f, err := os.Open("/proc/self/uid_map")
	if err != nil {
		return nil, err
	}
	uid, err := hostUID(f, os.Getuid())
	f.Close()
	if err != nil {
		return nil, err
	}
	c, err := sd.NewConnection(func() (*dbus.Conn, error) {
		conn, err := dbus.Dial(addr)
		if err != nil {
			return nil, fmt.Errorf("dial the user's bus %s: %w", addr, err)
		}
		if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(uid))}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("authenticate to the user's bus %s as uid %d: %w", addr, uid, err)
		}
		if err := conn.Hello(); err != nil {
			conn.Close()
			return nil, fmt.Errorf("hello on the user's bus %s: %w", addr, err)
		}
		return conn, nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// hostUID returns the uid that uid maps to in the parent user namespace,
// read from uid_map (the whole identity map outside any user namespace).
func hostUID(uidMap io.Reader, uid int) (int, error) {
	sc := bufio.NewScanner(uidMap)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		in, err1 := strconv.ParseUint(f[0], 10, 32)
		out, err2 := strconv.ParseUint(f[1], 10, 32)
		n, err3 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		if u := uint64(uid); u >= in && u-in < n {
			return int(out + (u - in)), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("--systemd-cgroup: uid %d is not mapped in /proc/self/uid_map", uid)
}
