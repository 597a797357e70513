package moonshine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/earshot/earshot/audio/embedding/embeddingtest"
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

// BenchmarkTranscribe is the cost of reading a command again (see
// audio/listen's readAgain): a coffee order of about 4 s, encoded and
// decoded greedily.
func BenchmarkTranscribe(b *testing.B) {
	m := load(b)
	pcm := append(sphinxtest.Speak(b, "slt", "can i have a large double shot latte with oat milk and a little bit of sugar", 0, 0), sphinxtest.Silence(0.3)...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Transcribe(pcm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pcm))/SampleRate, "s-audio")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/command")
}
