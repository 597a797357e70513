package embedding_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	. "github.com/earshot/earshot/audio/embedding"
	"github.com/earshot/earshot/audio/embedding/embeddingtest"
)

var writeSignal = flag.String("write-signal", "", "write the test signal as raw int16 to this file (for testdata/reference.js)")

// testSignal is 2.5 s of speech-like sound: a voiced source whose pitch
// glides, shaped by moving formants, with noise bursts (fricatives), a
// stretch of digital silence (which the 80 dB floor acts on) and quiet
// hiss. It is made here rather than stored, and the same on every run.
func testSignal() []int16 {
	const n = 40000
	rng := rand.New(rand.NewPCG(18, 2026))
	pcm := make([]int16, n)
	phase := 0.0
	for i := range pcm {
		t := float64(i) / 16000
		var v float64
		switch {
		case t < 0.3: // hiss
			v = 30 * rng.NormFloat64()
		case t < 1.6: // voiced, with formants moving
			f0 := 110 + 60*math.Sin(2*math.Pi*1.3*t)
			phase += 2 * math.Pi * f0 / 16000
			f1 := 500 + 300*math.Sin(2*math.Pi*2*t)
			f2 := 1500 + 700*math.Cos(2*math.Pi*1.1*t)
			for h := 1; h < 40; h++ {
				fh := float64(h) * f0
				if fh > 7500 {
					break
				}
				a := 1/(1+math.Pow((fh-f1)/120, 2)) + 0.5/(1+math.Pow((fh-f2)/200, 2))
				v += 4000 * a / float64(h) * math.Sin(float64(h)*phase)
			}
		case t < 1.9: // a fricative
			v = 2500 * rng.NormFloat64() * math.Sin(math.Pi*(t-1.6)/0.3)
		case t < 2.2: // digital silence
		default: // a click and hiss
			v = 20 * rng.NormFloat64()
			if i%4000 == 0 {
				v = 20000
			}
		}
		pcm[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return pcm
}

type reference struct {
	Chunks     [][][]float32 `json:"chunks"`
	Embeddings [][]float32   `json:"embeddings"`
}

func loadReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMain writes the test signal for testdata/reference.js when asked
// (-write-signal FILE) instead of running the tests.
func TestMain(m *testing.M) {
	flag.Parse()
	if *writeSignal != "" {
		f, err := os.Create(*writeSignal)
		if err == nil {
			err = binary.Write(f, binary.LittleEndian, testSignal())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMatchesONNXRuntime compares the Go inference with ONNX Runtime's
// (testdata/reference.json, made by testdata/reference.js) on the test
// signal: every mel value and every embedding of the stream.
func TestMatchesONNXRuntime(t *testing.T) {
	m := embeddingtest.Model(t)
	ref := loadReference(t)
	s := m.NewStream()
	var got [][]float32
	s.Push(testSignal(), func(e []float32) { got = append(got, slices.Clone(e)) })
	if len(got) != len(ref.Embeddings) {
		t.Fatalf("%d embeddings, ONNX Runtime gives %d", len(got), len(ref.Embeddings))
	}
	// The mel chunks: recompute them alone.
	pcm := append(make([]int16, RawSpan-ChunkSamples), testSignal()...)
	out := make([]float32, ChunkFrames*Bands)
	worstMel := 0.0
	for c, want := range ref.Chunks {
		m.MelChunk(pcm[c*ChunkSamples:c*ChunkSamples+ChunkSpan], out)
		for f, row := range want {
			for b, w := range row {
				worstMel = max(worstMel, math.Abs(float64(out[f*Bands+b]-w)))
			}
		}
	}
	worst, scale := 0.0, 0.0
	for i, want := range ref.Embeddings {
		for k, w := range want {
			worst = max(worst, math.Abs(float64(got[i][k]-w)))
			scale = max(scale, math.Abs(float64(w)))
		}
	}
	t.Logf("largest difference: mel %.2g (dB/10), embedding %.2g (values up to %.1f)", worstMel, worst, scale)
	if worstMel > 1e-3 {
		t.Errorf("mel values differ from ONNX Runtime's by up to %g", worstMel)
	}
	if worst > 1e-3*scale {
		t.Errorf("embeddings differ from ONNX Runtime's by up to %g", worst)
	}
}

// TestIncrementalEqualsWhole checks that computing only each layer's new
// rows gives, to the bit, what the whole window gives.
func TestIncrementalEqualsWhole(t *testing.T) {
	m := embeddingtest.Model(t)
	s := m.NewStream()
	n := 0
	s.Push(testSignal(), func(e []float32) {
		want := s.Whole()
		if !slices.Equal(e, want) {
			t.Fatalf("embedding %d: incremental differs from the whole window", n)
		}
		n++
	})
	if s.Incremental != int64(n-1) || n < 20 {
		t.Fatalf("%d embeddings, %d incremental", n, s.Incremental)
	}
}

// embeddingsDigest is the SHA-256 of the test signal's embeddings as
// little-endian float32, as amd64 with AVX2/FMA3 and arm64 compute them.
const embeddingsDigest = "c9b0e30d3e9d67fe257bc115ac4dc231627ec43adc0712b8bbde4936d57f0a99"

// TestSameOnEveryArchitecture: the assembly kernels round each multiply-
// add once, so amd64 and arm64 (run under qemu by make long) compute the
// same embeddings to the bit; `earshot eval` then gives the same result
// for every file on the Pi as here.
func TestSameOnEveryArchitecture(t *testing.T) {
	m := embeddingtest.Model(t)
	h := sha256.New()
	m.NewStream().Push(testSignal(), func(e []float32) { binary.Write(h, binary.LittleEndian, e) })
	got := hex.EncodeToString(h.Sum(nil))
	if !HaveFMA {
		t.Logf("this CPU has no FMA3: the portable kernel may differ in the last bit (digest %s)", got)
		return
	}
	if got != embeddingsDigest {
		t.Fatalf("embeddings digest %s, want %s", got, embeddingsDigest)
	}
}
