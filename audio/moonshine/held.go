//go:build cgo

package moonshine

import (
	"cmp"
	"errors"
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
		toks []int
		lp   float64
		at   intents.Spelling
	}
	b, err := a.beams()
	if err != nil {
		return nil, err
	}
	defer b.close()
	live := []hyp{{at: g.Spelling()}}
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
			row := b.rows[i]
			top, logSum := normaliser(row)
			found := 0
			try := func(tok int) {
				lp := h.lp + float64(row[tok]-top) - logSum
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
			for tok, x := range row {
				if x >= top-heldReach {
					try(tok)
				}
			}
			if found < beam {
				for tok, x := range row {
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
		next := make([]hyp, len(steps))
		from, toks := make([]int, len(steps)), make([]int64, len(steps))
		for k, s := range steps {
			h := live[s.from]
			next[k] = hyp{toks: append(slices.Clone(h.toks), s.tok), lp: s.lp, at: s.at}
			from[k], toks[k] = s.from, int64(s.tok)
		}
		if err := b.next(from, toks); err != nil {
			return nil, err
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

// beams are transcripts decoded side by side, one token a step each, in
// one decoder run a step: a batch of three costs far less than three
// runs (BenchmarkHeld 0.81 s one sentence at a time, 0.51 s batched, on
// a loaded build machine). The decoder quantises over its whole input,
// so a transcript's log-probabilities hang a little on the others' in
// the batch: a search may be steered by them, a sentence is scored alone
// (Audio.Score).
type beams struct {
	a *Audio
	// rows are each transcript's logits for its next token.
	rows [][]float32
	// cache is the batch's: the decoder's own keys and values, one row
	// a transcript; the encoder's part, one transcript's, as the first
	// step made it.
	cache []ort.Value
	// tiled holds the encoder's output and its part of the cache for a
	// batch of n at tiled[n] (n > 1).
	tiled map[int][]ort.Value
}

// beams begins a batch of one transcript.
func (a *Audio) beams() (*beams, error) {
	row, cache, err := a.next([]int64{bos}, nil)
	if err != nil {
		return nil, err
	}
	return &beams{a: a, rows: [][]float32{row}, cache: cache, tiled: map[int][]ort.Value{}}, nil
}

// next goes on with tokens[k] after transcript from[k], for each k: the
// batch after it has len(from) transcripts, in that order.
func (b *beams) next(from []int, tokens []int64) error {
	a, m, n := b.a, b.a.m, len(from)
	past := make([]ort.Value, len(b.cache))
	defer func() {
		for k, v := range past {
			if m.own[k] && v != nil {
				v.Destroy()
			}
		}
	}()
	hidden, encoder, err := b.tile(n)
	if err != nil {
		return err
	}
	e := 0
	for k, v := range b.cache {
		if !m.own[k] {
			past[k] = encoder[e]
			e++
			continue
		}
		if past[k], err = gather(v, from); err != nil {
			return err
		}
	}
	ids, err := ort.NewTensor(ort.NewShape(int64(n), 1), tokens)
	if err != nil {
		return err
	}
	defer ids.Destroy()
	logits, outs, err := a.run(ids, hidden, past)
	if err != nil {
		return err
	}
	defer destroy(outs)
	data, v := logits.GetData(), int(logits.GetShape()[2])
	b.rows = b.rows[:0]
	for i := range n {
		b.rows = append(b.rows, slices.Clone(data[i*v:(i+1)*v]))
	}
	for k, j := range m.presentAt {
		if m.own[k] {
			if b.cache[k] != nil {
				b.cache[k].Destroy()
			}
			b.cache[k], outs[j] = outs[j], nil
		}
	}
	return nil
}

// tile returns the encoder's output and its part of the cache for a
// batch of n.
func (b *beams) tile(n int) (ort.Value, []ort.Value, error) {
	encoder := b.a.encoderPart(b.cache)
	if n == 1 {
		return b.a.hidden, encoder, nil
	}
	if t, ok := b.tiled[n]; ok {
		return t[0], t[1:], nil
	}
	var t []ort.Value
	for _, v := range append([]ort.Value{b.a.hidden}, encoder...) {
		x, err := gather(v, make([]int, n))
		if err != nil {
			destroy(t)
			return nil, nil, err
		}
		t = append(t, x)
	}
	b.tiled[n] = t
	return t[0], t[1:], nil
}

// close frees the batch's cache and what was tiled for it.
func (b *beams) close() {
	b.a.free(b.cache)
	destroy(b.a.encoderPart(b.cache))
	for _, t := range b.tiled {
		destroy(t)
	}
}

// gather returns a tensor of rows of v (its first dimension): from[k]
// is the k-th.
func gather(v ort.Value, from []int) (ort.Value, error) {
	t, ok := v.(*ort.Tensor[float32])
	if !ok {
		return nil, errors.New("moonshine: a tensor to batch is not float32")
	}
	data, shape := t.GetData(), t.GetShape()
	size := len(data) / int(shape[0])
	out := make([]float32, 0, size*len(from))
	for _, i := range from {
		out = append(out, data[i*size:(i+1)*size]...)
	}
	shape = slices.Clone(shape)
	shape[0] = int64(len(from))
	return ort.NewTensor(shape, out)
}
