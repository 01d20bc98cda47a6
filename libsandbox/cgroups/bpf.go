package cgroups

// The eBPF side of the v2 device filter: the few instructions Program
// emits and the bpf(2) calls that load, attach and detach it. It is our
// own because github.com/cilium/ebpf, which did this before, cost about
// 1 ms of package initialisation and 1.5-2 MB of resident pages at every
// start of the runtime (twice per container: the CLI and its init
// re-exec), and all we need is one tiny BPF_PROG_TYPE_CGROUP_DEVICE
// program.

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Insn is one eBPF instruction with the layout of the kernel's struct
// bpf_insn (include/uapi/linux/bpf.h): opcode, dst_reg:4 and src_reg:4,
// a signed 16-bit offset and a signed 32-bit immediate, in host byte
// order. BPF_PROG_LOAD reads a program as an array of these straight
// from our memory, so the Go struct must be exactly those 8 bytes.
type Insn struct {
	Op uint8
	// Regs holds dst_reg in the low nibble and src_reg in the high one:
	// the order of C bitfields on little-endian hosts (big-endian ones
	// swap them; the runtime is built for amd64 and arm64 only).
	Regs uint8
	Off  int16
	Imm  int32
}

// The array the kernel reads must match struct bpf_insn; this fails to
// compile if Insn is ever not 8 bytes.
var _ [8]byte = [unsafe.Sizeof(Insn{})]byte{}

// Reg is an eBPF register: R0 is the return value, R1 the context
// pointer on entry, R6-R9 are callee-saved (we call nothing).
type Reg uint8

const (
	R0 Reg = iota
	R1
	R2
	R3
	R4
	R5
	R6
)

// Opcode parts (include/uapi/linux/bpf_common.h and bpf.h). An opcode
// is class | operation | source (ALU, JMP) or class | size | mode (LDX).
const (
	classLDX   = 0x01
	classALU   = 0x04 // 32-bit: the result is zero-extended
	classJMP   = 0x05 // 64-bit comparisons
	classALU64 = 0x07

	sizeW   = 0x00 // 32-bit load
	modeMEM = 0x60

	srcK = 0x00 // the operand is Imm
	srcX = 0x08 // the operand is src_reg

	aluAND = 0x50
	aluRSH = 0x70
	aluMOV = 0xb0

	jmpJEQ  = 0x10
	jmpJNE  = 0x50
	jmpEXIT = 0x90
)

func regs(dst, src Reg) uint8 { return uint8(dst)&0x0f | uint8(src)<<4 }

// ldxW: dst = *(u32 *)(src + off).
func ldxW(dst, src Reg, off int16) Insn {
	return Insn{Op: classLDX | sizeW | modeMEM, Regs: regs(dst, src), Off: off}
}

// and32Imm: dst = u32(dst) & imm.
func and32Imm(dst Reg, imm int32) Insn {
	return Insn{Op: classALU | aluAND | srcK, Regs: regs(dst, 0), Imm: imm}
}

// rsh32Imm: dst = u32(dst) >> imm.
func rsh32Imm(dst Reg, imm int32) Insn {
	return Insn{Op: classALU | aluRSH | srcK, Regs: regs(dst, 0), Imm: imm}
}

// mov32Reg: dst = u32(src).
func mov32Reg(dst, src Reg) Insn {
	return Insn{Op: classALU | aluMOV | srcX, Regs: regs(dst, src)}
}

// mov64Imm: dst = imm, sign-extended.
func mov64Imm(dst Reg, imm int32) Insn {
	return Insn{Op: classALU64 | aluMOV | srcK, Regs: regs(dst, 0), Imm: imm}
}

// jneImm: if dst != imm (sign-extended), skip off instructions.
func jneImm(dst Reg, imm int32, off int16) Insn {
	return Insn{Op: classJMP | jmpJNE | srcK, Regs: regs(dst, 0), Off: off, Imm: imm}
}

// jeqImm: if dst == imm (sign-extended), skip off instructions.
func jeqImm(dst Reg, imm int32, off int16) Insn {
	return Insn{Op: classJMP | jmpJEQ | srcK, Regs: regs(dst, 0), Off: off, Imm: imm}
}

// jneReg: if dst != src, skip off instructions.
func jneReg(dst, src Reg, off int16) Insn {
	return Insn{Op: classJMP | jmpJNE | srcX, Regs: regs(dst, src), Off: off}
}

// exit returns R0.
func exit() Insn { return Insn{Op: classJMP | jmpEXIT} }

// ptr is a __aligned_u64 holding a user pointer in a bpf_attr: set
// ptr{p}. It is made of unsafe.Pointers rather than a uint64 so that the
// garbage collector sees (and keeps) what it points to. It is an array
// (one pointer, or two on 32-bit hosts, where the second is the zero
// high half on little-endian ones) because a struct ending in a
// zero-length padding field would be padded further by Go.
type ptr [8 / unsafe.Sizeof(uintptr(0))]unsafe.Pointer

// The attr structs below are the members of union bpf_attr
// (include/uapi/linux/bpf.h) for the commands we use, each up to the
// last field we set or the kernel writes back. We pass our struct's
// size: the kernel reads that much and treats the rest as zero, and
// refuses (E2BIG) non-zero bytes it does not know.

// progLoadAttr is the BPF_PROG_LOAD member, up to prog_name (Linux
// 4.15, as BPF_PROG_TYPE_CGROUP_DEVICE).
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       ptr
	license     ptr // NUL-terminated
	logLevel    uint32
	logSize     uint32
	logBuf      ptr
	kernVersion uint32
	progFlags   uint32
	progName    [unix.BPF_OBJ_NAME_LEN]byte
}

// progAttachAttr is the BPF_PROG_ATTACH and BPF_PROG_DETACH member, up
// to attach_flags.
type progAttachAttr struct {
	targetFd    uint32
	attachBpfFd uint32
	attachType  uint32
	attachFlags uint32
}

// progQueryAttr is the BPF_PROG_QUERY member, up to revision. We set
// only the first fields, but the kernel writes attach_flags and
// prog_cnt back into our memory, and newer kernels revision too, at
// their offsets in union bpf_attr: the struct reaches that far so that
// those writes land in it whatever size the kernel checks.
type progQueryAttr struct {
	targetFd        uint32
	attachType      uint32
	queryFlags      uint32
	attachFlags     uint32
	progIDs         ptr
	progCnt         uint32
	_               uint32
	progAttachFlags ptr
	linkIDs         ptr
	linkAttachFlags ptr
	revision        uint64
}

// getIDAttr is the BPF_*_GET_*_ID member.
type getIDAttr struct {
	id        uint32
	nextID    uint32
	openFlags uint32
}

// objInfoAttr is the BPF_OBJ_GET_INFO_BY_FD member.
type objInfoAttr struct {
	bpfFd   uint32
	infoLen uint32
	info    ptr
}

// progInfo is struct bpf_prog_info up to name (Linux 4.15).
type progInfo struct {
	progType     uint32
	id           uint32
	tag          [8]byte
	jitedLen     uint32
	xlatedLen    uint32
	jitedInsns   uint64
	xlatedInsns  uint64
	loadTime     uint64
	createdByUID uint32
	nrMapIDs     uint32
	mapIDs       uint64
	name         [unix.BPF_OBJ_NAME_LEN]byte
}

// The sizes of the uapi structs up to our last field; these fail to
// compile if a field is added, dropped or misaligned.
var (
	_ [64]byte = [unsafe.Sizeof(progLoadAttr{})]byte{}
	_ [16]byte = [unsafe.Sizeof(progAttachAttr{})]byte{}
	_ [64]byte = [unsafe.Sizeof(progQueryAttr{})]byte{}
	_ [12]byte = [unsafe.Sizeof(getIDAttr{})]byte{}
	_ [16]byte = [unsafe.Sizeof(objInfoAttr{})]byte{}
	_ [80]byte = [unsafe.Sizeof(progInfo{})]byte{}
)

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// bpfLicense is what the program declares; no helper we call needs GPL.
var bpfLicense = []byte("Apache-2.0\x00")

// loadDeviceProgram loads insns as a BPF_PROG_TYPE_CGROUP_DEVICE program
// and returns its fd (close-on-exec). When the kernel refuses it, the
// load is tried once more with the verifier's log, whose last lines
// then end the error: they say which instruction it objects to.
func loadDeviceProgram(insns []Insn) (int, error) {
	if len(insns) == 0 {
		return -1, errors.New("empty program")
	}
	fd, err := progLoad(insns, nil)
	if err == nil {
		return fd, nil
	}
	log := make([]byte, 64<<10)
	if fd, err2 := progLoad(insns, log); err2 == nil {
		// The first failure was transient after all.
		return fd, nil
	}
	if tail := logTail(log, 5); tail != "" {
		return -1, &verifierError{err: err, log: tail}
	}
	return -1, err
}

func progLoad(insns []Insn, log []byte) (int, error) {
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    ptr{unsafe.Pointer(&insns[0])},
		license:  ptr{unsafe.Pointer(&bpfLicense[0])},
	}
	copy(attr.progName[:], deviceProgName) // shown by bpftool
	if len(log) > 0 {
		attr.logLevel = 1
		attr.logSize = uint32(len(log))
		attr.logBuf = ptr{unsafe.Pointer(&log[0])}
	}
	for tries := 0; ; tries++ {
		fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		// The verifier gives up with EAGAIN when a signal is pending,
		// and the Go runtime signals its threads (preemption) at any
		// time.
		if (err == unix.EAGAIN || err == unix.EINTR) && tries < 10 {
			continue
		}
		if err != nil {
			return -1, os.NewSyscallError("bpf(BPF_PROG_LOAD)", err)
		}
		return fd, nil
	}
}

// logTail returns the last n non-empty lines of a NUL-terminated
// verifier log, joined with "; " to keep the error on one line, leaving
// out the statistics line ("processed 12 insns ...") that ends it.
func logTail(log []byte, n int) string {
	if i := bytes.IndexByte(log, 0); i >= 0 {
		log = log[:i]
	}
	var lines []string
	for _, l := range strings.Split(string(log), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "processed ") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// verifierError is a refused load with what the verifier said.
type verifierError struct {
	err error
	log string
}

func (e *verifierError) Error() string { return e.err.Error() + " (verifier: " + e.log + ")" }
func (e *verifierError) Unwrap() error { return e.err }

// attachDeviceProgram attaches prog to the cgroup open as cgroup, next
// to programs already there (BPF_F_ALLOW_MULTI): every attached program
// must allow an access.
func attachDeviceProgram(cgroup, prog int) error {
	attr := progAttachAttr{
		targetFd:    uint32(cgroup),
		attachBpfFd: uint32(prog),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	_, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return os.NewSyscallError("bpf(BPF_PROG_ATTACH)", err)
}

// detachDeviceProgram detaches prog from the cgroup open as cgroup. A
// cgroup with BPF_F_ALLOW_MULTI programs needs to be told which one.
func detachDeviceProgram(cgroup, prog int) error {
	attr := progAttachAttr{
		targetFd:    uint32(cgroup),
		attachBpfFd: uint32(prog),
		attachType:  unix.BPF_CGROUP_DEVICE,
	}
	_, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return os.NewSyscallError("bpf(BPF_PROG_DETACH)", err)
}

// queryDevicePrograms returns the ids of the device programs attached to
// the cgroup open as cgroup itself (not those inherited from ancestors).
func queryDevicePrograms(cgroup int) ([]uint32, error) {
	ids := make([]uint32, 16)
	for {
		attr := progQueryAttr{
			targetFd:   uint32(cgroup),
			attachType: unix.BPF_CGROUP_DEVICE,
			progIDs:    ptr{unsafe.Pointer(&ids[0])},
			progCnt:    uint32(len(ids)),
		}
		_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		if err == unix.ENOSPC && int(attr.progCnt) > len(ids) {
			// More than fit; prog_cnt now says how many. Programs
			// can be attached meanwhile, hence the loop.
			ids = make([]uint32, attr.progCnt)
			continue
		}
		if err != nil {
			return nil, os.NewSyscallError("bpf(BPF_PROG_QUERY)", err)
		}
		return ids[:min(int(attr.progCnt), len(ids))], nil
	}
}

// progFdByID opens the program with this id (close-on-exec).
func progFdByID(id uint32) (int, error) {
	attr := getIDAttr{id: id}
	fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return -1, os.NewSyscallError("bpf(BPF_PROG_GET_FD_BY_ID)", err)
	}
	return fd, nil
}

// deviceProgName names our device programs; systemd names its own
// sd_devices.
const deviceProgName = "sandbox_devices"

// progName returns the name of the program open as fd.
func progName(fd int) (string, error) {
	var info progInfo
	attr := objInfoAttr{bpfFd: uint32(fd), infoLen: uint32(unsafe.Sizeof(info)), info: ptr{unsafe.Pointer(&info)}}
	if _, err := bpf(unix.BPF_OBJ_GET_INFO_BY_FD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return "", os.NewSyscallError("bpf(BPF_OBJ_GET_INFO_BY_FD)", err)
	}
	n := 0
	for n < len(info.name) && info.name[n] != 0 {
		n++
	}
	return string(info.name[:n]), nil
}
