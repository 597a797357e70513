package train

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/earshot/earshot/audio/embedding"
)

// The head hears Window embeddings; a training window is labelled by
// where it ends (see EmbeddingEnd) against the wake phrase: from 80 ms
// before the phrase ends to 240 ms after, it is the phrase (the head
// fires there); ending before the phrase is half said, it is not (a
// head that fired on "hey jar-" would wake on "hey jarring"); in between
// it is left out.
const (
	positiveFrom = -1280
	positiveTo   = 3840
)

// window is one training example: a sample and the embedding its window
// ends with.
type window struct {
	s   *Sample
	end int
	y   float32
}

// windows lists the training windows of samples.
func windows(samples []Sample) []window {
	var out []window
	for i := range samples {
		s := &samples[i]
		n := len(s.Embeddings) / embedding.Dim
		for e := 0; e < n; e++ {
			w := window{s: s, end: e}
			if s.PhraseEnd >= 0 {
				d := EmbeddingEnd(e) - s.PhraseEnd
				switch {
				case d >= positiveFrom && d < positiveTo:
					w.y = 1
				case EmbeddingEnd(e) < s.PhraseStart+(s.PhraseEnd-s.PhraseStart)/2:
				default:
					continue
				}
			}
			out = append(out, w)
		}
	}
	return out
}

// fill writes the window's input into x (Window × Dim): the embeddings up
// to end, the first repeated where there are too few (as the Detector
// does after a Reset).
func (w window) fill(x []float32, size int) {
	for k := 0; k < size; k++ {
		e := max(0, w.end-size+1+k)
		copy(x[k*embedding.Dim:(k+1)*embedding.Dim], w.s.Embeddings[e*embedding.Dim:])
	}
}

// fitOptions tune fitting.
type fitOptions struct {
	Window, Hidden, Epochs, Batch int
	LearningRate                  float64
	// InputNoise and InputDrop regularise: Gaussian noise (in units of
	// the embeddings' spread) and dropout on the inputs, so the head
	// leans on no single detail of the synthetic voices.
	InputNoise, InputDrop float64
	Workers               int
	Seed                  uint64
}

// fit trains a head on ws.
func fit(ctx context.Context, ws []window, o fitOptions, progress func(epoch int, loss float64)) (*mlp, error) {
	rng := rand.New(rand.NewPCG(o.Seed, 0xf17))
	in := o.Window * embedding.Dim
	m := newMLP(in, o.Hidden, rng)
	spread := embeddingSpread(ws)
	workers := max(1, o.Workers)
	type part struct {
		grad []float64
		loss float64
		t    *trace
		s    *scratch
		x    []float32
		rng  *rand.Rand
	}
	parts := make([]*part, workers)
	for i := range parts {
		parts[i] = &part{grad: make([]float64, len(m.p)), t: newTrace(o.Hidden), s: newScratch(o.Hidden), x: make([]float32, in),
			rng: rand.New(rand.NewPCG(o.Seed+uint64(i), 0xd20))}
	}
	grad := make([]float64, len(m.p))
	var opt adam
	order := make([]int, len(ws))
	for i := range order {
		order[i] = i
	}
	for epoch := 0; epoch < o.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		total, batches := 0.0, 0
		for b := 0; b < len(order); b += o.Batch {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			batch := order[b:min(b+o.Batch, len(order))]
			var wg sync.WaitGroup
			for pi, p := range parts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					clear(p.grad)
					p.loss = 0
					for k := pi; k < len(batch); k += workers {
						w := ws[batch[k]]
						w.fill(p.x, o.Window)
						for i := range p.x {
							if o.InputDrop > 0 && p.rng.Float64() < o.InputDrop {
								p.x[i] = 0
								continue
							}
							p.x[i] = float32(float64(p.x[i])/(1-o.InputDrop) + o.InputNoise*spread*p.rng.NormFloat64())
						}
						z := m.forward(p.x, p.t)
						pr := 1 / (1 + math.Exp(-z))
						y := float64(w.y)
						p.loss -= y*math.Log(pr+1e-7) + (1-y)*math.Log(1-pr+1e-7)
						m.backward(p.x, p.t, (pr-y)/float64(len(batch)), p.grad, p.s)
					}
				}()
			}
			wg.Wait()
			clear(grad)
			for _, p := range parts {
				for i, g := range p.grad {
					grad[i] += g
				}
				total += p.loss / float64(len(batch))
			}
			opt.step(m.p, grad, o.LearningRate)
			batches++
		}
		if progress != nil {
			progress(epoch+1, total/float64(max(batches, 1)))
		}
	}
	return m, nil
}

// embeddingSpread is the standard deviation of the embeddings' values.
func embeddingSpread(ws []window) float64 {
	var n, sum, sq float64
	seen := map[*Sample]bool{}
	for _, w := range ws {
		if seen[w.s] {
			continue
		}
		seen[w.s] = true
		for _, v := range w.s.Embeddings {
			sum += float64(v)
			sq += float64(v) * float64(v)
			n++
		}
	}
	if n == 0 {
		return 1
	}
	mean := sum / n
	return math.Sqrt(math.Max(sq/n-mean*mean, 0))
}
