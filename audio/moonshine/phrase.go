package moonshine

import (
	"math"
	"strings"

	"github.com/earshot/earshot/audio/intents"
)

// Phrase scores how likely speech begins with a wake phrase (see
// Phrase.Said).
type Phrase struct {
	m *Model
	// ways are the phrase's spellings as a transcript would begin with
	// it: capitalised, and for a phrase of several words, with a comma
	// after the first ("Hey, Jarvis").
	ways [][]int
}

// Phrase prepares to score phrase (lower-case words).
func (m *Model) Phrase(phrase string) *Phrase {
	words := strings.Fields(phrase)
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	p := &Phrase{m: m, ways: [][]int{m.tok.Encode(strings.Join(words, " "))}}
	if len(words) > 1 {
		p.ways = append(p.ways, m.tok.Encode(words[0]+", "+strings.Join(words[1:], " ")))
	}
	return p
}

// Said returns the mean log-probability per token of the likeliest
// spelling of the phrase as the start of what pcm says.
func (p *Phrase) Said(pcm []int16) (float64, error) {
	a, err := p.m.Hear(pcm)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	best := math.Inf(-1)
	for _, w := range p.ways {
		lp, err := a.Score(w)
		if err != nil {
			return 0, err
		}
		best = max(best, lp/float64(len(w)))
	}
	return best, nil
}

// Read transcribes pcm and scores what candidates proposes for the
// transcript: for each sentence (lower-case words, as a grammar writes
// them), the log-probability that it is the whole transcript, written as
// a sentence is ("I'd like a latte."). When g is not nil, candidates is
// also given the beam sentences of g likeliest as the transcript
// (Audio.Held). The audio is heard once.
func (m *Model) Read(pcm []int16, g *intents.FSG, beam int, candidates func(transcript string, held [][]string) [][]string) (string, []float64, error) {
	a, err := m.Hear(pcm)
	if err != nil {
		return "", nil, err
	}
	defer a.Close()
	text, err := a.Transcribe()
	if err != nil {
		return "", nil, err
	}
	// Held to g, a transcript that is already one of its sentences is
	// written the same: the search is skipped.
	var held [][]string
	if g != nil && beam > 0 && !writes(g, text) {
		if held, err = a.Held(g, beam); err != nil {
			return "", nil, err
		}
	}
	// One at a time: the decoder quantises what it computes with scales
	// taken over its whole input, so in a batch a sentence's score would
	// hang on the others' (by 0.3 for a 10-token sentence beside one
	// other; a batch of nine took about 40 % less time).
	var scores []float64
	for _, s := range candidates(text, held) {
		lp, err := a.Score(append(m.tok.Encode(written(s)), eos))
		if err != nil {
			return "", nil, err
		}
		scores = append(scores, lp)
	}
	return text, scores, nil
}

// written writes words as a sentence: the first capitalised, "I" and its
// forms ("i'd") capitalised, a full stop at the end.
func written(words []string) string {
	out := make([]string, len(words))
	for k, w := range words {
		if k == 0 || w == "i" || strings.HasPrefix(w, "i'") {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		out[k] = w
	}
	return strings.Join(out, " ") + "."
}

// writes reports whether text is a whole sentence of g.
func writes(g *intents.FSG, text string) bool {
	at, ok := g.Spell(g.Spelling(), text)
	return ok && g.Spelt(at)
}
