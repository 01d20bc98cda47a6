// Package loopback brings up the loopback device of a new network namespace.
package loopback

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Up brings up "lo", the loopback device a new network namespace
// is made with, down (net/core/dev.c: loopback_net_init registers it;
// nothing opens it). Set up, the kernel gives it 127.0.0.1/8 and ::1
// itself (devinet and addrconf on NETDEV_UP). An ioctl on any socket of
// the namespace, as ifconfig does: no netlink needed for one flag.
func Up() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring up the loopback device: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring up the loopback device: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up the loopback device: get its flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up the loopback device: %w", err)
	}
	return nil
}
