package seccomp

import (
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
// (8 bytes each, native endian), or nil when none are needed. Its jumps to
// "main" land just past its end: on the program's first instruction.
func enosysStub(archs []archLast) []byte {
	if len(archs) == 0 {
		return nil
	}
	a := &asm{}
	main, enosys := a.newLabel(), a.newLabel()
	blocks := make([]label, len(archs))
	a.ld(offsetArch)
	for i, arch := range archs {
		blocks[i] = a.newLabel()
		next := a.newLabel()
		a.jcc(bpfJeqK, arch.arch, blocks[i], next)
		a.place(next)
	}
	a.jump(main)
	for i, arch := range archs {
		a.place(blocks[i])
		a.ld(offsetNr)
		last := arch.last
		if arch.arch == auditArchX86_64 {
			// x32 numbers carry their bit: check them against the x32
			// list, or let the filter's program judge them. jge, not
			// jset: a number above the bit without it is no x86_64
			// syscall either, and the program calls it a bad
			// architecture when x32 is not in the filter.
			x32, native := a.newLabel(), a.newLabel()
			a.jcc(bpfJgeK, x32SyscallBit, x32, native)
			a.place(x32)
			if arch.x32 != 0 {
				a.jcc(bpfJgtK, arch.x32, enosys, main)
			} else {
				a.jump(main)
			}
			a.place(native)
			if last == 0 {
				a.jump(main)
				continue
			}
		}
		a.jcc(bpfJgtK, last, enosys, main)
	}
	a.place(enosys)
	a.ret(retErrnoBase | uint32(unix.ENOSYS))
	a.place(main)
	b, err := a.assemble()
	if err != nil {
		panic(err) // a few dozen instructions, every label placed
	}
	return b
}
