package train

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/earshot/earshot/audio/embedding"
)

// renderBatch renders examples: their utterances, grouped by voice (so
// that festival starts once per voice), then each example's clip.
func renderBatch(ctx context.Context, dir string, exs []example, seed uint64) ([]Clip, error) {
	type ref struct{ ex, part int }
	byVoice := map[Voice][]Utterance{}
	where := map[Voice][]ref{}
	for i, e := range exs {
		for part, u := range []*Utterance{e.pre, &e.main, e.post} {
			if u == nil || u.Text == "" {
				continue
			}
			byVoice[u.Voice] = append(byVoice[u.Voice], *u)
			where[u.Voice] = append(where[u.Voice], ref{i, part})
		}
	}
	audio := make([][3][]int16, len(exs))
	for v, us := range byVoice {
		pcm, err := synthesize(ctx, dir, us)
		if err != nil {
			return nil, err
		}
		for k, r := range where[v] {
			audio[r.ex][r.part] = trim(pcm[k])
		}
	}
	talk := talkOf(exs, audio)
	rng := rand.New(rand.NewPCG(seed, 0xc11b))
	noise := func(kind string, n int) []float64 { return makeNoise(kind, n, rng, talk) }
	clips := make([]Clip, len(exs))
	for i, e := range exs {
		var speech []int16
		start, end := -1, -1
		a := audio[i]
		if a[0] != nil {
			speech = append(speech, a[0]...)
			speech = append(speech, make([]int16, int(e.gapBefore*16000))...)
		}
		if e.positive {
			start = len(speech)
		}
		speech = append(speech, a[1]...)
		if e.positive {
			end = len(speech)
		}
		if a[2] != nil {
			speech = append(speech, make([]int16, int(e.gapAfter*16000))...)
			speech = append(speech, a[2]...)
		}
		if len(speech) == 0 { // noise alone
			fx := e.effects
			n := int((fx.Lead + fx.Trail) * 16000)
			g := 32767 * math.Pow(10, (-50+30*rng.Float64())/20)
			pcm := make([]int16, n)
			for k, v := range noise(fx.Noise, n) {
				pcm[k] = int16(max(-32768, min(32767, math.Round(g*v))))
			}
			clips[i] = Clip{PCM: pcm, PhraseStart: -1, PhraseEnd: -1}
			continue
		}
		c, err := finish(ctx, speech, start, end, e.effects, noise)
		if err != nil {
			return nil, err
		}
		clips[i] = c
	}
	return clips, nil
}

// talkOf returns the utterances of a batch babble may be made of: every
// one but the wake phrases, so that a clip without the phrase does not
// get it from its noise.
func talkOf(exs []example, audio [][3][]int16) [][]int16 {
	var talk [][]int16
	for i, e := range exs {
		for part, a := range audio[i] {
			if a != nil && !(part == 1 && e.positive) {
				talk = append(talk, a)
			}
		}
	}
	return talk
}

// EmbeddingEnd is the sample, counted from the start of a Stream, at
// which embedding number i (from 0) ends: each is computed once a chunk
// is complete, from frames that leave out its newest 128 samples.
func EmbeddingEnd(i int) int {
	return (i+1)*embedding.ChunkSamples - (embedding.ChunkSamples + 3*embedding.FrameHop - (embedding.ChunkFrames-1)*embedding.FrameHop - 512)
}

// embed returns the embeddings of pcm, from a fresh stream.
func embed(s *embedding.Stream, pcm []int16) []float32 {
	s.Reset()
	var out []float32
	s.Push(pcm, func(e []float32) { out = append(out, e...) })
	return out
}
