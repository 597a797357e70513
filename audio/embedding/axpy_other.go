//go:build !amd64 && !arm64

package embedding

const haveFMA = false

func accumulateFMA(*float32, int, *float32, int, *float32, int, int, int, *activation) {
	panic("unreachable: haveFMA is false")
}
