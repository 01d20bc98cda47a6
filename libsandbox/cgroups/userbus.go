package cgroups

import (
	"errors"
	"os"
	"path/filepath"
)

// UserBus returns the address of the D-Bus session bus of the user the
// runtime runs as, where that user's systemd (user@UID.service) listens:
// $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus if that socket
// exists, as runc's rootless systemd driver finds it
// (DetectUserDbusSessionBusAddress, short of asking `systemctl --user`).
// getenv and exists are os.Getenv and a stat, injected for tests.
//
// For the systemd driver (issue 12, branch wip-systemd), whose
// --systemd-cgroup this branch still refuses: when the runtime runs
// without root (libsandbox.Rootless), it must dial this bus (go-systemd's
// NewUserConnectionContext does the EXTERNAL authentication with the
// euid) instead of the system bus, and make the container's scope under
// the user's manager, whose cgroup (user@UID.service, Delegate=yes) the
// user owns; without a user bus, --systemd-cgroup is an error naming it.
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
