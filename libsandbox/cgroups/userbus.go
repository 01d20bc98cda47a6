package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

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
// session bus. EXTERNAL authentication: godbus sends no identity with it,
// and the bus takes the peer's from the kernel (SO_PEERCRED, in the bus's
// user namespace), so it also works as root of rootless podman's user
// namespace, whose uid 0 is the user's uid outside.
func dialUserSystemd() (bus, error) {
	addr, err := UserBus(os.Getenv, SocketExists)
	if err != nil {
		return nil, err
	}
	c, err := sd.NewConnection(func() (*dbus.Conn, error) {
		conn, err := dbus.Dial(addr)
		if err != nil {
			return nil, fmt.Errorf("dial the user's bus %s: %w", addr, err)
		}
		if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("authenticate to the user's bus %s: %w", addr, err)
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
