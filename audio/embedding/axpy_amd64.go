package embedding

import "golang.org/x/sys/cpu"

var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func axpyFMA(acc, w, px []float32)
