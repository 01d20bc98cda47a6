package criu

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu/rpc"
)

func TestErrorLines(t *testing.T) {
	log := `(00.000010) Version: 3.17.1 (gitid 0)
(00.001234) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds
(00.001240) Warn  (criu/kerndat.c:1): not an error
(00.001300) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.
`
	got := ErrorLines([]byte(log), 6)
	want := []string{
		"Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds",
		"Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	var many strings.Builder
	for i := 0; i < 10; i++ {
		many.WriteString("Error (x.c:1): line " + string(rune('0'+i)) + "\n")
	}
	if got := ErrorLines([]byte(many.String()), 3); len(got) != 3 || got[2] != "Error (x.c:1): line 9" {
		t.Errorf("last 3 of 10: got %q", got)
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Type: rpc.CriuReqType_DUMP, Errno: 1}, "criu failed: dump (errno 1: operation not permitted)"},
		// The response's message is the log's last error: said once.
		{Error{Type: rpc.CriuReqType_RESTORE, Msg: "Error (a.c:1): b\n", Log: "/i/restore.log", Quoted: []string{"Error (a.c:1): b"}},
			"criu failed: restore; /i/restore.log says: Error (a.c:1): b"},
		{Error{Type: rpc.CriuReqType_CHECK, Msg: "other", Log: "/w/check.log"}, "criu failed: check: other; see /w/check.log"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestFormatVersion(t *testing.T) {
	for v, want := range map[int]string{31701: "3.17.1", 31500: "3.15", 40000: "4.0"} {
		if got := FormatVersion(v); got != want {
			t.Errorf("FormatVersion(%d): got %q, want %q", v, got, want)
		}
	}
}

// TestCheckSaysWhy: Check agrees with `criu check` and, where that
// fails, quotes CRIU's reason (root only: criu needs it).
func TestCheckSaysWhy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("criu"); err != nil {
		t.Skip("no criu")
	}
	out, cliErr := exec.Command("criu", "check").CombinedOutput()
	err := Check("")
	if (cliErr == nil) != (err == nil) {
		t.Fatalf("criu check: %v (%s); Check: %v", cliErr, out, err)
	}
	if err == nil {
		return
	}
	// The first error is the reason; the command line adds its own
	// last one ("Could not initialize kernel features detection").
	want := ErrorLines(out, 100)
	if len(want) == 0 {
		t.Skipf("criu check gives no error line: %s", out)
	}
	if !strings.Contains(err.Error(), want[0]) {
		t.Errorf("got %q, want it to quote %q", err, want[0])
	}
}
