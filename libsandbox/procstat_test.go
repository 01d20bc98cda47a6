package libsandbox

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/rawfork"
)

// stat builds a /proc/PID/stat line: the fields after comm are state,
// then 18 fields, then starttime (field 22), then a few more.
func stat(comm, state, start string) string {
	mid := strings.Repeat("0 ", 18)
	return "1234 (" + comm + ") " + state + " " + mid + start + " 0 0 0\n"
}

func TestParseProcStat(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want procStat
	}{
		{"plain", stat("sleep", "S", "123456"), procStat{State: 'S', StartTime: 123456}},
		{"running", stat("sh", "R", "1"), procStat{State: 'R', StartTime: 1}},
		{"zombie", stat("true", "Z", "987"), procStat{State: 'Z', StartTime: 987}},
		{"comm with spaces", stat("a b c", "S", "42"), procStat{State: 'S', StartTime: 42}},
		// A comm of ") R 1 2 3" must not be taken for the fields.
		{"comm with parentheses", stat(") Z 1 (2) 3", "S", "77"), procStat{State: 'S', StartTime: 77}},
		{"comm ending in paren", stat("x)", "D", "5"), procStat{State: 'D', StartTime: 5}},
		{"empty comm", stat("", "I", "18446744073709551615"), procStat{State: 'I', StartTime: 1<<64 - 1}},
		{
			"real line",
			"1 (systemd) S 0 1 1 0 -1 4194560 40000 2000000 100 2000 500 300 4000 900 20 0 1 0 12 180000000 3000 18446744073709551615 1 1 0 0 0 0 671173123 4096 1260 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
			procStat{State: 'S', StartTime: 12},
		},
	} {
		got, err := parseProcStat([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: parseProcStat(%q): %v", tc.name, tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestParseProcStatMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"1234",
		"1234 (sleep",
		"1234 (sleep)",
		"1234 (sleep) ",
		"1234 (sleep) S 1 2 3",
		stat("sleep", "S", "notanumber"),
		stat("sleep", "S", "-1"),
	} {
		if got, err := parseProcStat([]byte(in)); err == nil {
			t.Errorf("parseProcStat(%q): got %+v, nil error; want an error", in, got)
		}
	}
}

func TestReadProcStatSelf(t *testing.T) {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// The state is the main thread's, which may be asleep while this
	// goroutine runs on another thread.
	if st.State != 'R' && st.State != 'S' {
		t.Errorf("state of the test process: got %q, want 'R' or 'S'", st.State)
	}
	if st.StartTime == 0 {
		t.Errorf("start time of the test process: got 0, want > 0")
	}
	if !alive(os.Getpid(), st.StartTime) {
		t.Errorf("alive(self, %d): got false, want true", st.StartTime)
	}
	if alive(os.Getpid(), st.StartTime+1) {
		t.Errorf("alive(self, other start time): got true, want false")
	}
	if alive(0, st.StartTime) {
		t.Errorf("alive(0, ...): got true, want false")
	}
}

// A stop seen once may be a tracer's passing syscall stop; seen on two
// looks in a row it is kept, and a run in between starts the count over.
func TestStopWatch(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep: ", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	var w stopWatch
	if w.kept(pid) {
		t.Fatal("a running process is kept stopped")
	}
	if err := unix.Kill(pid, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && !stopped(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if w.kept(pid) {
		t.Error("kept after one look")
	}
	if !w.kept(pid) {
		t.Error("not kept after two looks")
	}
	unix.Kill(pid, unix.SIGCONT)
	for i := 0; i < 100 && stopped(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if w.kept(pid) {
		t.Error("kept once it runs again")
	}
	unix.Kill(pid, unix.SIGSTOP)
	for i := 0; i < 100 && !stopped(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if w.kept(pid) {
		t.Error("the count did not start over after it ran")
	}
}

// A tracing stop counts unless the tracer traces us too: a child this
// test attaches to is traced by us, and we by nobody, so it is stopped.
func TestStoppedTraced(t *testing.T) {
	runtime.LockOSThread() // ptrace requests come from the attaching thread
	defer runtime.UnlockOSThread()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep: ", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	if err := unix.PtraceAttach(pid); err != nil {
		t.Skip("cannot ptrace here: ", err)
	}
	defer unix.PtraceDetach(pid)
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		t.Fatalf("wait for the attach stop: %v (%v)", err, ws)
	}
	if b, _ := os.ReadFile("/proc/self/status"); !strings.Contains(string(b), "\nTracerPid:\t0\n") {
		t.Skip("this test is traced: nothing to tell apart")
	}
	if rawfork.OursTracingStop(pid) {
		t.Error("OursTracingStop: true for a child traced by us, who are not traced")
	}
	if !stopped(pid) {
		t.Error("a child in a tracing stop of another tracer than ours is not stopped")
	}
}
