#include "textflag.h"

// func axpyFMA(acc, w, px []float32)
// acc[j] += px[ci]*w[ci*n+j] for ci in order, j < n = len(acc) (a
// multiple of 8), each a fused multiply-add. acc is taken 32, 16 or 8
// values at a time and kept in registers while every ci is added.
TEXT ·axpyFMA(SB), NOSPLIT, $0-72
	MOVD acc_base+0(FP), R0
	MOVD acc_len+8(FP), R1
	MOVD w_base+24(FP), R2
	MOVD px_base+48(FP), R3
	MOVD px_len+56(FP), R4
	CBZ R4, done
	LSL $2, R1, R7 // row stride of w in bytes: n*4

block:
	CMP $32, R1
	BLT block16
	VLD1 (R0), [V1.S4, V2.S4, V3.S4, V4.S4]
	ADD $64, R0, R8
	VLD1 (R8), [V5.S4, V6.S4, V7.S4, V8.S4]
	MOVD R2, R10
	MOVD R3, R11
	MOVD R4, R12

ci32:
	FMOVS.P 4(R11), F0
	VDUP V0.S[0], V0.S4
	ADD $64, R10, R13
	VLD1 (R10), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1 (R13), [V20.S4, V21.S4, V22.S4, V23.S4]
	VFMLA V0.S4, V16.S4, V1.S4
	VFMLA V0.S4, V17.S4, V2.S4
	VFMLA V0.S4, V18.S4, V3.S4
	VFMLA V0.S4, V19.S4, V4.S4
	VFMLA V0.S4, V20.S4, V5.S4
	VFMLA V0.S4, V21.S4, V6.S4
	VFMLA V0.S4, V22.S4, V7.S4
	VFMLA V0.S4, V23.S4, V8.S4
	ADD R7, R10
	SUB $1, R12
	CBNZ R12, ci32
	VST1 [V1.S4, V2.S4, V3.S4, V4.S4], (R0)
	VST1 [V5.S4, V6.S4, V7.S4, V8.S4], (R8)
	ADD $128, R0
	ADD $128, R2
	SUB $32, R1
	CBNZ R1, block
	B done

block16:
	CMP $16, R1
	BLT block8
	VLD1 (R0), [V1.S4, V2.S4, V3.S4, V4.S4]
	MOVD R2, R10
	MOVD R3, R11
	MOVD R4, R12

ci16:
	FMOVS.P 4(R11), F0
	VDUP V0.S[0], V0.S4
	VLD1 (R10), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA V0.S4, V16.S4, V1.S4
	VFMLA V0.S4, V17.S4, V2.S4
	VFMLA V0.S4, V18.S4, V3.S4
	VFMLA V0.S4, V19.S4, V4.S4
	ADD R7, R10
	SUB $1, R12
	CBNZ R12, ci16
	VST1 [V1.S4, V2.S4, V3.S4, V4.S4], (R0)
	ADD $64, R0
	ADD $64, R2
	SUB $16, R1
	CBNZ R1, block
	B done

block8:
	VLD1 (R0), [V1.S4, V2.S4]
	MOVD R2, R10
	MOVD R3, R11
	MOVD R4, R12

ci8:
	FMOVS.P 4(R11), F0
	VDUP V0.S[0], V0.S4
	VLD1 (R10), [V16.S4, V17.S4]
	VFMLA V0.S4, V16.S4, V1.S4
	VFMLA V0.S4, V17.S4, V2.S4
	ADD R7, R10
	SUB $1, R12
	CBNZ R12, ci8
	VST1 [V1.S4, V2.S4], (R0)
	ADD $32, R0
	ADD $32, R2
	SUB $8, R1
	CBNZ R1, block

done:
	RET
