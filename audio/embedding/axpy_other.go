//go:build !amd64 && !arm64

package embedding

const haveFMA = false

func axpyFMA(acc, w, px []float32) { axpyGo(acc, w, px) }
