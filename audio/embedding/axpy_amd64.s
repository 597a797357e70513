#include "textflag.h"

// func axpyFMA(acc, w, px []float32)
// acc[j] += px[ci]*w[ci*n+j] for ci in order, j < n = len(acc) (a
// multiple of 8), each a fused multiply-add. acc is taken 32, 16 or 8
// values at a time and kept in registers while every ci is added, so
// the loop is bound by the multiply-adds, not by memory.
TEXT ·axpyFMA(SB), NOSPLIT, $0-72
	MOVQ acc_base+0(FP), DI
	MOVQ acc_len+8(FP), DX
	MOVQ w_base+24(FP), SI
	MOVQ px_base+48(FP), R8
	MOVQ px_len+56(FP), R9
	TESTQ R9, R9
	JZ done
	MOVQ DX, R11
	SHLQ $2, R11 // row stride of w in bytes: n*4

block:
	CMPQ DX, $32
	JLT block16
	VMOVUPS 0(DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	MOVQ SI, R10
	MOVQ R8, R12
	MOVQ R9, CX

ci32:
	VBROADCASTSS (R12), Y0
	VFMADD231PS 0(R10), Y0, Y1
	VFMADD231PS 32(R10), Y0, Y2
	VFMADD231PS 64(R10), Y0, Y3
	VFMADD231PS 96(R10), Y0, Y4
	ADDQ R11, R10
	ADDQ $4, R12
	DECQ CX
	JNZ ci32
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
	MOVQ R9, CX

ci16:
	VBROADCASTSS (R12), Y0
	VFMADD231PS 0(R10), Y0, Y1
	VFMADD231PS 32(R10), Y0, Y2
	ADDQ R11, R10
	ADDQ $4, R12
	DECQ CX
	JNZ ci16
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
	MOVQ R9, CX

ci8:
	VBROADCASTSS (R12), Y0
	VFMADD231PS 0(R10), Y0, Y1
	ADDQ R11, R10
	ADDQ $4, R12
	DECQ CX
	JNZ ci8
	VMOVUPS Y1, 0(DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, DX
	JNZ block

done:
	VZEROUPPER
	RET
