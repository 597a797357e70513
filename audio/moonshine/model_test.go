//go:build cgo

package moonshine

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
)

// Transcripts decoded side by side in a batch get the logits each gets
// decoded alone, each in its place in the batch, to within what the
// decoder's quantisation over the whole batch moves them.
func TestBeams(t *testing.T) {
	m := load(t)
	pcm := append(sphinxtest.Speak(t, "kal16", "can i get a large cappuccino", 0, 0), sphinxtest.Silence(0.3)...)
	a, err := m.Hear(pcm)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tok := m.Tokenizer()
	ways := [][]int{tok.Encode("Can I get"), tok.Encode("Could you get"), tok.Encode("Can I have")}
	b, err := a.beams()
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	// Two steps from the one transcript begun, then the third token of
	// each, the batch reordered: ways 2, 0, 1.
	if err := b.next([]int{0, 0, 0}, []int64{int64(ways[0][0]), int64(ways[1][0]), int64(ways[2][0])}); err != nil {
		t.Fatal(err)
	}
	if err := b.next([]int{0, 1, 2}, []int64{int64(ways[0][1]), int64(ways[1][1]), int64(ways[2][1])}); err != nil {
		t.Fatal(err)
	}
	order := []int{2, 0, 1}
	if err := b.next(order, []int64{int64(ways[2][2]), int64(ways[0][2]), int64(ways[1][2])}); err != nil {
		t.Fatal(err)
	}
	for k, w := range order {
		row, cache, err := a.next([]int64{bos}, nil)
		if err != nil {
			t.Fatal(err)
		}
		shared := a.encoderPart(cache)
		for _, id := range ways[w][:3] {
			r, c, err := a.next([]int64{int64(id)}, cache)
			if err != nil {
				t.Fatal(err)
			}
			a.free(cache)
			row, cache = r, c
		}
		a.free(cache)
		destroy(shared)
		got := b.rows[k]
		top, _ := normaliser(row)
		worst := 0.0
		for id, x := range row {
			if x >= top-5 {
				worst = max(worst, math.Abs(logSoftmax(got, id)-logSoftmax(row, id)))
			}
		}
		t.Logf("%q, %d in the batch: log-probabilities of its likeliest next tokens within %.3f of alone", tok.Decode(ways[w][:3]), k, worst)
		if worst > 0.5 {
			t.Errorf("%q, %d in the batch: a likely next token's log-probability %.3f off what it is alone", tok.Decode(ways[w][:3]), k, worst)
		}
	}
}

// The decoder's weights are dequantised when it is loaded, not at every
// run: in ONNX Runtime's profile of a transcription, no run dequantises a
// tensor of weights (the output projection's are 288 × 32768).
func TestDecoderWeightsDequantisedOnce(t *testing.T) {
	m := load(t)
	opts, err := sessionOptions(true)
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	dir := t.TempDir()
	if err := opts.EnableProfiling(filepath.Join(dir, "decoder")); err != nil {
		t.Fatal(err)
	}
	dec, err := ort.NewDynamicAdvancedSession(filepath.Join(modelDir(t), DecoderFile), m.decIn, m.decOut, opts)
	if err != nil {
		t.Fatal(err)
	}
	profiled := &Model{enc: m.enc, dec: dec, decIn: m.decIn, decOut: m.decOut, tok: m.tok,
		emptyPast: m.emptyPast, pastAt: m.pastAt, presentAt: m.presentAt, own: m.own}
	pcm := append(sphinxtest.Speak(t, "slt", "turn on the kitchen lights", 0, 0), sphinxtest.Silence(0.3)...)
	a, err := profiled.Hear(pcm)
	if err != nil {
		t.Fatal(err)
	}
	text, err := a.Transcribe()
	a.Close()
	dec.Destroy() // writes the profile
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "decoder*.json"))
	if len(files) != 1 {
		t.Fatalf("profiles: %q", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var events []struct {
		Cat  string
		Args struct {
			Op     string             `json:"op_name"`
			Inputs []map[string][]int `json:"input_type_shape"`
		}
	}
	if err := json.Unmarshal(raw, &events); err != nil {
		t.Fatal(err)
	}
	nodes := 0
	for _, e := range events {
		if e.Cat != "Node" {
			continue
		}
		nodes++
		if e.Args.Op != "DequantizeLinear" || len(e.Args.Inputs) == 0 {
			continue
		}
		for _, shape := range e.Args.Inputs[0] {
			if n := prod(shape); n >= 288*288 {
				t.Errorf("a run dequantised %d weights (%v)", n, shape)
			}
		}
	}
	t.Logf("transcript %q: %d node events profiled", text, nodes)
	if nodes == 0 {
		t.Error("the profile holds no node")
	}
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
