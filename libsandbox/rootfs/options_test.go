package rootfs

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []string
		want Options
	}{
		{"none", nil, Options{}},
		{"defaults", []string{"defaults"}, Options{}},
		{
			"flags set",
			[]string{"ro", "nosuid", "nodev", "noexec"},
			Options{Flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		},
		// The last of a pair wins, and a cleared flag is remembered so a
		// remount or bind can clear it on the mount.
		{"ro then rw", []string{"ro", "rw"}, Options{Clear: unix.MS_RDONLY}},
		{"rw then ro", []string{"rw", "ro"}, Options{Flags: unix.MS_RDONLY}},
		{
			"clearing flags",
			[]string{"suid", "dev", "exec", "atime", "async"},
			Options{Clear: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_SYNCHRONOUS},
		},
		{"bind", []string{"bind"}, Options{Flags: unix.MS_BIND}},
		{"rbind", []string{"rbind", "ro"}, Options{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY}},
		{
			"atime flags",
			[]string{"noatime", "nodiratime", "strictatime", "relatime", "nosymfollow"},
			Options{Flags: unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_STRICTATIME | unix.MS_RELATIME | unix.MS_NOSYMFOLLOW},
		},
		{
			"propagation in order",
			[]string{"rprivate", "shared", "runbindable", "slave"},
			Options{Propagate: []uintptr{
				unix.MS_PRIVATE | unix.MS_REC, unix.MS_SHARED, unix.MS_UNBINDABLE | unix.MS_REC, unix.MS_SLAVE,
			}},
		},
		{
			"propagation is not a flag",
			[]string{"rbind", "rslave"},
			Options{Flags: unix.MS_BIND | unix.MS_REC, Propagate: []uintptr{unix.MS_SLAVE | unix.MS_REC}},
		},
		{
			"recursive attributes",
			[]string{"rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"},
			Options{RecSet: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV |
				unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW},
		},
		{"rro then rrw", []string{"rro", "rrw"}, Options{RecClear: unix.MOUNT_ATTR_RDONLY}},
		// idmap and ridmap are the runtime's, never the filesystem's.
		{"idmap", []string{"rbind", "idmap"}, Options{Flags: unix.MS_BIND | unix.MS_REC, IDMap: true}},
		{"ridmap", []string{"rbind", "ridmap"}, Options{Flags: unix.MS_BIND | unix.MS_REC, IDMap: true, RIDMap: true}},
		{"rrw then rro", []string{"rrw", "rro"}, Options{RecSet: unix.MOUNT_ATTR_RDONLY}},
		{
			"recursive clears",
			[]string{"rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"},
			Options{RecClear: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC |
				unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW},
		},
		{"rnoatime", []string{"rnoatime"}, Options{RecSet: unix.MOUNT_ATTR_NOATIME}},
		{"rstrictatime", []string{"rstrictatime"}, Options{RecSet: unix.MOUNT_ATTR_STRICTATIME}},
		// relatime is the atime field's value 0: choosing it clears the field.
		{"rrelatime", []string{"rrelatime"}, Options{RecClear: unix.MOUNT_ATTR__ATIME}},
		{"rnoatime then rrelatime", []string{"rnoatime", "rrelatime"}, Options{RecClear: unix.MOUNT_ATTR__ATIME}},
		{"rnorelatime", []string{"rnorelatime"}, Options{}},
		{
			"data passed through in order",
			[]string{"nosuid", "mode=755", "strictatime", "size=65536k"},
			Options{Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"},
		},
		{
			"filesystem options we do not know are data",
			[]string{"newinstance", "ptmxmode=0666", "gid=5"},
			Options{Data: "newinstance,ptmxmode=0666,gid=5"},
		},
		{
			"x-* ignored",
			[]string{"x-systemd.automount", "ro", "x-foo=bar"},
			Options{Flags: unix.MS_RDONLY},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOptions(tc.opts)
			if err != nil {
				t.Fatalf("ParseOptions(%q): %v", tc.opts, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseOptions(%q):\ngot  %+v,\nwant %+v", tc.opts, got, tc.want)
			}
		})
	}
}

func TestParseOptionsBindRecursive(t *testing.T) {
	for _, tc := range []struct {
		opts            []string
		bind, recursive bool
	}{
		{nil, false, false},
		{[]string{"bind"}, true, false},
		{[]string{"rbind"}, true, true},
		{[]string{"ro", "rbind", "rprivate"}, true, true},
		// rprivate is a propagation, not a recursive bind.
		{[]string{"rprivate"}, false, false},
	} {
		o, err := ParseOptions(tc.opts)
		if err != nil {
			t.Fatalf("ParseOptions(%q): %v", tc.opts, err)
		}
		if got := o.Bind(); got != tc.bind {
			t.Errorf("ParseOptions(%q).Bind(): got %v, want %v", tc.opts, got, tc.bind)
		}
		if got := o.Recursive(); got != tc.recursive {
			t.Errorf("ParseOptions(%q).Recursive(): got %v, want %v", tc.opts, got, tc.recursive)
		}
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		opts []string
		want string // substring of the error
	}{
		{[]string{"copy-symlink"}, `option "copy-symlink"`},
		{[]string{""}, "empty option"},
		{[]string{"ro", "", "nosuid"}, "empty option"},
	} {
		_, err := ParseOptions(tc.opts)
		if err == nil {
			t.Errorf("ParseOptions(%q): got nil error, want one containing %q", tc.opts, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseOptions(%q): got error %q, want one containing %q", tc.opts, err, tc.want)
		}
	}
}

func TestAttrs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uintptr
		want  uint64
	}{
		{"none", 0, 0},
		{"ro", unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{
			"nosuid nodev noexec",
			unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC,
			unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC,
		},
		{"nodiratime", unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
		{"nosymfollow", unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW},
		{"noatime", unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME},
		{"strictatime", unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME},
		{"relatime is the value 0", unix.MS_RELATIME, unix.MOUNT_ATTR_RELATIME},
		// Flags mount_setattr has no attribute for are dropped.
		{"bind rec remount sync", unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT | unix.MS_SYNCHRONOUS, 0},
		{"ro bind", unix.MS_RDONLY | unix.MS_BIND, unix.MOUNT_ATTR_RDONLY},
	} {
		if got := attrs(tc.flags); got != tc.want {
			t.Errorf("attrs(%s = %#x): got %#x, want %#x", tc.name, tc.flags, got, tc.want)
		}
	}
}

// A bind gets the flags named and loses the others; the atime flags are
// left alone unless one is named, then set as mount(2) sets them on a
// remount.
func TestRemountAttrs(t *testing.T) {
	const perMount = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NOSYMFOLLOW
	const atime = unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_NODIRATIME
	for _, tc := range []struct {
		name     string
		flags    uintptr
		set, clr uint64
	}{
		{"nothing: all cleared, atime kept", 0, 0, perMount},
		{"sync: no per-mount flag", unix.MS_SYNCHRONOUS, 0, perMount},
		{"nosuid", unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID, perMount &^ unix.MOUNT_ATTR_NOSUID},
		{"ro nodev", unix.MS_RDONLY | unix.MS_NODEV, unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV,
			unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NOSYMFOLLOW},
		{"nodiratime: relatime too", unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_RELATIME, perMount | atime},
		{"relatime", unix.MS_RELATIME, unix.MOUNT_ATTR_RELATIME, perMount | atime},
		{"noatime", unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME, perMount | atime},
		{"strictatime over noatime", unix.MS_NOATIME | unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME, perMount | atime},
		{"noatime nodiratime", unix.MS_NOATIME | unix.MS_NODIRATIME, unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_NODIRATIME, perMount | atime},
	} {
		set, clr := remountAttrs(tc.flags)
		if set != tc.set || clr != tc.clr {
			t.Errorf("remountAttrs(%s): got set %#x clr %#x, want set %#x clr %#x", tc.name, set, clr, tc.set, tc.clr)
		}
	}
}

// statfs reports no strictatime: it is the absence of the others.
func TestStatfsFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   int64
		want uintptr
	}{
		{"rw strictatime", 0, unix.MS_STRICTATIME},
		{"ro nodev relatime", unix.ST_RDONLY | unix.ST_NODEV | unix.ST_RELATIME, unix.MS_RDONLY | unix.MS_NODEV | unix.MS_RELATIME},
		{"noatime nodiratime", unix.ST_NOATIME | unix.ST_NODIRATIME, unix.MS_NOATIME | unix.MS_NODIRATIME},
		{"nosuid noexec, strictatime", unix.ST_NOSUID | unix.ST_NOEXEC, unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_STRICTATIME},
	} {
		if got := statfsFlags(&unix.Statfs_t{Flags: tc.st}); got != tc.want {
			t.Errorf("statfsFlags(%s): got %s (%#x), want %s (%#x)", tc.name, flagNames(got), got, flagNames(tc.want), tc.want)
		}
	}
}

func TestKnownOptions(t *testing.T) {
	known := KnownOptions()
	if !sort.StringsAreSorted(known) {
		t.Errorf("KnownOptions() is not sorted: %q", known)
	}
	seen := map[string]bool{}
	for _, opt := range known {
		if seen[opt] {
			t.Errorf("KnownOptions(): %q listed twice", opt)
		}
		seen[opt] = true
		// A known option is never passed to the filesystem as data,
		// and never refused.
		o, err := ParseOptions([]string{opt})
		if err != nil {
			t.Errorf("ParseOptions([%q]): got error %v, want none for a known option", opt, err)
		} else if o.Data != "" {
			t.Errorf("ParseOptions([%q]).Data: got %q, want \"\" for a known option", opt, o.Data)
		}
	}
	for _, opt := range []string{"ro", "rw", "bind", "rbind", "rprivate", "rslave", "rro", "rnosuid", "nosymfollow"} {
		if !seen[opt] {
			t.Errorf("KnownOptions(): %q missing", opt)
		}
	}
	// Unsupported options must not be advertised (features.json).
	for opt := range unsupportedOptions {
		if seen[opt] {
			t.Errorf("KnownOptions(): lists %q, which ParseOptions refuses", opt)
		}
	}
}

func TestDeepReadonly(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		sys  bool   // the tree is the host's /sys or under it
		want uint64 // RecSet
	}{
		{"rbind ro of /sys", Options{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY}, true, unix.MOUNT_ATTR_RDONLY},
		// The sysfs fallback's options, rbind added by the runtime.
		{
			"sysfs fallback",
			Options{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
			true,
			unix.MOUNT_ATTR_RDONLY,
		},
		{"rbind ro rnosuid of /sys", Options{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, RecSet: unix.MOUNT_ATTR_NOSUID}, true, unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_RDONLY},
		{"rbind rw of /sys", Options{Flags: unix.MS_BIND | unix.MS_REC, Clear: unix.MS_RDONLY}, true, 0},
		{"rbind of /sys", Options{Flags: unix.MS_BIND | unix.MS_REC}, true, 0},
		// A bind has no submounts to reach; the top is made ro as before.
		{"bind ro of /sys", Options{Flags: unix.MS_BIND | unix.MS_RDONLY}, true, 0},
		{"not a bind", Options{Flags: unix.MS_RDONLY}, true, 0},
		// rrw is explicit: the submounts are the user's call.
		{"rbind ro rrw of /sys", Options{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, RecClear: unix.MOUNT_ATTR_RDONLY}, true, 0},
		// Any other tree: "ro" is the top mount's (a Kubernetes readOnly
		// volume without recursiveReadOnly); "rro" is the recursive one.
		{"rbind ro", Options{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY}, false, 0},
		{"rbind ro rro", Options{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, RecSet: unix.MOUNT_ATTR_RDONLY}, false, unix.MOUNT_ATTR_RDONLY},
	} {
		got := deepReadonly(tc.o, tc.sys)
		if got.RecSet != tc.want {
			t.Errorf("deepReadonly(%s): got RecSet %#x, want %#x", tc.name, got.RecSet, tc.want)
		}
		if got.Flags != tc.o.Flags || got.Clear != tc.o.Clear || got.RecClear != tc.o.RecClear {
			t.Errorf("deepReadonly(%s): changed more than RecSet: got %+v, from %+v", tc.name, got, tc.o)
		}
	}
	// From the option list of `spec --rootless`'s /sys.
	o, err := ParseOptions([]string{"rbind", "nosuid", "noexec", "nodev", "ro"})
	if err != nil {
		t.Fatal(err)
	}
	if got := deepReadonly(o, true).RecSet; got != unix.MOUNT_ATTR_RDONLY {
		t.Errorf("deepReadonly(spec --rootless /sys): got RecSet %#x, want %#x", got, uint64(unix.MOUNT_ATTR_RDONLY))
	}
}
