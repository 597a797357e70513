#include "textflag.h"

// func accumulateFMA(acc *float32, n int, w *float32, wStride int, px *float32, pxStride int, rows, run int)
//
// For each block of acc (32, 16 or 8 values, kept in Y registers): for
// each row r < rows, for each i < run:
//   block += px[r*pxStride+i] * w[r*wStride + i*n + block offset]
// each a fused multiply-add. n is a multiple of 8.
TEXT ·accumulateFMA(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ n+8(FP), DX
	MOVQ w+16(FP), SI
	MOVQ wStride+24(FP), R13
	MOVQ px+32(FP), R8
	MOVQ pxStride+40(FP), R14
	MOVQ rows+48(FP), R9
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
	VMOVUPS Y1, 0(DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, DX
	JNZ block

done:
	VZEROUPPER
	RET
