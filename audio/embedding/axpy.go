package embedding

import "math"

// axpyRows adds px[ci]·w[ci·n : (ci+1)·n] to acc (n = len(acc)) for each
// ci in order: a convolution tap's contribution to one output position.
// Every element is a fused multiply-add, rounded once, so the assembly
// kernels of amd64 (AVX2 and FMA3) and arm64 (NEON) compute the same
// embeddings to the bit. n must be a multiple of 8 for them (every layer
// of the graph has 24, 48, 72 or 96 channels); others take the Go loop.
func axpyRows(acc, w, px []float32) {
	if len(acc)%8 == 0 && len(acc) > 0 && len(px) > 0 && haveFMA {
		_ = w[len(px)*len(acc)-1]
		axpyFMA(acc, w, px)
		return
	}
	axpyGo(acc, w, px)
}

// axpyGo is the portable kernel. Its fused multiply-add is done in
// float64 and rounded to float32, which in rare halfway cases differs
// from a float32 one in the last bit.
func axpyGo(acc, w, px []float32) {
	n := len(acc)
	for ci, v := range px {
		row := w[ci*n : (ci+1)*n]
		row = row[:len(acc)]
		for j, a := range acc {
			acc[j] = float32(math.FMA(float64(v), float64(row[j]), float64(a)))
		}
	}
}
