package moonshine

import (
	"math"
	"strings"
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

// Transcribe returns what pcm says, in Moonshine's own words.
func (m *Model) Transcribe(pcm []int16) (string, error) {
	a, err := m.Hear(pcm)
	if err != nil {
		return "", err
	}
	defer a.Close()
	return a.Transcribe()
}
