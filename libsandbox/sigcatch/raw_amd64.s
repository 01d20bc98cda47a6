#include "textflag.h"

// The signal handler (C ABI: the signal's number in DI), on the thread's
// alternate signal stack. In our own process (getpid is ourPID; see
// catchRaw for the children that inherit it), write(writeFD, &number,
// 1); then return into the restorer. Clobbers only what the kernel
// restores at rt_sigreturn.
TEXT sigHandler<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$39, AX	// SYS_getpid
	SYSCALL
	CMPQ	AX, ·ourPID(SB)
	JNE	done
	SUBQ	$16, SP
	MOVB	DI, 0(SP)
	MOVQ	·writeFD(SB), DI
	MOVQ	SP, SI
	MOVQ	$1, DX
	MOVQ	$1, AX	// SYS_write
	SYSCALL
	ADDQ	$16, SP
done:
	RET

// The restorer: the handler returns here, and rt_sigreturn gives the
// thread back its interrupted context.
TEXT sigRestorer<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$15, AX	// SYS_rt_sigreturn
	SYSCALL
	INT	$3

// func handlerAddrs() (handler, restorer uintptr)
TEXT ·handlerAddrs(SB),NOSPLIT,$0-16
	LEAQ	sigHandler<>(SB), AX
	MOVQ	AX, handler+0(FP)
	LEAQ	sigRestorer<>(SB), AX
	MOVQ	AX, restorer+8(FP)
	RET
