package cgroups

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// requireDeviceBPF skips unless this kernel lets us load a device
// program at all: a trivial one (allow everything), so that a refusal
// of the programs under test still fails them.
func requireDeviceBPF(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading BPF programs needs root")
	}
	fd, err := loadDeviceProgram([]Insn{mov64Imm(R0, 1), exit()})
	switch {
	case errors.Is(err, unix.EPERM):
		t.Skipf("the kernel does not let us load BPF programs (locked down, or bpf(2) filtered): %v", err)
	case errors.Is(err, unix.ENOSYS):
		t.Skipf("the kernel has no bpf(2): %v", err)
	case errors.Is(err, unix.EINVAL):
		t.Skipf("the kernel has no BPF_PROG_TYPE_CGROUP_DEVICE (Linux < 4.15 or CONFIG_CGROUP_BPF off): %v", err)
	case err != nil:
		t.Fatalf("load a trivial device program: %v", err)
	}
	unix.Close(fd)
}

// TestProgramLoads loads the device filter of typical rule lists into
// the kernel: the verifier refuses a program with unreachable code, as
// after a rule that matches everything.
func TestProgramLoads(t *testing.T) {
	requireDeviceBPF(t)
	var maj, min int64 = 1, 11
	for _, tc := range []struct {
		name string
		spec []specs.LinuxDeviceCgroup
		// last are appended after the defaults.
		last []Rule
	}{
		{"default spec: deny all first", []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, nil},
		{"deny all, then an allow", []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: &maj, Minor: &min, Access: "w"}}, nil},
		{"allow all first", []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}, nil},
		{"allow all last", nil, []Rule{{Type: 'a', Major: -1, Minor: -1, Access: "rwm", Allow: true}}},
		{"no rules", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := Rules(tc.spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			rules = append(rules, tc.last...)
			fd, err := loadDeviceProgram(Program(rules))
			if err != nil {
				t.Fatalf("load %v: %v", rules, err)
			}
			unix.Close(fd)
		})
	}
}

// A refused program's error carries the end of the verifier's log.
func TestProgramLoadErrorHasLog(t *testing.T) {
	requireDeviceBPF(t)
	// Exit without setting R0: "R0 !read_ok".
	fd, err := loadDeviceProgram([]Insn{exit()})
	if err == nil {
		unix.Close(fd)
		t.Fatal("the verifier accepted a program returning an unset R0")
	}
	if !errors.Is(err, unix.EACCES) || !strings.Contains(err.Error(), "(verifier: ") || !strings.Contains(err.Error(), "R0") {
		t.Errorf("got %v, want EACCES with the verifier's complaint about R0", err)
	}
}

// TestAttachDeviceFilter attaches filters to a real cgroup2 cgroup (on
// hybrid hosts too: the v2 hierarchy's device programs apply to its
// processes whatever the v1 devices controller says) and opens devices
// from a process inside it. An update must replace the filter, not add
// to it: with two programs attached, both would have to allow.
func TestAttachDeviceFilter(t *testing.T) {
	requireDeviceBPF(t)
	root := ""
	for _, p := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			root = p
			break
		}
	}
	if root == "" {
		t.Skip("no cgroup2 hierarchy mounted")
	}
	dir := root + "/sr-test-devices-" + strconv.Itoa(os.Getpid())
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	t.Cleanup(func() { os.Remove(dir) })

	null := Rule{Type: 'c', Major: 1, Minor: 3, Access: "rw", Allow: true}
	zero := Rule{Type: 'c', Major: 1, Minor: 5, Access: "rw", Allow: true}
	for _, step := range []struct {
		rules []Rule
		want  string
	}{
		{[]Rule{zero}, "/dev/null: operation not permitted\n/dev/zero: ok\n"},
		{[]Rule{null}, "/dev/null: ok\n/dev/zero: operation not permitted\n"},
		{[]Rule{null, {Type: 'c', Major: 1, Minor: 3, Access: "w"}, zero}, "/dev/null: ok\n/dev/zero: ok\n"},
	} {
		if err := attachDeviceFilter(dir, step.rules); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := queryDevicePrograms(int(f.Fd()))
		if err != nil {
			f.Close()
			t.Fatal(err)
		}
		if len(ids) != 1 {
			t.Errorf("%v: %d programs attached (ids %v), want 1", step.rules, len(ids), ids)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOpenDevices$", "--", "/dev/null", "/dev/zero")
		cmd.Env = append(os.Environ(), "GO_WANT_HELPER_PROCESS=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}
		out, err := cmd.CombinedOutput()
		f.Close()
		if err != nil {
			t.Fatalf("helper: %v: %s", err, out)
		}
		if string(out) != step.want {
			t.Errorf("%v: opening read-only in the cgroup gave\n%swant\n%s", step.rules, out, step.want)
		}
	}
}

// TestHelperOpenDevices is TestAttachDeviceFilter's process inside the
// cgroup: it opens each path read-only and says how that went.
func TestHelperOpenDevices(t *testing.T) {
	if os.Getenv("GO_WANT_HELPER_PROCESS") != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	for _, p := range args[1:] {
		f, err := os.Open(p)
		if err != nil {
			fmt.Printf("%s: %v\n", p, errors.Unwrap(err))
			continue
		}
		f.Close()
		fmt.Printf("%s: ok\n", p)
	}
	os.Exit(0)
}

// TestAttachDeviceFilterKeepsOthers: an update replaces our program and
// leaves another's (systemd's sd_devices, under the systemd driver)
// attached.
func TestAttachDeviceFilterKeepsOthers(t *testing.T) {
	requireDeviceBPF(t)
	var st unix.Statfs_t
	root := ""
	for _, p := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			root = p
			break
		}
	}
	if root == "" {
		t.Skip("no cgroup2 hierarchy mounted")
	}
	dir := root + "/sr-test-devices-others-" + strconv.Itoa(os.Getpid())
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	insns := Program([]Rule{{Type: 'a', Major: -1, Minor: -1, Access: "rwm", Allow: true}})
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    ptr{unsafe.Pointer(&insns[0])},
		license:  ptr{unsafe.Pointer(&bpfLicense[0])},
	}
	copy(attr.progName[:], "sd_devices")
	prog, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(prog)
	if err := attachDeviceProgram(int(f.Fd()), prog); err != nil {
		t.Fatal(err)
	}
	null := Rule{Type: 'c', Major: 1, Minor: 3, Access: "rw", Allow: true}
	for i := 0; i < 2; i++ {
		if err := attachDeviceFilter(dir, []Rule{null}); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := queryDevicePrograms(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, id := range ids {
		fd, err := progFdByID(id)
		if err != nil {
			t.Fatal(err)
		}
		n, err := progName(fd)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	if want := []string{"sandbox_devices", "sd_devices"}; !reflect.DeepEqual(names, want) {
		t.Errorf("programs attached: %q, want %q", names, want)
	}
}
