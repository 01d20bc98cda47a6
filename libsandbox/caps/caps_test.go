package caps

import (
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		ok   bool
	}{
		{"CAP_CHOWN", 0, true},
		{"CAP_KILL", 5, true},
		{"CAP_NET_BIND_SERVICE", 10, true},
		{"CAP_SYS_ADMIN", 21, true},
		{"CAP_AUDIT_WRITE", 29, true},
		{"CAP_SYSLOG", 34, true},
		{"CAP_BPF", 39, true},
		{"CAP_CHECKPOINT_RESTORE", 40, true},
		// The spec spells them upper case with the prefix.
		{"cap_chown", 0, false},
		{"CHOWN", 0, false},
		{"CAP_", 0, false},
		{"", 0, false},
		{"CAP_41", 0, false},
	} {
		n, ok := Number(tc.name)
		if n != tc.n || ok != tc.ok {
			t.Errorf("Number(%q): got %d, %v; want %d, %v", tc.name, n, ok, tc.n, tc.ok)
		}
	}
}

func TestName(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "CAP_CHOWN"}, {21, "CAP_SYS_ADMIN"}, {40, "CAP_CHECKPOINT_RESTORE"},
		{41, "CAP_41"}, {63, "CAP_63"}, {-1, "CAP_-1"},
	} {
		if got := Name(tc.n); got != tc.want {
			t.Errorf("Name(%d): got %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestNames(t *testing.T) {
	names := Names()
	if got, want := len(names), 41; got != want {
		t.Errorf("len(Names()): got %d, want %d", got, want)
	}
	for i, name := range names {
		if n, ok := Number(name); !ok || n != i {
			t.Errorf("Number(Names()[%d] = %q): got %d, %v; want %d, true", i, name, n, ok, i)
		}
		if got := Name(i); got != name {
			t.Errorf("Name(%d): got %q, want %q", i, got, name)
		}
	}
	names[0] = "CAP_CHANGED"
	if got := Names()[0]; got != "CAP_CHOWN" {
		t.Errorf("Names() after changing a returned slice: got %q first, want CAP_CHOWN", got)
	}
}

func TestLastCap(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Fatalf("no cap_last_cap to compare with: %v", err)
	}
	want, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got := LastCap(); got != want {
		t.Errorf("LastCap(): got %d, want %d", got, want)
	}
}

func set(ns ...int) Set {
	var s Set
	for _, n := range ns {
		s |= 1 << uint(n)
	}
	return s
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name     string
		caps     *specs.LinuxCapabilities
		lastCap  int
		want     Sets
		warnings []string // substrings, one per warning
		err      string   // substring of the error
	}{
		{name: "nil", caps: nil, lastCap: 40},
		{name: "empty", caps: &specs.LinuxCapabilities{}, lastCap: 40},
		{
			name: "each set",
			caps: &specs.LinuxCapabilities{
				Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"},
				Effective:   []string{"CAP_KILL"},
				Inheritable: []string{"CAP_NET_RAW"},
				Permitted:   []string{"CAP_KILL", "CAP_NET_RAW"},
				Ambient:     []string{"CAP_NET_RAW"},
			},
			lastCap: 40,
			want: Sets{
				Bounding:    set(0, 5, 21),
				Effective:   set(5),
				Inheritable: set(13),
				Permitted:   set(5, 13),
				Ambient:     set(13),
			},
		},
		{
			name:    "duplicates are harmless",
			caps:    &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL", "CAP_KILL"}},
			lastCap: 40,
			want:    Sets{Bounding: set(5)},
		},
		{
			name:    "highest known",
			caps:    &specs.LinuxCapabilities{Bounding: []string{"CAP_CHECKPOINT_RESTORE"}},
			lastCap: 40,
			want:    Sets{Bounding: set(40)},
		},
		{
			name: "above the kernel's last: warned and dropped",
			caps: &specs.LinuxCapabilities{
				Bounding:  []string{"CAP_KILL", "CAP_BPF"},
				Effective: []string{"CAP_PERFMON"},
			},
			lastCap:  37, // CAP_AUDIT_READ: a 4.x kernel
			want:     Sets{Bounding: set(5)},
			warnings: []string{"ignoring unknown or unavailable capabilities: [CAP_BPF CAP_PERFMON]"},
		},
		// config.md "Capabilities": a name that cannot be mapped is
		// logged as a warning, not an error (runc's words, one line,
		// each name once, sorted).
		{
			name: "unknown names: warned and dropped",
			caps: &specs.LinuxCapabilities{
				Bounding:    []string{"CAP_KILL", "CAP_BOGUS"},
				Effective:   []string{"kill", "CAP_BOGUS"},
				Inheritable: []string{""},
				Permitted:   []string{"CAP_41"},
				Ambient:     []string{"CAP_SYS_ADMIN "},
			},
			lastCap:  40,
			want:     Sets{Bounding: set(5)},
			warnings: []string{`ignoring unknown or unavailable capabilities: [ CAP_41 CAP_BOGUS CAP_SYS_ADMIN  kill]`},
		},
		{
			name:     "unknown and above last in one line",
			caps:     &specs.LinuxCapabilities{Bounding: []string{"CAP_BPF", "CAP_BOGUS"}},
			lastCap:  37,
			warnings: []string{"ignoring unknown or unavailable capabilities: [CAP_BOGUS CAP_BPF]"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := Resolve(tc.caps, tc.lastCap)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if got != tc.want {
				t.Errorf("sets: got %+v, want %+v", got, tc.want)
			}
			if len(warnings) != len(tc.warnings) {
				t.Fatalf("warnings: got %q, want %d containing %q", warnings, len(tc.warnings), tc.warnings)
			}
			for i, w := range tc.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d: got %q, want it to contain %q", i, warnings[i], w)
				}
			}
		})
	}
}

func TestSetHas(t *testing.T) {
	s := set(0, 21, 40)
	for n := 0; n < 64; n++ {
		want := n == 0 || n == 21 || n == 40
		if got := s.Has(n); got != want {
			t.Errorf("Has(%d): got %v, want %v", n, got, want)
		}
	}
}
