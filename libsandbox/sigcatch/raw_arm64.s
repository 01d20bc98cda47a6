#include "textflag.h"

// The signal handler (C ABI: the signal's number in R0, the return
// address in R30), on the thread's alternate signal stack. In our own
// process (getpid is ourPID; see catchRaw for the children that inherit
// it), write(writeFD, &number, 1); then return into the restorer.
// Clobbers only what the kernel restores at rt_sigreturn.
TEXT sigHandler<>(SB),NOSPLIT|NOFRAME,$0
	MOVD	R0, R9
	MOVD	$172, R8	// SYS_getpid
	SVC
	MOVD	·ourPID(SB), R1
	CMP	R1, R0
	BNE	done
	SUB	$16, RSP
	MOVB	R9, 0(RSP)
	MOVD	·writeFD(SB), R0
	MOVD	RSP, R1
	MOVD	$1, R2
	MOVD	$64, R8	// SYS_write
	SVC
	ADD	$16, RSP
done:
	RET

// The restorer: the handler returns here, and rt_sigreturn gives the
// thread back its interrupted context.
TEXT sigRestorer<>(SB),NOSPLIT|NOFRAME,$0
	MOVD	$139, R8	// SYS_rt_sigreturn
	SVC
	UNDEF

// func handlerAddrs() (handler, restorer uintptr)
TEXT ·handlerAddrs(SB),NOSPLIT,$0-16
	MOVD	$sigHandler<>(SB), R0
	MOVD	R0, handler+0(FP)
	MOVD	$sigRestorer<>(SB), R0
	MOVD	R0, restorer+8(FP)
	RET
