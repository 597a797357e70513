//go:build cgo

package moonshine

import (
	"cmp"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/earshot/earshot/audio/intents"
)

// heldReach is how far below a step's likeliest token a continuation
// is looked for first (in nats); the rest of the vocabulary only when
// too few of those can be spelt.
const heldReach = 20

// Held returns the sentences of g Moonshine finds likeliest as the whole
// transcript when it may write nothing else: a beam search over its
// tokens that keeps, at each step, the beam likeliest continuations g can
// still spell (intents.FSG.Spell). Its own transcript may be no sentence
// of g at all ("Can I get a cup of chino?"); held to g it still writes
// the sentence the audio sounds most like ("can i get a cappuccino").
// At most beam sentences are returned, likeliest first, each once, as
// the grammar's words.
func (a *Audio) Held(g *intents.FSG, beam int) ([][]string, error) {
	type hyp struct {
		toks  []int
		lp    float64
		at    intents.Spelling
		row   []float32
		cache []ort.Value
	}
	row, cache, err := a.next([]int64{bos}, nil)
	if err != nil {
		return nil, err
	}
	live := []hyp{{at: g.Spelling(), row: row, cache: cache}}
	defer func() {
		for _, h := range live {
			a.free(h.cache)
		}
		destroy(a.encoderPart(cache))
	}()
	type ended struct {
		toks []int
		lp   float64
	}
	var done []ended
	type step struct {
		from int // index in live
		tok  int
		lp   float64
		at   intents.Spelling
	}
	var steps []step
	for range int(a.Seconds*8) + 4 {
		steps = steps[:0]
		for i, h := range live {
			top, logSum := normaliser(h.row)
			found := 0
			try := func(tok int) {
				lp := h.lp + float64(h.row[tok]-top) - logSum
				if tok == eos {
					if g.Spelt(h.at) {
						done = append(done, ended{h.toks, lp})
					}
					return
				}
				text, ok := a.m.tok.text(tok)
				if !ok {
					return
				}
				if at, ok := g.Spell(h.at, text); ok {
					steps = append(steps, step{i, tok, lp, at})
					found++
				}
			}
			for tok, x := range h.row {
				if x >= top-heldReach {
					try(tok)
				}
			}
			if found < beam {
				for tok, x := range h.row {
					if x < top-heldReach {
						try(tok)
					}
				}
			}
		}
		slices.SortFunc(steps, func(x, y step) int { return cmp.Compare(y.lp, x.lp) })
		steps = steps[:min(len(steps), beam)]
		// Done when no continuation can be likelier than the beam-th
		// sentence ended: a continuation only grows less likely.
		slices.SortFunc(done, func(x, y ended) int { return cmp.Compare(y.lp, x.lp) })
		if len(steps) == 0 || len(done) >= beam && done[beam-1].lp >= steps[0].lp {
			break
		}
		next := make([]hyp, 0, len(steps))
		for _, s := range steps {
			h := live[s.from]
			row, cache, err := a.next([]int64{int64(s.tok)}, h.cache)
			if err != nil {
				for _, n := range next {
					a.free(n.cache)
				}
				return nil, err
			}
			next = append(next, hyp{toks: append(slices.Clone(h.toks), s.tok), lp: s.lp, at: s.at, row: row, cache: cache})
		}
		for _, h := range live {
			a.free(h.cache)
		}
		live = next
	}
	// done is sorted: by the last step, after the last sentence ended.
	var out [][]string
	seen := map[string]bool{}
	for _, d := range done {
		ws := intents.TranscriptWords(a.m.tok.Decode(d.toks))
		if k := strings.Join(ws, " "); len(ws) > 0 && !seen[k] && len(out) < beam {
			seen[k] = true
			out = append(out, ws)
		}
	}
	return out, nil
}
