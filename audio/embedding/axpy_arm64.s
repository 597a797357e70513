#include "textflag.h"

// func accumulateFMA(acc *float32, n int, w *float32, wStride int, px *float32, pxStride int, rows, run int, act *activation)
//
// For each block of acc (32, 16 or 8 values, kept in V registers): for
// each row r < rows, for each i < run:
//   block += px[r*pxStride+i] * w[r*wStride + i*n + block offset]
// each a fused multiply-add; then, if act is not nil,
//   block = max(max(block, alpha*block), floor)
// n is a multiple of 8. (Go's assembler has no vector FMUL/FMAX: they
// are written as WORDs, each named.)
TEXT ·accumulateFMA(SB), NOSPLIT, $0-72
	MOVD acc+0(FP), R0
	MOVD n+8(FP), R1
	MOVD w+16(FP), R2
	MOVD wStride+24(FP), R3
	MOVD px+32(FP), R4
	MOVD pxStride+40(FP), R5
	MOVD rows+48(FP), R6
	MOVD run+56(FP), R7
	MOVD act+64(FP), R19
	CBZ R19, noact
	FMOVS 0(R19), F28
	VDUP V28.S[0], V28.S4 // alpha
	FMOVS 4(R19), F29
	VDUP V29.S[0], V29.S4 // floor

noact:
	LSL $2, R1, R8 // bytes between two weight rows: n*4
	LSL $2, R3, R3
	LSL $2, R5, R5

block:
	CMP $32, R1
	BLT block16
	ADD $64, R0, R9
	VLD1 (R0), [V1.S4, V2.S4, V3.S4, V4.S4]
	VLD1 (R9), [V5.S4, V6.S4, V7.S4, V8.S4]
	MOVD R2, R10 // weights of the row
	MOVD R4, R11 // inputs of the row
	MOVD R6, R12

row32:
	MOVD R10, R13
	MOVD R11, R14
	MOVD R7, R15

i32:
	FMOVS.P 4(R14), F0
	VDUP V0.S[0], V0.S4
	ADD $64, R13, R16
	VLD1 (R13), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1 (R16), [V20.S4, V21.S4, V22.S4, V23.S4]
	VFMLA V0.S4, V16.S4, V1.S4
	VFMLA V0.S4, V17.S4, V2.S4
	VFMLA V0.S4, V18.S4, V3.S4
	VFMLA V0.S4, V19.S4, V4.S4
	VFMLA V0.S4, V20.S4, V5.S4
	VFMLA V0.S4, V21.S4, V6.S4
	VFMLA V0.S4, V22.S4, V7.S4
	VFMLA V0.S4, V23.S4, V8.S4
	ADD R8, R13
	SUB $1, R15
	CBNZ R15, i32
	ADD R3, R10
	ADD R5, R11
	SUB $1, R12
	CBNZ R12, row32
	CBZ R19, store32
	WORD $0x6e3cdc3e // FMUL V30.S4, V1.S4, V28.S4
	WORD $0x4e3ef421 // FMAX V1.S4, V1.S4, V30.S4
	WORD $0x4e3df421 // FMAX V1.S4, V1.S4, V29.S4
	WORD $0x6e3cdc5e // FMUL V30.S4, V2.S4, V28.S4
	WORD $0x4e3ef442 // FMAX V2.S4, V2.S4, V30.S4
	WORD $0x4e3df442 // FMAX V2.S4, V2.S4, V29.S4
	WORD $0x6e3cdc7e // FMUL V30.S4, V3.S4, V28.S4
	WORD $0x4e3ef463 // FMAX V3.S4, V3.S4, V30.S4
	WORD $0x4e3df463 // FMAX V3.S4, V3.S4, V29.S4
	WORD $0x6e3cdc9e // FMUL V30.S4, V4.S4, V28.S4
	WORD $0x4e3ef484 // FMAX V4.S4, V4.S4, V30.S4
	WORD $0x4e3df484 // FMAX V4.S4, V4.S4, V29.S4
	WORD $0x6e3cdcbe // FMUL V30.S4, V5.S4, V28.S4
	WORD $0x4e3ef4a5 // FMAX V5.S4, V5.S4, V30.S4
	WORD $0x4e3df4a5 // FMAX V5.S4, V5.S4, V29.S4
	WORD $0x6e3cdcde // FMUL V30.S4, V6.S4, V28.S4
	WORD $0x4e3ef4c6 // FMAX V6.S4, V6.S4, V30.S4
	WORD $0x4e3df4c6 // FMAX V6.S4, V6.S4, V29.S4
	WORD $0x6e3cdcfe // FMUL V30.S4, V7.S4, V28.S4
	WORD $0x4e3ef4e7 // FMAX V7.S4, V7.S4, V30.S4
	WORD $0x4e3df4e7 // FMAX V7.S4, V7.S4, V29.S4
	WORD $0x6e3cdd1e // FMUL V30.S4, V8.S4, V28.S4
	WORD $0x4e3ef508 // FMAX V8.S4, V8.S4, V30.S4
	WORD $0x4e3df508 // FMAX V8.S4, V8.S4, V29.S4

store32:
	VST1 [V1.S4, V2.S4, V3.S4, V4.S4], (R0)
	VST1 [V5.S4, V6.S4, V7.S4, V8.S4], (R9)
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
	MOVD R4, R11
	MOVD R6, R12

row16:
	MOVD R10, R13
	MOVD R11, R14
	MOVD R7, R15

i16:
	FMOVS.P 4(R14), F0
	VDUP V0.S[0], V0.S4
	VLD1 (R13), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA V0.S4, V16.S4, V1.S4
	VFMLA V0.S4, V17.S4, V2.S4
	VFMLA V0.S4, V18.S4, V3.S4
	VFMLA V0.S4, V19.S4, V4.S4
	ADD R8, R13
	SUB $1, R15
	CBNZ R15, i16
	ADD R3, R10
	ADD R5, R11
	SUB $1, R12
	CBNZ R12, row16
	CBZ R19, store16
	WORD $0x6e3cdc3e // FMUL V30.S4, V1.S4, V28.S4
	WORD $0x4e3ef421 // FMAX V1.S4, V1.S4, V30.S4
	WORD $0x4e3df421 // FMAX V1.S4, V1.S4, V29.S4
	WORD $0x6e3cdc5e // FMUL V30.S4, V2.S4, V28.S4
	WORD $0x4e3ef442 // FMAX V2.S4, V2.S4, V30.S4
	WORD $0x4e3df442 // FMAX V2.S4, V2.S4, V29.S4
	WORD $0x6e3cdc7e // FMUL V30.S4, V3.S4, V28.S4
	WORD $0x4e3ef463 // FMAX V3.S4, V3.S4, V30.S4
	WORD $0x4e3df463 // FMAX V3.S4, V3.S4, V29.S4
	WORD $0x6e3cdc9e // FMUL V30.S4, V4.S4, V28.S4
	WORD $0x4e3ef484 // FMAX V4.S4, V4.S4, V30.S4
	WORD $0x4e3df484 // FMAX V4.S4, V4.S4, V29.S4

store16:
	VST1 [V1.S4, V2.S4, V3.S4, V4.S4], (R0)
	ADD $64, R0
	ADD $64, R2
	SUB $16, R1
	CBNZ R1, block
	B done

block8:
	VLD1 (R0), [V1.S4, V2.S4]
	MOVD R2, R10
	MOVD R4, R11
	MOVD R6, R12

row8:
	MOVD R10, R13
	MOVD R11, R14
	MOVD R7, R15

i8:
	FMOVS.P 4(R14), F0
	VDUP V0.S[0], V0.S4
	VLD1 (R13), [V16.S4, V17.S4]
	VFMLA V0.S4, V16.S4, V1.S4
	VFMLA V0.S4, V17.S4, V2.S4
	ADD R8, R13
	SUB $1, R15
	CBNZ R15, i8
	ADD R3, R10
	ADD R5, R11
	SUB $1, R12
	CBNZ R12, row8
	CBZ R19, store8
	WORD $0x6e3cdc3e // FMUL V30.S4, V1.S4, V28.S4
	WORD $0x4e3ef421 // FMAX V1.S4, V1.S4, V30.S4
	WORD $0x4e3df421 // FMAX V1.S4, V1.S4, V29.S4
	WORD $0x6e3cdc5e // FMUL V30.S4, V2.S4, V28.S4
	WORD $0x4e3ef442 // FMAX V2.S4, V2.S4, V30.S4
	WORD $0x4e3df442 // FMAX V2.S4, V2.S4, V29.S4

store8:
	VST1 [V1.S4, V2.S4], (R0)
	ADD $32, R0
	ADD $32, R2
	SUB $8, R1
	CBNZ R1, block

done:
	RET
