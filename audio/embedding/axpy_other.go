//go:build !amd64 && !arm64

package embedding

const haveFMA = false

func accumulateFMA(*float32, int, *float32, int, *float32, int, int, int, *activation) {
	panic("unreachable: haveFMA is false")
}

const haveFMA4 = false

func accumulate4FMA(*float32, int, *float32, int, *float32, int, int, int, *activation, int, int) {
	panic("unreachable: haveFMA4 is false")
}
