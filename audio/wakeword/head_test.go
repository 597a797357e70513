package wakeword_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot/earshot/audio/embedding"
	"github.com/earshot/earshot/audio/embedding/embeddingtest"
	. "github.com/earshot/earshot/audio/wakeword"
)

// randomHead makes a head of random weights in the shape training makes.
func randomHead(seed uint64) *Head {
	rng := rand.New(rand.NewPCG(seed, 1))
	vec := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return v
	}
	in, hid := 16*embedding.Dim, 8
	return &Head{Phrase: "hey jarvis", Window: 16, Threshold: 0.5, Sure: 0.9, Trained: "test",
		Layers: []Dense{
			{In: in, Out: hid, W: vec(in*hid, 0.05), B: vec(hid, 0.1), Gamma: vec(hid, 1), Beta: vec(hid, 0.1)},
			{In: hid, Out: hid, W: vec(hid*hid, 0.3), B: vec(hid, 0.1), Gamma: vec(hid, 1), Beta: vec(hid, 0.1)},
			{In: hid, Out: 1, W: vec(hid, 0.3), B: vec(1, 0.1)},
		}}
}

func TestHeadRoundTrip(t *testing.T) {
	h := randomHead(1)
	var b bytes.Buffer
	if _, err := h.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	got, err := Read(bytes.NewReader(b.Bytes()), "x")
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, h.Inputs())
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	if a, b := NewScorer(h).Score(x), NewScorer(got).Score(x); a != b {
		t.Fatalf("scores %v and %v after a round trip", a, b)
	}
	if got.Phrase != h.Phrase || got.Threshold != h.Threshold || got.Sure != h.Sure || got.Trained != h.Trained {
		t.Fatalf("header changed: %+v", got)
	}
	path := filepath.Join(t.TempDir(), "sub", "h.head")
	if err := h.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestReadRefusesDamage(t *testing.T) {
	var b bytes.Buffer
	randomHead(2).WriteTo(&b)
	good := b.Bytes()
	nan := bytes.Clone(good)
	// The first weight of the first layer: after magic, two strings,
	// thresholds, sizes and the layer's three sizes.
	off := len("earshot-wakehead-1\n") + 4 + len("hey jarvis") + 4 + len("test") + 8 + 8 + 12
	copy(nan[off:], []byte{0, 0, 0xc0, 0x7f})
	for _, tc := range []struct {
		name, want string
		b          []byte
	}{
		{"empty", "not a wake-word head", nil},
		{"other file", "not a wake-word head", []byte("RIFF....WAVEfmt ")},
		{"old version", "train it again", []byte("earshot-wakehead-0\n")},
		{"truncated", "unexpected EOF", good[:len(good)-3]},
		{"trailing data", "data after the head", append(bytes.Clone(good), 0)},
		{"NaN weight", "a weight is NaN", nan},
	} {
		_, err := Read(bytes.NewReader(tc.b), "f.head")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "f.head") {
			t.Errorf("%s: %v, want an error naming the file and %q", tc.name, err, tc.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	randomHead(3).WriteTo(&b)
	f.Add(b.Bytes())
	f.Add([]byte("earshot-wakehead-1\n\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		// A head that reads scores any window without panicking.
		s := NewScorer(h).Score(make([]float32, h.Inputs()))
		if math.IsNaN(float64(s)) {
			t.Fatalf("score NaN")
		}
	})
}

func TestBuiltin(t *testing.T) {
	h := Builtin("Hey  Jarvis")
	if h == nil {
		t.Fatal("no built-in head for hey jarvis")
	}
	if Builtin("computer") != nil {
		t.Fatal("a built-in head for computer")
	}
	if h.Threshold <= 0 || h.Sure < h.Threshold || !strings.Contains(h.Trained, "earshot wake-train") {
		t.Fatalf("built-in head: threshold %v, sure %v, trained %q", h.Threshold, h.Sure, h.Trained)
	}
}

// TestReadONNXMatchesONNXRuntime scores openWakeWord's own heads (fetched
// by `make models` for this test, not shipped) over the embeddings ONNX
// Runtime computed for audio/embedding's test signal, and compares with
// ONNX Runtime's scores (testdata/oww-scores.json, made by
// testdata/oww-scores.js).
func TestReadONNXMatchesONNXRuntime(t *testing.T) {
	dir := filepath.Join(embeddingtest.Dir(t), "oww")
	var ref struct {
		Embeddings [][]float32 `json:"embeddings"`
	}
	readJSON(t, "../embedding/testdata/reference.json", &ref)
	var want map[string][]float64
	readJSON(t, "testdata/oww-scores.json", &want)
	for name, scores := range want {
		h, err := ReadONNX(filepath.Join(dir, name+"_v0.1.onnx"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if h.Phrase != strings.ReplaceAll(name, "_", " ") || h.Window != 16 {
			t.Fatalf("%s: phrase %q, window %d", name, h.Phrase, h.Window)
		}
		sc := NewScorer(h)
		x := make([]float32, h.Inputs())
		for k, w := range scores {
			for j := 0; j < 16; j++ {
				copy(x[j*embedding.Dim:], ref.Embeddings[k+j])
			}
			got := float64(sc.Score(x))
			// Compare logits: the scores are far from 0.5 on this signal,
			// where ONNX Runtime's sigmoid (MLAS's approximation of the
			// logistic function) is off by up to about 1 %.
			if d := math.Abs(math.Log(got/(1-got)) - math.Log(w/(1-w))); d > 0.02 {
				t.Errorf("%s window %d: score %g, ONNX Runtime %g", name, k, got, w)
			}
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkScore is the head's cost per 80 ms hop of speech: one score of
// the shipped head over its 16 embeddings, with no allocation.
func BenchmarkScore(b *testing.B) {
	h := Builtin("hey jarvis")
	s := NewScorer(h)
	x := make([]float32, h.Inputs())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Score(x)
	}
}
