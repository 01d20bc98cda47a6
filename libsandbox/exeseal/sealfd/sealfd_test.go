package sealfd

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDirBase(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/b", "/usr/local/bin/sandbox-runtime", "/a b/c:d,e"} {
		if got, want := Dir(p), filepath.Dir(p); got != want {
			t.Errorf("Dir(%q) = %q, want %q", p, got, want)
		}
		if p == "/" {
			continue
		}
		if got, want := Base(p), filepath.Base(p); got != want {
			t.Errorf("Base(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestEscapeLowerDir(t *testing.T) {
	if got, want := escapeLowerDir(`/a:b,c\d`), `/a\:b\,c\\d`; got != want {
		t.Errorf("escapeLowerDir = %q, want %q", got, want)
	}
}

func TestConstants(t *testing.T) {
	for _, c := range []struct {
		name      string
		ours, sys int
	}{
		{"SYS_FSOPEN", sysFsopen, unix.SYS_FSOPEN},
		{"SYS_FSCONFIG", sysFsconfig, unix.SYS_FSCONFIG},
		{"SYS_FSMOUNT", sysFsmount, unix.SYS_FSMOUNT},
		{"FSOPEN_CLOEXEC", fsopenCloexec, unix.FSOPEN_CLOEXEC},
		{"FSCONFIG_SET_STRING", fsconfigSetString, unix.FSCONFIG_SET_STRING},
		{"FSCONFIG_CMD_CREATE", fsconfigCmdCreate, unix.FSCONFIG_CMD_CREATE},
		{"FSMOUNT_CLOEXEC", fsmountCloexec, unix.FSMOUNT_CLOEXEC},
		{"MOUNT_ATTR_RDONLY", mountAttrRdonly, unix.MOUNT_ATTR_RDONLY},
		{"MOUNT_ATTR_NOSUID", mountAttrNosuid, unix.MOUNT_ATTR_NOSUID},
		{"MOUNT_ATTR_NODEV", mountAttrNodev, unix.MOUNT_ATTR_NODEV},
		{"O_PATH", oPath, unix.O_PATH},
	} {
		if c.ours != c.sys {
			t.Errorf("%s: ours %#x, x/sys/unix's %#x", c.name, c.ours, c.sys)
		}
	}
}
