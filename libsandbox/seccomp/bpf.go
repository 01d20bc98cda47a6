package seccomp

import (
	"encoding/binary"
	"fmt"
)

// A small assembler for classic BPF as seccomp runs it
// (Documentation/userspace-api/seccomp_filter.rst): jumps name labels,
// and assemble turns them into offsets. A conditional jump reaches at
// most 255 instructions ahead (its jt and jf are 8 bits); one that must
// go further goes through a trampoline, an unconditional ja (32 bits)
// put right after it. Every jump goes forward: the kernel's
// seccomp_check_filter (through bpf_check_classic) refuses anything else,
// and forward-only is what makes a filter always end.

// BPF opcodes (linux/bpf_common.h).
const (
	bpfLdWAbs = 0x20 // BPF_LD | BPF_W | BPF_ABS
	bpfAndK   = 0x54 // BPF_ALU | BPF_AND | BPF_K
	bpfJa     = 0x05 // BPF_JMP | BPF_JA
	bpfJeqK   = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	bpfJgtK   = 0x25 // BPF_JMP | BPF_JGT | BPF_K
	bpfJgeK   = 0x35 // BPF_JMP | BPF_JGE | BPF_K
	bpfRetK   = 0x06 // BPF_RET | BPF_K

	// The kernel's limit on a filter's length (BPF_MAXINSNS).
	maxInsns = 4096
)

type label int

// instr is one instruction; jt and jf name labels for conditional jumps,
// ja for an unconditional one.
type instr struct {
	code   uint16
	k      uint32
	jt, jf label
	ja     label
}

func (in instr) conditional() bool {
	return in.code&0x07 == 0x05 && in.code != bpfJa
}

type asm struct {
	prog   []instr
	labels []int // label -> index of the instruction it marks; -1 unset
}

func (a *asm) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

// place marks the next instruction with l.
func (a *asm) place(l label) {
	if a.labels[l] != -1 {
		panic("seccomp: label placed twice")
	}
	a.labels[l] = len(a.prog)
}

func (a *asm) emit(in instr) { a.prog = append(a.prog, in) }

func (a *asm) ld(off uint32) { a.emit(instr{code: bpfLdWAbs, k: off}) }
func (a *asm) ret(k uint32)  { a.emit(instr{code: bpfRetK, k: k}) }
func (a *asm) and(k uint32)  { a.emit(instr{code: bpfAndK, k: k}) }
func (a *asm) jump(l label)  { a.emit(instr{code: bpfJa, ja: l}) }
func (a *asm) jcc(code uint16, k uint32, jt, jf label) {
	a.emit(instr{code: code, k: k, jt: jt, jf: jf})
}

// assemble lays the program out, with trampolines where a conditional
// jump is too far, and encodes it (struct sock_filter, 8 bytes each,
// native endian).
func (a *asm) assemble() ([]byte, error) {
	prog := a.prog
	at := append([]int(nil), a.labels...)
	for l, i := range at {
		if i < 0 {
			return nil, fmt.Errorf("seccomp: label %d never placed", l)
		}
	}
	for {
		// A trampoline inserted after instruction i shifts every label
		// past i; redo until every conditional jump is in reach.
		far := -1
		var farT, farF bool
		for i, in := range prog {
			if !in.conditional() {
				continue
			}
			farT, farF = at[in.jt]-i-1 > 255, at[in.jf]-i-1 > 255
			if farT || farF {
				far = i
				break
			}
		}
		if far < 0 {
			break
		}
		in := prog[far]
		var tramp []instr
		if farT {
			l := label(len(at))
			at = append(at, far+1+len(tramp))
			tramp = append(tramp, instr{code: bpfJa, ja: in.jt})
			in.jt = l
		}
		if farF {
			l := label(len(at))
			at = append(at, far+1+len(tramp))
			tramp = append(tramp, instr{code: bpfJa, ja: in.jf})
			in.jf = l
		}
		prog[far] = in
		for l := range at {
			if at[l] > far && l < len(at)-len(tramp) {
				at[l] += len(tramp)
			}
		}
		rest := append(tramp, prog[far+1:]...)
		prog = append(prog[:far+1], rest...)
	}
	if len(prog) > maxInsns {
		return nil, fmt.Errorf("the filter has %d instructions, the kernel's limit is %d", len(prog), maxInsns)
	}
	out := make([]byte, 8*len(prog))
	for i, in := range prog {
		var jt, jf uint8
		k := in.k
		switch {
		case in.code == bpfJa:
			off := at[in.ja] - i - 1
			if off < 0 {
				return nil, fmt.Errorf("seccomp: instruction %d jumps backwards", i)
			}
			k = uint32(off)
		case in.conditional():
			t, f := at[in.jt]-i-1, at[in.jf]-i-1
			if t < 0 || f < 0 || t > 255 || f > 255 {
				return nil, fmt.Errorf("seccomp: instruction %d jumps out of reach (%d, %d)", i, t, f)
			}
			jt, jf = uint8(t), uint8(f)
		}
		b := out[8*i:]
		binary.NativeEndian.PutUint16(b[0:], in.code)
		b[2], b[3] = jt, jf
		binary.NativeEndian.PutUint32(b[4:], k)
	}
	return out, nil
}
