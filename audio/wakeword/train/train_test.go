package train

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/earshot/earshot/audio/embedding"
	"github.com/earshot/earshot/audio/embedding/embeddingtest"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/wakeword"
)

func testGrammar(t *testing.T) *intents.Grammar {
	t.Helper()
	g, err := intents.Parse([]byte("slots:\n  room: [kitchen, bedroom]\nintents:\n  LightsOn: [\"turn on the {room} lights\"]\n"), "intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestRunSmall trains a tiny head with every engine of the generator (a
// few dozen clips): the whole path from synthesis to a head file runs,
// and the head already tells the phrase from other speech on the clips
// it held back.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("renders a minute of speech")
	}
	m := embeddingtest.Model(t)
	voices := []Voice{{"flite", "slt"}, {"flite", "rms"}, {"espeak-ng", "en-us+f2"}, {"festival", "ked_diphone"}}
	h, rep, err := Run(context.Background(), m, Options{
		Phrase: "Hey  Jarvis", Grammar: testGrammar(t), Voices: voices,
		Positives: 80, Negatives: 120, Epochs: 12, Hidden: 16, Seed: 7, Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if h.Phrase != "hey jarvis" || !h.Knows("hey jarvis") || h.Window != 16 || len(h.Layers) != 3 {
		t.Fatalf("head %q window %d layers %d", h.Phrase, h.Window, len(h.Layers))
	}
	if h.Threshold != 0.5 || h.Sure != 0.9 {
		t.Errorf("thresholds %v, %v", h.Threshold, h.Sure)
	}
	for _, want := range []string{"earshot wake-train", "seed 7", "flite", "festival:ked_diphone", "espeak-ng"} {
		if !strings.Contains(h.Trained, want) {
			t.Errorf("provenance %q lacks %q", h.Trained, want)
		}
	}
	t.Logf("held back %d clips: wake recall %.2f, other clips over the threshold %d", rep.HeldBack, rep.PositiveRecall, rep.NegativeFalse)
	if rep.HeldBack == 0 || rep.PositiveRecall < 0.5 {
		t.Errorf("held back %d clips, wake recall %.2f", rep.HeldBack, rep.PositiveRecall)
	}
	if !slices.Contains(rep.NearMisses, "jarvis") {
		t.Errorf("near misses %v lack the phrase without its first word", rep.NearMisses)
	}
}

func TestNearMisses(t *testing.T) {
	path := sphinx.DictionaryPath("")
	near, err := NearMisses(path, "hey jarvis", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"jarvis", "hey", "hey jar"} {
		if !slices.Contains(near, want) {
			t.Errorf("%v lacks %q", near, want)
		}
	}
	if slices.Contains(near, "hey jarvis") || len(near) < 10 {
		t.Errorf("near misses %v", near)
	}
	swapped := 0
	for _, n := range near {
		w := strings.Fields(n)
		if len(w) == 2 && w[0] == "hey" && w[1] != "jarvis" {
			swapped++
		}
		if len(w) == 2 && w[0] != "hey" {
			t.Errorf("%q: a two-phone word has no sound-alikes to swap in", n)
		}
	}
	if swapped < 5 {
		t.Errorf("only %d near misses swap jarvis: %v", swapped, near)
	}
	if _, err := NearMisses(path, "hey zorblax", 1); err == nil || !strings.Contains(err.Error(), "zorblax") {
		t.Errorf("unknown word: %v", err)
	}
}

// TestRhymes: words that end as the word does, in its last half of
// phones, and begin otherwise, are near misses; the word said another
// way, a word that only shares its last sound, and one that is all of
// the ending are not.
func TestRhymes(t *testing.T) {
	dict := sphinx.Dictionary{
		"savant":  {"S AE V AH N T", "S AH V AA N T"},
		"servant": {"S ER V AH N T"},
		"vermont": {"V ER M AA N T"},
		"want":    {"W AA N T"},
		"ant":     {"AE N T"},
		"saint":   {"S EY N T"},
		"Lamont":  {"L AH M AA N T"},
	}
	got := rhymes(dict, dict["savant"], rand.New(rand.NewPCG(1, 2)))
	sort.Strings(got)
	// (servant differs before the ending only by a sound: a sound-alike.)
	if want := []string{"vermont", "want"}; !slices.Equal(got, want) {
		t.Errorf("rhymes of savant: %v, want %v", got, want)
	}
	path := sphinx.DictionaryPath("")
	all, err := sphinx.LoadDictionary(path)
	if err != nil {
		t.Fatal(err)
	}
	near, err := NearMisses(path, "hey jarvis", 1)
	if err != nil {
		t.Fatal(err)
	}
	n := 0 // "hey beavis", "hey canvas": JH AA R V AH S ends in V AH S
	for _, s := range near {
		w, ok := strings.CutPrefix(s, "hey ")
		if !ok || w == "jarvis" {
			continue
		}
		if slices.ContainsFunc(all[w], func(p string) bool {
			f := strings.Fields(p)
			return len(f) > 3 && strings.Join(f[len(f)-3:], " ") == "V AH S" && f[len(f)-4] != "R"
		}) {
			n++
		}
	}
	if n < 5 {
		t.Errorf("near misses of hey jarvis hold %d rhymes: %v", n, near)
	}
}

// TestWindowsLabels: windows ending at the phrase's end are positive,
// windows ending before half of it negative, those between left out.
func TestWindowsLabels(t *testing.T) {
	n := 40
	s := Sample{Embeddings: make([]float32, n*embedding.Dim), PhraseStart: EmbeddingEnd(10), PhraseEnd: EmbeddingEnd(20)}
	other := Sample{Embeddings: make([]float32, 5*embedding.Dim), PhraseStart: -1, PhraseEnd: -1}
	ws := windows([]Sample{s, other})
	var pos, neg []int
	for _, w := range ws {
		if w.s.PhraseEnd < 0 {
			if w.y != 0 {
				t.Fatal("a window of other speech is positive")
			}
			continue
		}
		if w.y == 1 {
			pos = append(pos, w.end)
		} else {
			neg = append(neg, w.end)
		}
	}
	if !slices.Equal(pos, []int{19, 20, 21, 22}) {
		t.Errorf("positive windows end at %v, want 19..22 (80 ms before the end to 240 ms after)", pos)
	}
	if len(neg) == 0 || slices.Max(neg) >= 15 {
		t.Errorf("negative windows %v: want those ending before the middle of the phrase only", neg)
	}
	if len(ws) != len(pos)+len(neg)+5 {
		t.Errorf("%d windows", len(ws))
	}
}

// TestGradients checks the backward pass against finite differences.
func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := newMLP(12, 5, rng)
	for i := range m.g1 {
		m.g1[i] = float32(0.5 + rng.Float64())
		m.e1[i] = float32(0.2 * rng.NormFloat64())
		m.g2[i] = float32(0.5 + rng.Float64())
		m.e2[i] = float32(0.2 * rng.NormFloat64())
	}
	x := make([]float32, 12)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	const y = 1.0
	loss := func() float64 {
		z := m.forward(x, newTrace(5))
		p := 1 / (1 + math.Exp(-z))
		return -(y*math.Log(p) + (1-y)*math.Log(1-p))
	}
	tr := newTrace(5)
	z := m.forward(x, tr)
	grad := make([]float64, len(m.p))
	m.backward(x, tr, 1/(1+math.Exp(-z))-y, grad, newScratch(5))
	for _, i := range []int{0, 7, 59, 60, 64, 66, 70, 75, 80, 100, 104, 110, 115, len(m.p) - 1} {
		old := m.p[i]
		const h = 1e-2
		m.p[i] = old + h
		up := loss()
		m.p[i] = old - h
		down := loss()
		m.p[i] = old
		num := (up - down) / (2 * h)
		if math.Abs(num-grad[i]) > 1e-3+1e-2*math.Abs(num) {
			t.Errorf("parameter %d: gradient %g, numerically %g", i, grad[i], num)
		}
	}
}

// TestHeadScoresAsTrained: the trained network and the head written from
// it give the same score.
func TestHeadScoresAsTrained(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := newMLP(16*embedding.Dim, 8, rng)
	h := &wakeword.Head{Phrase: "x", Window: 16, Threshold: 0.5, Sure: 0.9, Layers: m.head()}
	x := make([]float32, 16*embedding.Dim)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 10)
	}
	want := 1 / (1 + math.Exp(-m.forward(x, newTrace(8))))
	if got := float64(wakeword.NewScorer(h).Score(x)); math.Abs(got-want) > 1e-4 {
		t.Fatalf("head scores %v, the network %v", got, want)
	}
}

// TestNoiseKinds: every noise comes at unit power; babble is made of the
// talk it is given and clatter comes and goes, where white noise is
// steady.
func TestNoiseKinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tone := make([]int16, 8000)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/16000))
	}
	const n = 32000
	for _, kind := range noiseKinds {
		x := makeNoise(kind, n, rng, [][]int16{tone})
		if len(x) != n {
			t.Fatalf("%s: %d samples, want %d", kind, len(x), n)
		}
		if p := meanSquare(x); math.Abs(p-1) > 1e-6 {
			t.Errorf("%s: power %.3f, want 1", kind, p)
		}
	}
	// Babble of a 1 kHz tone is (nearly) all 1 kHz.
	b := makeNoise("babble", n, rng, [][]int16{tone})
	if on, off := goertzel(b, 1000), goertzel(b, 2500); on < 100*off {
		t.Errorf("babble of a 1 kHz tone: %.3g at 1 kHz, %.3g at 2.5 kHz", on, off)
	}
	// Without talk, babble falls back to a steady noise.
	if b := makeNoise("babble", n, rng, nil); goertzel(b, 1000) > 100*goertzel(b, 2500) {
		t.Error("babble without talk is not broadband")
	}
	if r := burstiness(makeNoise("clatter", n, rng, nil)); r < 10 {
		t.Errorf("clatter: loudest 10 ms %.1f× the median, want ≥ 10", r)
	}
	if r := burstiness(makeNoise("white", n, rng, nil)); r > 3 {
		t.Errorf("white: loudest 10 ms %.1f× the median, want ≤ 3", r)
	}
}

// TestBabbleHasNoWakePhrase: the talk babble is made of leaves out the
// wake phrases of a batch, and keeps what is said around them.
func TestBabbleHasNoWakePhrase(t *testing.T) {
	clip := func(v int16) []int16 { return []int16{v} }
	exs := []example{{positive: true}, {}, {positive: true}}
	audio := [][3][]int16{
		{clip(1), clip(2), clip(3)}, // sentence, wake phrase, command
		{nil, clip(4), nil},         // a near miss
		{nil, clip(5), nil},         // a wake phrase alone
	}
	var got []int16
	for _, a := range talkOf(exs, audio) {
		got = append(got, a[0])
	}
	if want := []int16{1, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("talk %v, want %v", got, want)
	}
}

// goertzel is the power of x at f Hz.
func goertzel(x []float64, f float64) float64 {
	w := 2 * math.Cos(2*math.Pi*f/16000)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+w*s1-s2, s1
	}
	return s1*s1 + s2*s2 - w*s1*s2
}

// burstiness is the energy of the loudest 10 ms of x over the median's.
func burstiness(x []float64) float64 {
	var e []float64
	for i := 0; i+160 <= len(x); i += 160 {
		e = append(e, meanSquare(x[i:i+160]))
	}
	slices.Sort(e)
	return e[len(e)-1] / e[len(e)/2]
}
