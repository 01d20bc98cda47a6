package mountinfo

import (
	"strings"
	"testing"
)

// escape is the kernel's escaping of paths in mountinfo: seq_escape with
// " \t\n\\" (fs/proc_namespace.c show_mountinfo), each as \ooo. Nothing
// else is escaped: a path may hold a carriage return or any other byte.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			b.WriteByte('\\')
			b.WriteByte('0' + c>>6)
			b.WriteByte('0' + c>>3&7)
			b.WriteByte('0' + c&7)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzParseMountinfo parses raw as a mountinfo file, which must not
// panic, and checks that a path the kernel escapes comes back whole from
// Unescape and from Parse, as the root, the mount point and the source of
// a line. The seed corpus is in testdata/fuzz/FuzzParseMountinfo.
func FuzzParseMountinfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw, path string) {
		infos, err := Parse(strings.NewReader(raw))
		if err == nil && len(infos) > strings.Count(raw, "\n")+1 {
			t.Errorf("Parse(%q): %d entries from %d lines", raw, len(infos), strings.Count(raw, "\n")+1)
		}

		esc := escape(path)
		if got := Unescape(esc); got != path {
			t.Fatalf("Unescape(%q): got %q, want %q", esc, got, path)
		}
		if path == "" || strings.ContainsRune(path, 0) {
			return // the kernel shows neither
		}
		// The root and the mount point are paths from "/"
		// (seq_dentry, seq_path_root); the source is any string
		// ("-" too).
		abs := path
		if !strings.HasPrefix(abs, "/") {
			abs = "/" + abs
		}
		line := "36 35 98:0 " + escape(abs) + " " + escape(abs) + " rw,noatime master:1 - ext4 " + esc + " rw,errors=continue\n"
		infos, err = Parse(strings.NewReader(line))
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		if len(infos) != 1 {
			t.Fatalf("Parse(%q): %d entries, want 1", line, len(infos))
		}
		in := infos[0]
		if in.Root != abs || in.Point != abs || in.Source != path {
			t.Errorf("Parse(%q): root %q, point %q, source %q; want %q, %q, %q", line, in.Root, in.Point, in.Source, abs, abs, path)
		}
		if in.FSType != "ext4" || in.Options != "rw,noatime" || in.SuperOptions != "rw,errors=continue" ||
			len(in.Optional) != 1 || in.Optional[0] != "master:1" {
			t.Errorf("Parse(%q): got %+v, want ext4, rw,noatime, [master:1], rw,errors=continue", line, in)
		}
	})
}
