#include "textflag.h"

// func axpyFMA(acc, w, px []float32)
// acc[j] += px[ci]*w[ci*n+j] for ci in order, j < n = len(acc) (a
// multiple of 8), each a fused multiply-add.
TEXT ·axpyFMA(SB), NOSPLIT, $0-72
	MOVQ acc_base+0(FP), DI
	MOVQ acc_len+8(FP), DX
	MOVQ w_base+24(FP), SI
	MOVQ px_base+48(FP), R8
	MOVQ px_len+56(FP), R9
	TESTQ R9, R9
	JZ done
	TESTQ DX, DX
	JZ done

ci:
	VBROADCASTSS (R8), Y0
	MOVQ DI, R10
	MOVQ DX, CX

inner:
	VMOVUPS (SI), Y1
	VMOVUPS (R10), Y2
	VFMADD231PS Y1, Y0, Y2
	VMOVUPS Y2, (R10)
	ADDQ $32, SI
	ADDQ $32, R10
	SUBQ $8, CX
	JNZ inner
	ADDQ $4, R8
	DECQ R9
	JNZ ci

done:
	VZEROUPPER
	RET
