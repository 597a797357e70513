package embedding

// Every ARMv8 core has NEON and its fused multiply-add.
const haveFMA = true

// accumulateFMA is accumulate's kernel (axpy_arm64.s); strides are in
// values.
//
//go:noescape
func accumulateFMA(acc *float32, n int, w *float32, wStride int, px *float32, pxStride int, rows, run int, act *activation)

// haveFMA4: no four-position kernel here; accumulate4 is not called.
const haveFMA4 = false

func accumulate4FMA(*float32, int, *float32, int, *float32, int, int, int, *activation, int, int) {
	panic("unreachable: haveFMA4 is false")
}
