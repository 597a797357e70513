package embedding

// The assembly kernels that are generated (TestGeneratedKernels checks
// they are up to date).
//go:generate go run axpy_gen.go

import "math"

// taps describes the input of one output position of a convolution: the
// kernel rows that fall inside the input (taps of them), each a run of
// run input values (the kernel columns inside the bands times the
// channels), pxStride apart in the input; and their weights, run rows of
// n = len(acc) values each, wStride apart per kernel row.
type taps struct {
	w, px             []float32
	wStride, pxStride int
	rows, run         int
}

// activation is a layer's max(leaky ReLU, floor); its fields are read by
// the assembly kernels (alpha at 0, floor at 4).
type activation struct {
	alpha, floor float32
}

// apply applies a to every value of acc. For 0 < alpha < 1 the leaky
// ReLU is max(v, alpha·v), which is how the kernels compute it.
func (a *activation) apply(acc []float32) {
	for c, v := range acc {
		if v < 0 {
			v *= a.alpha
		}
		acc[c] = max(v, a.floor)
	}
}

// accumulate adds the taps' products to acc: for each row in order, for
// each value of its run in order, acc[j] += px·w[j], each a fused
// multiply-add rounded once; then applies act, if not nil. So the
// assembly kernels of amd64 (AVX2 and FMA3) and arm64 (NEON) compute the
// same embeddings to the bit. They want n a multiple of 8 (every layer
// has 24, 48, 72 or 96 channels) and alpha in (0, 1); anything else takes
// the Go loop.
func accumulate(acc []float32, t *taps, act *activation) {
	n := len(acc)
	if n%8 == 0 && n > 0 && t.rows > 0 && t.run > 0 && haveFMA && (act == nil || act.alpha > 0 && act.alpha < 1) {
		// Bounds, once: the kernels read exactly these.
		_ = t.w[(t.rows-1)*t.wStride+t.run*n-1]
		_ = t.px[(t.rows-1)*t.pxStride+t.run-1]
		accumulateFMA(&acc[0], n, &t.w[0], t.wStride, &t.px[0], t.pxStride, t.rows, t.run, act)
		return
	}
	accumulateGo(acc, t)
	if act != nil {
		act.apply(acc)
	}
}

// canAccumulate4 says accumulate4 has a kernel for n values a position
// and act.
func canAccumulate4(n int, act *activation) bool {
	return haveFMA4 && n%24 == 0 && n > 0 && (act == nil || act.alpha > 0 && act.alpha < 1)
}

// accumulate4 is accumulate for four positions that share their
// weights, as neighbouring rows of a convolution's output do: position
// p's n values are acc[p*accStep:], its inputs t.px[p*pxStep:]. Each
// value takes the same products in the same order as from accumulate.
// Only where canAccumulate4(n, act).
func accumulate4(acc []float32, n, accStep int, t *taps, pxStep int, act *activation) {
	if t.rows <= 0 || t.run <= 0 {
		for p := range 4 {
			if act != nil {
				act.apply(acc[p*accStep:][:n])
			}
		}
		return
	}
	// Bounds, once: the kernel reads and writes exactly these.
	_ = acc[3*accStep+n-1]
	_ = t.w[(t.rows-1)*t.wStride+t.run*n-1]
	_ = t.px[3*pxStep+(t.rows-1)*t.pxStride+t.run-1]
	accumulate4FMA(&acc[0], n, &t.w[0], t.wStride, &t.px[0], t.pxStride, t.rows, t.run, act, accStep, pxStep)
}

// accumulateGo is the portable kernel. Its fused multiply-add is done in
// float64 and rounded to float32, which in rare halfway cases differs
// from a float32 one in the last bit.
func accumulateGo(acc []float32, t *taps) {
	n := len(acc)
	for r := 0; r < t.rows; r++ {
		px := t.px[r*t.pxStride : r*t.pxStride+t.run]
		w := t.w[r*t.wStride:]
		for i, v := range px {
			row := w[i*n : (i+1)*n]
			row = row[:len(acc)]
			for j, a := range acc {
				acc[j] = float32(math.FMA(float64(v), float64(row[j]), float64(a)))
			}
		}
	}
}
