package embedding

// Every ARMv8 core has NEON and its fused multiply-add.
const haveFMA = true

//go:noescape
func axpyFMA(acc, w, px []float32)
