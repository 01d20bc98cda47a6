package report

import (
	"strings"
	"testing"
)

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		in            string
		width, indent int
		want          []string
	}{
		{"", 10, 0, []string{""}},
		{"a b c", 10, 0, []string{"a b c"}},
		{"aaaa bbbb cccc", 9, 0, []string{"aaaa bbbb", "cccc"}},
		{"aaaa bbbb cccc dd", 9, 2, []string{"aaaa bbbb", "cccc dd"}},
		{"aaaa bbbb cccc ddd", 9, 2, []string{"aaaa bbbb", "cccc", "ddd"}},
		{"abcdefghijkl", 5, 0, []string{"abcde", "fghij", "kl"}},
		{"x abcdefghijkl", 5, 1, []string{"x", "abcd", "efgh", "ijkl"}},
	} {
		got := wrap(tc.in, tc.width, tc.indent)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrap(%q, %d, %d): got %q, want %q", tc.in, tc.width, tc.indent, got, tc.want)
		}
	}
}

// The table fits 79 columns, whatever it says; and says what the
// report does.
func TestWriteTable(t *testing.T) {
	f := isolated()
	f.ns["net"] = hostNS["net"]
	f.ns["user"] = hostNS["user"]
	f.uidMap = "0 0 4294967295\n"
	f.statusMods = map[string]string{"Uid": "0\t0\t0\t0", "CapEff": "000001ffffffffff", "CapPrm": "000001ffffffffff", "Seccomp": "0"}
	f.mountinfo += "108 100 254:1 /srv/a/very/long/path/that/goes/on/and/on/for/a/while/data /data rw,relatime - ext4 /dev/vda1 rw\n"
	r, err := Gather(f.write(t))
	if err != nil {
		t.Fatal(err)
	}
	r.ID, r.Status = "c1", "running"
	var b strings.Builder
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Log("\n" + out)
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if len(l) > 79 {
			t.Errorf("line %d is %d columns: %q", i+1, len(l), l)
		}
	}
	for _, want := range []string{
		"container    c1, pid 42, running",
		"namespaces   its own: cgroup ipc mount pid uts",
		"             the host's: network time user",
		"user         uid 0 inside is 0 on the host (map: 0 0 4294967295)",
		"capabilities 41 effective, over the host (the host's user namespace)",
		"seccomp      disabled",
		"root         pivot_root, /run/b/rootfs (ext4, read-only)",
		"host mounts  /data from",
		"  medium     CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_BLOCK_SUSPEND",
		"memory       limit 12.0 MB, 1.0 MB used",
		"  high       shares the host's network namespace",
		"  high       a host directory bind-mounted writable: /data (from",
		"  high       CAP_SYS_ADMIN in the host user namespace",
		"  medium     no seccomp filter",
	} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want+" ") {
			t.Errorf("the table has no line %q", want)
		}
	}
}
