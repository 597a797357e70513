package embedding

// Every ARMv8 core has NEON and its fused multiply-add.
const haveFMA = true

// accumulateFMA is accumulate's kernel (axpy_arm64.s); strides are in
// values.
//
//go:noescape
func accumulateFMA(acc *float32, n int, w *float32, wStride int, px *float32, pxStride int, rows, run int, act *activation)

// haveFMA4 says accumulate4FMA is there: four positions at once.
const haveFMA4 = true

// accumulate4FMA is accumulate4's kernel (axpy_arm64.s); strides are in
// values.
//
//go:noescape
func accumulate4FMA(acc *float32, n int, w *float32, wStride int, px *float32, pxStride int, rows, run int, act *activation, accStep, pxStep int)
