#include "textflag.h"

// func axpyFMA(acc, w, px []float32)
// acc[j] += px[ci]*w[ci*n+j] for ci in order, j < n = len(acc) (a
// multiple of 8), each a fused multiply-add.
TEXT ·axpyFMA(SB), NOSPLIT, $0-72
	MOVD acc_base+0(FP), R0
	MOVD acc_len+8(FP), R1
	MOVD w_base+24(FP), R2
	MOVD px_base+48(FP), R3
	MOVD px_len+56(FP), R4
	CBZ R4, done
	CBZ R1, done

ci:
	FMOVS (R3), F0
	VDUP V0.S[0], V0.S4
	MOVD R0, R5
	MOVD R1, R6

inner:
	VLD1.P 32(R2), [V1.S4, V2.S4]
	VLD1 (R5), [V3.S4, V4.S4]
	VFMLA V0.S4, V1.S4, V3.S4
	VFMLA V0.S4, V2.S4, V4.S4
	VST1.P [V3.S4, V4.S4], 32(R5)
	SUB $8, R6
	CBNZ R6, inner
	ADD $4, R3
	SUB $1, R4
	CBNZ R4, ci

done:
	RET
