package cgroups

import (
	"context"
	"os"

	sd "github.com/coreos/go-systemd/v22/dbus"
)

// bus is what the systemd driver asks of systemd's D-Bus API
// (org.freedesktop.systemd1.Manager); *sd.Conn has it, and the tests give
// a fake that records the calls.
type bus interface {
	StartTransientUnitContext(ctx context.Context, name, mode string, props []sd.Property, ch chan<- string) (int, error)
	StopUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	SetUnitPropertiesContext(ctx context.Context, name string, runtime bool, props ...sd.Property) error
	ResetFailedUnitContext(ctx context.Context, name string) error
	GetManagerProperty(name string) (string, error)
	Close()
}

// dialSystemd connects to systemd: through the system bus, or, where
// there is no dbus-daemon, straight to systemd's private socket
// /run/systemd/private (root only; go-systemd's NewWithContext tries
// both, in that order, as youki and runc do).
//
// The context is not bounded: godbus closes the connection when the
// context it was made with is done.
func dialSystemd() (bus, error) {
	c, err := sd.NewWithContext(context.Background())
	if err != nil {
		return nil, err
	}
	return c, nil
}

// systemdBooted reports whether the host runs systemd as its init
// (sd_booted(3): /run/systemd/system is a directory).
func (h *Host) systemdBooted() bool {
	dir := h.SystemdDir
	if dir == "" {
		dir = "/run/systemd/system"
	}
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}
