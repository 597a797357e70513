package wakeword

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/earshot/earshot/audio/embedding"
)

// Head is a small network that scores the latest Window embeddings for
// one wake phrase: dense layers, each but the last followed by layer
// normalisation and a ReLU, then a sigmoid. It is openWakeWord's shape
// of model, so that its heads can be read too (see ReadONNX).
type Head struct {
	// Phrase is the wake phrase the head was trained for.
	Phrase string
	// Window is how many embeddings (80 ms apart) it hears.
	Window int
	// Threshold is the score at which a window counts as the wake phrase
	// at the default sensitivity; Sure is the score at which the head
	// alone is trusted, without the verifier's second opinion (see
	// audio/listen). Both come from training, on held-back speech.
	Threshold, Sure float32
	Layers          []Dense
	// Trained says how the head was made (tool versions, voices, seed),
	// for `earshot version` and the model's provenance.
	Trained string
}

// Dense is one layer: out = W·in + B, then (for all but the last layer)
// layer normalisation with Gamma, Beta and a ReLU.
type Dense struct {
	In, Out     int
	W           []float32 // Out × In
	B           []float32
	Gamma, Beta []float32 // nil: no normalisation (an openWakeWord head may have none)
}

// Inputs is the size of the head's input.
func (h *Head) Inputs() int { return h.Window * embedding.Dim }

// Scorer scores windows with a Head without allocating; it is not safe
// for concurrent use.
type Scorer struct {
	h    *Head
	a, b []float32
}

// NewScorer returns a Scorer of h.
func NewScorer(h *Head) *Scorer {
	n := 0
	for _, l := range h.Layers {
		n = max(n, l.Out)
	}
	return &Scorer{h: h, a: make([]float32, n), b: make([]float32, n)}
}

// Score returns the probability that the window x (Window × Dim, oldest
// first) ends in the wake phrase.
func (s *Scorer) Score(x []float32) float32 {
	in := x
	for i, l := range s.h.Layers {
		out := s.a[:l.Out]
		if i%2 == 1 {
			out = s.b[:l.Out]
		}
		for o := range out {
			w := l.W[o*l.In : (o+1)*l.In]
			w = w[:len(in)]
			sum := float64(l.B[o])
			for k, v := range in {
				sum += float64(v) * float64(w[k])
			}
			out[o] = float32(sum)
		}
		if i < len(s.h.Layers)-1 {
			if l.Gamma != nil {
				layerNorm(out, l.Gamma, l.Beta)
			}
			for o, v := range out {
				out[o] = max(v, 0)
			}
		}
		in = out
	}
	return sigmoid(in[0])
}

// layerNormEps is the epsilon of PyTorch's LayerNorm, which openWakeWord's
// heads and ours use.
const layerNormEps = 1e-5

func layerNorm(x, gamma, beta []float32) {
	var mean, v float64
	for _, a := range x {
		mean += float64(a)
	}
	mean /= float64(len(x))
	for _, a := range x {
		d := float64(a) - mean
		v += d * d
	}
	inv := 1 / math.Sqrt(v/float64(len(x))+layerNormEps)
	for i, a := range x {
		x[i] = float32((float64(a)-mean)*inv)*gamma[i] + beta[i]
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// The head file: a versioned header, then the phrase, the thresholds, the
// provenance and the layers, all little-endian. Read checks every size
// against fixed bounds before it allocates, refuses NaN and infinite
// weights, and refuses trailing data.
const magic = "earshot-wakehead-1\n"

const (
	maxPhrase  = 256
	maxTrained = 4096
	maxLayers  = 8
	maxWidth   = 4096
	maxWindow  = 64
)

// WriteTo writes h in the head file format.
func (h *Head) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	buf.WriteString(magic)
	put := func(v any) { binary.Write(&buf, binary.LittleEndian, v) }
	for _, s := range []string{h.Phrase, h.Trained} {
		put(uint32(len(s)))
		buf.WriteString(s)
	}
	put([]float32{h.Threshold, h.Sure})
	put([]uint32{uint32(h.Window), uint32(len(h.Layers))})
	for _, l := range h.Layers {
		norm := uint32(0)
		if l.Gamma != nil {
			norm = 1
		}
		put([]uint32{uint32(l.In), uint32(l.Out), norm})
		put(l.W)
		put(l.B)
		if l.Gamma != nil {
			put(l.Gamma)
			put(l.Beta)
		}
	}
	return buf.WriteTo(w)
}

// Read reads a head in the head file format; name is for errors.
func Read(r io.Reader, name string) (*Head, error) {
	br := bufio.NewReader(r)
	bad := func(format string, args ...any) (*Head, error) {
		return nil, fmt.Errorf("wakeword: %s: "+format, append([]any{name}, args...)...)
	}
	read := func(what string, v any) error {
		err := binary.Read(br, binary.LittleEndian, v)
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return fmt.Errorf("wakeword: %s: %s: %w", name, what, err)
		}
		return nil
	}
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil {
		return bad("not a wake-word head (%v)", err)
	}
	if string(head) != magic {
		if bytes.HasPrefix(head, []byte("earshot-wakehead-")) {
			return bad("head format %q, this build reads %q: train it again (earshot wake-train)", strings.TrimSpace(string(head)), strings.TrimSpace(magic))
		}
		return bad("not a wake-word head (header %q)", head)
	}
	h := &Head{}
	for i, limit := range []uint32{maxPhrase, maxTrained} {
		var n uint32
		if err := read("string", &n); err != nil {
			return nil, err
		}
		if n > limit {
			return bad("a string of %d bytes", n)
		}
		s := make([]byte, n)
		if err := read("string", s); err != nil {
			return nil, err
		}
		if i == 0 {
			h.Phrase = string(s)
		} else {
			h.Trained = string(s)
		}
	}
	var th [2]float32
	var dims [2]uint32
	if err := read("thresholds", &th); err != nil {
		return nil, err
	}
	if err := read("sizes", &dims); err != nil {
		return nil, err
	}
	h.Threshold, h.Sure = th[0], th[1]
	for _, v := range th {
		if !(v >= 0 && v <= 1) {
			return bad("threshold %v, want 0..1", v)
		}
	}
	if dims[0] == 0 || dims[0] > maxWindow {
		return bad("window of %d embeddings, want 1..%d", dims[0], maxWindow)
	}
	if dims[1] == 0 || dims[1] > maxLayers {
		return bad("%d layers, want 1..%d", dims[1], maxLayers)
	}
	h.Window = int(dims[0])
	in := h.Inputs()
	for i := 0; i < int(dims[1]); i++ {
		var ld [3]uint32
		if err := read("layer", &ld); err != nil {
			return nil, err
		}
		if int(ld[0]) != in {
			return bad("layer %d takes %d inputs, the layer before gives %d", i+1, ld[0], in)
		}
		if ld[1] == 0 || ld[1] > maxWidth || ld[2] > 1 {
			return bad("layer %d: %d outputs, normalisation %d", i+1, ld[1], ld[2])
		}
		l := Dense{In: int(ld[0]), Out: int(ld[1]), W: make([]float32, int(ld[0])*int(ld[1])), B: make([]float32, ld[1])}
		arrays := []*[]float32{&l.W, &l.B}
		if ld[2] == 1 {
			l.Gamma, l.Beta = make([]float32, ld[1]), make([]float32, ld[1])
			arrays = append(arrays, &l.Gamma, &l.Beta)
		}
		for _, a := range arrays {
			if err := read("weights", *a); err != nil {
				return nil, err
			}
			for _, v := range *a {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return bad("layer %d: a weight is %v", i+1, v)
				}
			}
		}
		h.Layers = append(h.Layers, l)
		in = l.Out
	}
	if in != 1 {
		return bad("the last layer gives %d outputs, want 1", in)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return bad("data after the head")
	}
	return h, nil
}

// Knows reports whether h was trained for phrase (case and spacing aside).
func (h *Head) Knows(phrase string) bool { return Normalise(phrase) == Normalise(h.Phrase) }

// Normalise returns phrase in lower case with single spaces.
func Normalise(phrase string) string {
	return strings.Join(strings.Fields(strings.ToLower(phrase)), " ")
}

// ReadFile reads a head file.
func ReadFile(path string) (*Head, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wakeword: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// WriteFile writes h to path atomically (a temporary file, synced, then
// renamed).
func (h *Head) WriteFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("wakeword: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".head-*")
	if err != nil {
		return fmt.Errorf("wakeword: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := h.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("wakeword: %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("wakeword: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("wakeword: %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

//go:embed hey_jarvis.head
var builtin []byte

// Builtin returns the head for "hey jarvis" that ships with earshot, or
// nil when phrase is another.
func Builtin(phrase string) *Head {
	h, err := Read(bytes.NewReader(builtin), "hey_jarvis.head")
	if err != nil {
		panic(err) // the build embedded a broken head; tests catch it
	}
	if !h.Knows(phrase) {
		return nil
	}
	return h
}
