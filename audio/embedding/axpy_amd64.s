#include "textflag.h"

// func accumulateFMA(acc *float32, n int, w *float32, wStride int, px *float32, pxStride int, rows, run int, act *activation)
//
// For each block of acc (32, 16 or 8 values, kept in Y registers): for
// each row r < rows, for each i < run:
//   block += px[r*pxStride+i] * w[r*wStride + i*n + block offset]
// each a fused multiply-add; then, if act is not nil,
//   block = max(max(block, alpha*block), floor)
// (max(v, alpha*v) is the leaky ReLU for 0 < alpha < 1). n is a
// multiple of 8.
TEXT ·accumulateFMA(SB), NOSPLIT, $0-72
	MOVQ acc+0(FP), DI
	MOVQ n+8(FP), DX
	MOVQ w+16(FP), SI
	MOVQ wStride+24(FP), R13
	MOVQ px+32(FP), R8
	MOVQ pxStride+40(FP), R14
	MOVQ rows+48(FP), R9
	MOVQ act+64(FP), AX
	TESTQ AX, AX
	JZ noact
	VBROADCASTSS 0(AX), Y14 // alpha
	VBROADCASTSS 4(AX), Y15 // floor

noact:
	MOVQ DX, R11
	SHLQ $2, R11 // bytes between two weight rows: n*4
	SHLQ $2, R13
	SHLQ $2, R14

block:
	CMPQ DX, $32
	JLT block16
	VMOVUPS 0(DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	MOVQ SI, R10 // weights of the row
	MOVQ R8, R12 // inputs of the row
	MOVQ R9, BX

row32:
	MOVQ R10, AX
	MOVQ R12, CX
	MOVQ run+56(FP), R15

i32:
	VBROADCASTSS (CX), Y0
	VFMADD231PS 0(AX), Y0, Y1
	VFMADD231PS 32(AX), Y0, Y2
	VFMADD231PS 64(AX), Y0, Y3
	VFMADD231PS 96(AX), Y0, Y4
	ADDQ R11, AX
	ADDQ $4, CX
	DECQ R15
	JNZ i32
	ADDQ R13, R10
	ADDQ R14, R12
	DECQ BX
	JNZ row32
	MOVQ act+64(FP), AX
	TESTQ AX, AX
	JZ store32
	VMULPS Y14, Y1, Y5
	VMAXPS Y5, Y1, Y1
	VMAXPS Y15, Y1, Y1
	VMULPS Y14, Y2, Y5
	VMAXPS Y5, Y2, Y2
	VMAXPS Y15, Y2, Y2
	VMULPS Y14, Y3, Y5
	VMAXPS Y5, Y3, Y3
	VMAXPS Y15, Y3, Y3
	VMULPS Y14, Y4, Y5
	VMAXPS Y5, Y4, Y4
	VMAXPS Y15, Y4, Y4

store32:
	VMOVUPS Y1, 0(DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $32, DX
	JNZ block
	JMP done

block16:
	CMPQ DX, $16
	JLT block8
	VMOVUPS 0(DI), Y1
	VMOVUPS 32(DI), Y2
	MOVQ SI, R10
	MOVQ R8, R12
	MOVQ R9, BX

row16:
	MOVQ R10, AX
	MOVQ R12, CX
	MOVQ run+56(FP), R15

i16:
	VBROADCASTSS (CX), Y0
	VFMADD231PS 0(AX), Y0, Y1
	VFMADD231PS 32(AX), Y0, Y2
	ADDQ R11, AX
	ADDQ $4, CX
	DECQ R15
	JNZ i16
	ADDQ R13, R10
	ADDQ R14, R12
	DECQ BX
	JNZ row16
	MOVQ act+64(FP), AX
	TESTQ AX, AX
	JZ store16
	VMULPS Y14, Y1, Y5
	VMAXPS Y5, Y1, Y1
	VMAXPS Y15, Y1, Y1
	VMULPS Y14, Y2, Y5
	VMAXPS Y5, Y2, Y2
	VMAXPS Y15, Y2, Y2

store16:
	VMOVUPS Y1, 0(DI)
	VMOVUPS Y2, 32(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, DX
	JNZ block
	JMP done

block8:
	VMOVUPS 0(DI), Y1
	MOVQ SI, R10
	MOVQ R8, R12
	MOVQ R9, BX

row8:
	MOVQ R10, AX
	MOVQ R12, CX
	MOVQ run+56(FP), R15

i8:
	VBROADCASTSS (CX), Y0
	VFMADD231PS 0(AX), Y0, Y1
	ADDQ R11, AX
	ADDQ $4, CX
	DECQ R15
	JNZ i8
	ADDQ R13, R10
	ADDQ R14, R12
	DECQ BX
	JNZ row8
	MOVQ act+64(FP), AX
	TESTQ AX, AX
	JZ store8
	VMULPS Y14, Y1, Y5
	VMAXPS Y5, Y1, Y1
	VMAXPS Y15, Y1, Y1

store8:
	VMOVUPS Y1, 0(DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, DX
	JNZ block

done:
	VZEROUPPER
	RET
