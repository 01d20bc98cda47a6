package seccomp

import (
	"encoding/binary"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The -ENOSYS stub. A profile is written against the syscalls its author
// knew; a syscall newer than all of them (clone3, openat2, faccessat2...
// for an older profile) would get the default action, EPERM or a kill,
// and software that probes for it (glibc's clone3, then clone; openat2,
// then openat) would fail instead of falling back. So, as runc does
// (libcontainer/seccomp/patchbpf), a short program runs before
// the filter's: for each architecture of the filter, a syscall whose
// number is above the largest one the profile names answers ENOSYS, "not
// implemented", which is what such software checks for. The stub is
// needed only when the default action refuses; an allowing default lets
// everything unknown through anyway.

// Audit architectures (linux/audit.h) as seccomp_data.arch carries them.
const (
	auditArchX86_64  = 0xc000003e
	auditArchI386    = 0x40000003
	auditArchAARCH64 = 0xc00000b7
	auditArchARM     = 0x40000028
	auditArchRISCV64 = 0xc00000f3
	// x32 syscalls run under AUDIT_ARCH_X86_64 with this bit in the
	// number.
	x32SyscallBit = 0x40000000
)

// lastSyscalls maps each audit architecture of the filter to the largest
// syscall number the profile names there (for x86_64: amd64, and x32
// with its bit, 0 when absent).
type archLast struct {
	arch      uint32
	last, x32 uint32
}

func lastSyscalls(s *specs.LinuxSeccomp, archs []tableArch) []archLast {
	byAudit := map[uint32]*archLast{}
	var order []uint32
	for _, arch := range archs {
		aa := archInfos[arch].audit
		var last int32
		for _, sc := range s.Syscalls {
			for _, name := range sc.Names {
				e := sysLookup(name)
				if e == nil {
					continue
				}
				last = max(last, e.nr[arch])
				if arch == archX86 && e.mux != 0 {
					// Its rule is also on the multiplexer (muxRule).
					mux := "socketcall"
					if e.mux > 200 {
						mux = "ipc"
					}
					last = max(last, sysNumber(mux, archX86))
				}
			}
		}
		if last <= 0 {
			continue
		}
		e := byAudit[aa]
		if e == nil {
			e = &archLast{arch: aa}
			byAudit[aa] = e
			order = append(order, aa)
		}
		if arch == archX32 {
			e.x32 = uint32(last)
		} else {
			e.last = uint32(last)
		}
	}
	slices.Sort(order)
	out := make([]archLast, 0, len(order))
	for _, aa := range order {
		out = append(out, *byAudit[aa])
	}
	return out
}

// refuses reports whether a default action refuses a syscall (ENOSYS is
// then better for one the profile does not know).
func refuses(a specs.LinuxSeccompAction, errnoRet *uint) bool {
	switch a {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return false
	case specs.ActErrno:
		return errnoRet == nil || *errnoRet != uint(unix.ENOSYS)
	}
	return true
}

// enosysStub returns the instructions to put before the filter's program
// (8 bytes each, native endian), or nil when none are needed.
func enosysStub(archs []archLast) []byte {
	if len(archs) == 0 {
		return nil
	}
	type ins struct {
		code   uint16
		jt, jf int // targets, as instruction indexes; -1: next
		k      uint32
		ja     int // target of a ja
	}
	const (
		main   = -2 // the first instruction of the filter's program
		enosys = -3 // the ret ENOSYS
	)
	var p []ins
	p = append(p, ins{code: bpfLdWAbs, k: offsetArch})
	// One jeq per arch to its block; blocks are placed after a ja main.
	jeqs := make([]int, len(archs))
	for i, a := range archs {
		jeqs[i] = len(p)
		p = append(p, ins{code: bpfJeqK, k: a.arch, jf: -1})
	}
	p = append(p, ins{code: bpfJa, ja: main})
	for i, a := range archs {
		p[jeqs[i]].jt = len(p)
		p = append(p, ins{code: bpfLdWAbs, k: offsetNr})
		if a.arch == auditArchX86_64 {
			// x32 numbers carry their bit: check them against the x32
			// list, or let the filter's program judge them. jge, not
			// jset: a number above the bit without it is no x86_64
			// syscall either, and the program calls it a bad
			// architecture when x32 is not in the filter.
			jset := len(p)
			p = append(p, ins{code: bpfJgeK, k: x32SyscallBit, jf: -1})
			if a.last != 0 {
				p = append(p, ins{code: bpfJgtK, k: a.last, jt: enosys, jf: main})
			} else {
				p = append(p, ins{code: bpfJa, ja: main})
			}
			if a.x32 != 0 {
				p[jset].jt = len(p)
				p = append(p, ins{code: bpfJgtK, k: a.x32, jt: enosys, jf: main})
			} else {
				p[jset].jt = main
			}
			continue
		}
		p = append(p, ins{code: bpfJgtK, k: a.last, jt: enosys, jf: main})
	}
	enosysAt := len(p)
	p = append(p, ins{code: bpfRetK, k: retErrnoBase | uint32(unix.ENOSYS)})
	mainAt := len(p)

	resolve := func(from, to int) uint8 {
		switch to {
		case -1:
			return 0
		case main:
			to = mainAt
		case enosys:
			to = enosysAt
		}
		return uint8(to - from - 1) // the stub is far shorter than 255
	}
	out := make([]byte, 0, 8*len(p))
	for i, in := range p {
		var b [8]byte
		k := in.k
		var jt, jf uint8
		if in.code == bpfJa {
			switch in.ja {
			case main:
				k = uint32(mainAt - i - 1)
			default:
				k = uint32(in.ja - i - 1)
			}
		} else if in.code != bpfLdWAbs && in.code != bpfRetK {
			jt, jf = resolve(i, in.jt), resolve(i, in.jf)
		}
		binary.NativeEndian.PutUint16(b[0:], in.code)
		b[2], b[3] = jt, jf
		binary.NativeEndian.PutUint32(b[4:], k)
		out = append(out, b[:]...)
	}
	return out
}
