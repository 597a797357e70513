package moonshine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/earshot/earshot/audio/embedding/embeddingtest"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
)

func modelDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(embeddingtest.Dir(t), "moonshine")
	if _, err := os.Stat(filepath.Join(dir, LibraryFile)); err != nil {
		t.Fatalf("Moonshine is not in %s: run `make models` (or `make test`)", dir)
	}
	return dir
}

var model *Model

func load(t testing.TB) *Model {
	t.Helper()
	if model == nil {
		m, err := Load(modelDir(t))
		if err != nil {
			t.Fatal(err)
		}
		model = m
	}
	return model
}

// The tokenizer splits as llama-tokenizer-js does (its ids, printed by
// its encode(text, false, true)).
func TestEncode(t *testing.T) {
	tok, err := LoadTokenizer(filepath.Join(modelDir(t), TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string][]int{
		"Jarvis":       {15864, 1730},
		"Hey Jarvis":   {18637, 15864, 1730},
		"Computer":     {20972},
		"Athena":       {9193, 2386},
		"Amelia":       {1913, 18556},
		"Smart Mirror": {4116, 442, 11612, 729},
		"View Glass":   {4533, 402, 605},
		"Hey Savant":   {18637, 9583, 424},
		"jarvis":       {14631, 1730},
	} {
		got := tok.Encode(text)
		if !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, want %v", text, got, want)
		}
		if back := tok.Decode(got); back != text {
			t.Errorf("Decode(Encode(%q)) = %q", text, back)
		}
	}
	if got := tok.Decode([]int{bos, 18637, 29892, 15864, 1730, 29889, eos}); got != "Hey, Jarvis." {
		t.Errorf("Decode with punctuation = %q", got)
	}
}

// The model hears a wake phrase and its command, and scores the phrase
// said far above one that was not.
func TestHear(t *testing.T) {
	m := load(t)
	pcm := append(sphinxtest.Speak(t, "slt", "hey jarvis, turn on the kitchen lights", 0, 0), sphinxtest.Silence(0.3)...)
	a, err := m.Hear(pcm)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	text, err := a.Transcribe()
	if err != nil {
		t.Fatal(err)
	}
	if low := strings.ToLower(text); !strings.Contains(low, "kitchen lights") {
		t.Errorf("transcript %q", text)
	}
	said, err := a.Score(m.Tokenizer().Encode("Hey Jarvis"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.Score(m.Tokenizer().Encode("Amelia"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("transcript %q; log-probability of hey jarvis %.2f, of amelia %.2f", text, said, other)
	if said < -9 || other > said-10 {
		t.Errorf("log-probability of the phrase said %.2f, of one not said %.2f", said, other)
	}
	if _, err := m.Hear(pcm[:100]); err == nil {
		t.Error("Hear took 100 samples")
	}
}

// Read transcribes a command and finds the sentence said likelier than
// one a word away from it, and than the same sentence cut short.
func TestRead(t *testing.T) {
	m := load(t)
	pcm := append(sphinxtest.Speak(t, "rms", "i'd like a large latte with oat milk", 0, 0), sphinxtest.Silence(0.3)...)
	said := []string{"i'd", "like", "a", "large", "latte", "with", "oat", "milk"}
	var transcript string
	text, scores, err := m.Read(pcm, nil, 0, func(text string, _ [][]string) [][]string {
		transcript = text
		return [][]string{said, {"i'd", "like", "a", "small", "latte", "with", "oat", "milk"}, said[:5]}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("transcript %q; log-probabilities %.2f", text, scores)
	if text != transcript || !strings.Contains(strings.ToLower(text), "oat milk") || len(scores) != 3 {
		t.Fatalf("transcript %q (candidates given %q), %d scores", text, transcript, len(scores))
	}
	if scores[0] < scores[1]+3 || scores[0] < scores[2]+3 {
		t.Errorf("the sentence said %.2f, a word away %.2f, cut short %.2f", scores[0], scores[1], scores[2])
	}
	if got := written([]string{"i'd", "like", "what", "i", "said"}); got != "I'd like what I said." {
		t.Errorf("written: %q", got)
	}
}

// coffee is the command FSG of the coffee grammar of real-dev's orders.
func coffee(tb testing.TB) *intents.FSG {
	tb.Helper()
	g, err := intents.Load("../corpus/coffee.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	f, err := g.CommandFSG()
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// TestHeld: held to a grammar, Moonshine writes the sentence said, and
// only the grammar's sentences, each once, the likeliest first.
func TestHeld(t *testing.T) {
	m := load(t)
	f := coffee(t)
	said := "i'd like a large latte with almond milk"
	pcm := append(sphinxtest.Speak(t, "rms", said, 0, 0), sphinxtest.Silence(0.3)...)
	a, err := m.Hear(pcm)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	held, err := a.Held(f, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held: %q", held)
	seen := map[string]bool{}
	for _, s := range held {
		k := strings.Join(s, " ")
		if !f.Accepts(k) || seen[k] {
			t.Errorf("held %q: not the grammar's, or twice", k)
		}
		seen[k] = true
	}
	if len(held) == 0 || len(held) > 3 || strings.Join(held[0], " ") != said {
		t.Errorf("held %q, want the sentence said first, at most 3", held)
	}
}

// BenchmarkSaid is the second opinion's cost per candidate: the encoder
// on 2 s of speech and the decoder given the phrase.
func BenchmarkSaid(b *testing.B) {
	p := load(b).Phrase("hey jarvis")
	pcm := append(sphinxtest.Speak(b, "slt", "hey jarvis, turn on the kitchen lights", 0, 0), sphinxtest.Silence(2)...)[:2*SampleRate]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Said(pcm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/candidate")
}

// BenchmarkRead is the cost of weighing a command (see audio/listen's
// Listener.read): a coffee order of about 4 s, encoded, decoded greedily,
// and nine sentences scored.
func BenchmarkRead(b *testing.B) {
	m := load(b)
	said := "can i have a large double shot latte with oat milk and a little bit of sugar"
	pcm := append(sphinxtest.Speak(b, "slt", said, 0, 0), sphinxtest.Silence(0.3)...)
	sentences := make([][]string, 9)
	for k := range sentences {
		sentences[k] = strings.Fields(said)
		sentences[k][k] = "the"
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Read(pcm, nil, 0, func(string, [][]string) [][]string { return sentences }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pcm))/SampleRate, "s-audio")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/command")
}

// BenchmarkHeld is the cost of the search held to the coffee grammar
// (Audio.Held, beam 3) on an order of about 4 s: what reading a command
// adds when Moonshine's own transcript is no sentence of the grammar.
func BenchmarkHeld(b *testing.B) {
	m := load(b)
	f := coffee(b)
	said := "can i have a large double shot latte with oat milk and a little bit of sugar"
	pcm := append(sphinxtest.Speak(b, "slt", said, 0, 0), sphinxtest.Silence(0.3)...)
	a, err := m.Hear(pcm)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Held(f, 3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(a.Seconds, "s-audio")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/command")
}
