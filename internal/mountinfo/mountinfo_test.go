package mountinfo

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const in = `22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 master:3 - proc proc rw
41 31 0:38 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate
50 22 254:1 /var/lib/with\040space /mnt/a\040b\011c ro,relatime - ext4 /dev/disk\040x rw
51 22 0:40 / /mnt/nosuper rw - fuse.sshfs user@host:/dir
`
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Info{
		{ID: 22, Parent: 1, Dev: "254:1", Root: "/", Point: "/", Options: "rw,relatime", Optional: []string{"shared:1"}, FSType: "ext4", Source: "/dev/vda1", SuperOptions: "rw,errors=remount-ro"},
		{ID: 23, Parent: 22, Dev: "0:21", Root: "/", Point: "/proc", Options: "rw,nosuid,nodev,noexec,relatime", Optional: []string{"shared:12", "master:3"}, FSType: "proc", Source: "proc", SuperOptions: "rw"},
		{ID: 41, Parent: 31, Dev: "0:38", Root: "/", Point: "/sys/fs/cgroup/unified", Options: "rw,nosuid,nodev,noexec,relatime", Optional: []string{}, FSType: "cgroup2", Source: "cgroup2", SuperOptions: "rw,nsdelegate"},
		{ID: 50, Parent: 22, Dev: "254:1", Root: "/var/lib/with space", Point: "/mnt/a b\tc", Options: "ro,relatime", Optional: []string{}, FSType: "ext4", Source: "/dev/disk x", SuperOptions: "rw"},
		{ID: 51, Parent: 22, Dev: "0:40", Root: "/", Point: "/mnt/nosuper", Options: "rw", Optional: []string{}, FSType: "fuse.sshfs", Source: "user@host:/dir"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("line %d:\ngot  %+v,\nwant %+v", i+1, got[i], want[i])
		}
	}
}

func TestParseEmpty(t *testing.T) {
	got, err := Parse(strings.NewReader(""))
	if err != nil || len(got) != 0 {
		t.Errorf("Parse(\"\"): got %v, %v; want no entries, nil", got, err)
	}
}

// A line longer than bufio's default 64 KiB (many optional fields or a
// long path) must parse.
func TestParseLongLine(t *testing.T) {
	long := "/" + strings.Repeat("d", 100*1024)
	in := "22 1 0:1 / " + long + " rw - tmpfs tmpfs rw\n"
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Point != long {
		t.Errorf("got %d entries (point of %d bytes), want 1 of %d bytes", len(got), len(got[0].Point), len(long))
	}
}

func TestParseMalformed(t *testing.T) {
	for _, in := range []string{
		"garbage\n",
		"22 1 254:1 / / rw,relatime shared:1 ext4 /dev/vda1 rw\n", // no separator
		"22 1 254:1 / - ext4 /dev/vda1 rw\n",                      // too few fields before it
		"22 1 254:1 / / rw - ext4\n",                              // no source
		"22 1 254:1 / / rw -\n",
		"x 1 254:1 / / rw - ext4 /dev/vda1 rw\n", // mount IDs are numbers
		"22 -a 254:1 / / rw - ext4 /dev/vda1 rw\n",
	} {
		if got, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q): got %+v, nil error; want an error", in, got)
		}
	}
}

func TestUnescape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"/plain/path", "/plain/path"},
		{`/a\040b`, "/a b"},
		{`\040`, " "},
		{`/tab\011nl\012`, "/tab\tnl\n"},
		{`/back\134slash`, `/back\slash`},
		{`/x\0400`, "/x 0"},
		{`\101\102\103`, "ABC"},
		// Not an escape: left as is.
		{`/a\04`, `/a\04`},
		{`/a\`, `/a\`},
		{`/a\8xy`, `/a\8xy`},
		{`/a\09x`, `/a\09x`},
	} {
		if got := Unescape(tc.in); got != tc.want {
			t.Errorf("Unescape(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The kernel does not escape a carriage return (or \v, \f): it is part of
// the path, not a field separator.
func TestParseCarriageReturn(t *testing.T) {
	in := "36 35 98:0 /\r /mnt/a\rb rw - ext4 \r rw\n"
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Info{ID: 36, Parent: 35, Dev: "98:0", Root: "/\r", Point: "/mnt/a\rb", Options: "rw", Optional: []string{}, FSType: "ext4", Source: "\r", SuperOptions: "rw"}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("Parse(%q): got %+v, want %+v", in, got, want)
	}
}
