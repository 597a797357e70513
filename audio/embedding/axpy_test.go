package embedding

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestKernelsAgree: the assembly kernel and the portable one add the same
// products in the same order, on every shape conv gives them (whole and
// clipped kernel rows, 1 to 3 rows, 8 to 96 channels, and more than
// the 96 a block of registers holds). The portable one
// rounds twice, so the last bit may differ; nothing more.
func TestKernelsAgree(t *testing.T) {
	if !haveFMA {
		t.Log("no assembly kernel on this CPU: the portable one is all there is")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{8, 16, 24, 48, 72, 96, 120, 200} {
		for _, rows := range []int{1, 2, 3} {
			for _, run := range []int{1, 3, 24, 144, 288} {
				wStride, pxStride := run*n+8*n, run+13
				w := make([]float32, rows*wStride)
				px := make([]float32, rows*pxStride)
				for i := range w {
					w[i] = float32(rng.NormFloat64())
				}
				for i := range px {
					px[i] = float32(rng.NormFloat64() * 5)
				}
				tp := taps{w: w, px: px, wStride: wStride, pxStride: pxStride, rows: rows, run: run}
				a, b := make([]float32, n), make([]float32, n)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
					b[i] = a[i]
				}
				act := &activation{alpha: 0.2, floor: -0.4}
				if run%2 == 0 {
					act = nil
				}
				accumulate(a, &tp, act)
				accumulateGo(b, &tp)
				if act != nil {
					act.apply(b)
				}
				for i := range a {
					if d := ulps(a[i], b[i]); d > 1 {
						t.Fatalf("n %d rows %d run %d: value %d is %v, the portable kernel %v", n, rows, run, i, a[i], b[i])
					}
				}
			}
		}
	}
}

func ulps(a, b float32) int64 {
	x, y := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if x < y {
		x, y = y, x
	}
	return x - y
}

// TestFourPositionsAsOne: accumulate4 gives each of its four positions,
// to the bit, what accumulate gives it alone, on every shape conv gives
// it, with the positions' values and inputs interleaved as a layer's
// rows are.
func TestFourPositionsAsOne(t *testing.T) {
	if !haveFMA4 {
		t.Skip("no four-position kernel on this architecture or CPU")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{24, 48, 72, 96, 192} {
		for _, rows := range []int{1, 2, 3} {
			for _, run := range []int{1, 3, 24, 144, 288} {
				wStride, pxStride := run*n+8*n, run+13
				accStep, pxStep := n+5, pxStride+3
				w := make([]float32, rows*wStride)
				px := make([]float32, 3*pxStep+rows*pxStride)
				for i := range w {
					w[i] = float32(rng.NormFloat64())
				}
				for i := range px {
					px[i] = float32(rng.NormFloat64() * 5)
				}
				act := &activation{alpha: 0.2, floor: -0.4}
				if run%2 == 0 {
					act = nil
				}
				four := make([]float32, 3*accStep+n+7)
				for i := range four {
					four[i] = float32(rng.NormFloat64())
				}
				start := slices.Clone(four)
				accumulate4(four, n, accStep, &taps{w: w, px: px, wStride: wStride, pxStride: pxStride, rows: rows, run: run}, pxStep, act)
				for p := range 4 {
					one := slices.Clone(start[p*accStep:][:n])
					accumulate(one, &taps{w: w, px: px[p*pxStep:], wStride: wStride, pxStride: pxStride, rows: rows, run: run}, act)
					if got := four[p*accStep:][:n]; !slices.Equal(got, one) {
						t.Fatalf("n %d rows %d run %d: position %d differs from its own accumulate", n, rows, run, p)
					}
				}
				// Between and after the positions, nothing is touched.
				for p := range 4 {
					end := p*accStep + n
					next := min(end+accStep-n, len(four))
					if p == 3 {
						next = len(four)
					}
					if !slices.Equal(four[end:next], start[end:next]) {
						t.Fatalf("n %d rows %d run %d: values after position %d written", n, rows, run, p)
					}
				}
			}
		}
	}
}

// TestGeneratedKernels: the assembly in the tree is what its generator
// writes (go generate), so an edit to one is not lost in the other.
func TestGeneratedKernels(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run the generator")
	}
	dir := t.TempDir()
	if msg, err := exec.Command(goTool, "run", "axpy_gen.go", dir).CombinedOutput(); err != nil {
		t.Fatalf("go run axpy_gen.go: %v\n%s", err, msg)
	}
	for _, file := range []string{"axpy_amd64.s", "axpy_arm64.s"} {
		want, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what axpy_gen.go writes: run go generate ./audio/embedding", file)
		}
	}
}
