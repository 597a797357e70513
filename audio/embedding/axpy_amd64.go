package embedding

import "golang.org/x/sys/cpu"

var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// haveFMA4 says accumulate4FMA is there: four positions at once.
var haveFMA4 = haveFMA

// accumulateFMA is accumulate's kernel (axpy_amd64.s); strides are in
// values.
//
//go:noescape
func accumulateFMA(acc *float32, n int, w *float32, wStride int, px *float32, pxStride int, rows, run int, act *activation)

// accumulate4FMA is accumulate4's kernel (axpy_amd64.s); strides are in
// values.
//
//go:noescape
func accumulate4FMA(acc *float32, n int, w *float32, wStride int, px *float32, pxStride int, rows, run int, act *activation, accStep, pxStep int)
