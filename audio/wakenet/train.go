package wakenet

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
)

// Example is one training input: the features of a spotted candidate and
// whether it was the wake phrase.
type Example struct {
	X      []float32 // Inputs, from Frontend.Features
	Wake   bool
	Weight float32 // its share of the loss; 0 counts as 1
}

// TrainOptions steer Train. Zero values take the defaults in brackets.
type TrainOptions struct {
	Hidden  int     // hidden units [32]
	Epochs  int     // passes over the examples [40]
	Batch   int     // examples per step [64]
	Rate    float64 // Adam's step size [1e-3]
	Decay   float64 // L2 weight decay [1e-4]
	Dropout float64 // share of inputs and hidden units dropped in training [0.2]
	Members int     // networks averaged [3]
	Seed    uint64
}

func (o *TrainOptions) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Hidden, 32)
	def(&o.Epochs, 40)
	def(&o.Batch, 64)
	def(&o.Members, 3)
	if o.Rate <= 0 {
		o.Rate = 1e-3
	}
	if o.Decay < 0 {
		o.Decay = 0
	} else if o.Decay == 0 {
		o.Decay = 1e-4
	}
	if o.Dropout <= 0 || o.Dropout >= 1 {
		o.Dropout = 0.2
	}
}

// Train fits a net of o.Members members to examples, each from its own
// seed, two at a time. The same examples and options give the same net.
// Its thresholds are left at zero: see PickThresholds.
func Train(examples []Example, phrase string, o TrainOptions) *Net {
	o.defaults()
	mean, scale, z := standardise(examples)
	n := &Net{Phrase: phrase, Members: make([]*Member, o.Members)}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for k := range n.Members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			n.Members[k] = trainMember(examples, z, o, o.Seed+uint64(k))
			copy(n.Members[k].Mean, mean)
			copy(n.Members[k].Scale, scale)
		}()
	}
	wg.Wait()
	return n
}

// standardise returns each input's mean over the examples and 1 / its
// deviation, and the examples' inputs standardised with them: the same
// for every member, so computed and held once.
func standardise(examples []Example) (mean, scale []float32, z [][]float32) {
	var sum, sq [Inputs]float64
	for _, e := range examples {
		for i, v := range e.X[:Inputs] {
			sum[i] += float64(v)
			sq[i] += float64(v) * float64(v)
		}
	}
	cnt := float64(max(len(examples), 1))
	mean, scale = make([]float32, Inputs), make([]float32, Inputs)
	for i := range mean {
		m := sum[i] / cnt
		sd := math.Sqrt(math.Max(sq[i]/cnt-m*m, 0))
		mean[i], scale[i] = float32(m), float32(1/(sd+1e-3))
	}
	z = make([][]float32, len(examples))
	for k, e := range examples {
		z[k] = make([]float32, Inputs)
		for i, v := range e.X[:Inputs] {
			z[k][i] = (v - mean[i]) * scale[i]
		}
	}
	return mean, scale, z
}

// trainMember fits one member to the standardised inputs z of examples
// by minimising the weighted cross-entropy with Adam, dropout and weight
// decay. Its Mean and Scale are left to the caller.
func trainMember(examples []Example, z [][]float32, o TrainOptions, seed uint64) *Member {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	h := o.Hidden
	n := newMember(h)
	for i := range n.W1 {
		n.W1[i] = float32(rng.NormFloat64() * math.Sqrt(2.0/Inputs))
	}
	for j := range n.W2 {
		n.W2[j] = float32(rng.NormFloat64() * math.Sqrt(1.0/float64(h)))
	}

	params := [][]float32{n.W1, n.B1, n.W2, {0}}
	grads := make([][]float32, len(params))
	m1 := make([][]float32, len(params))
	m2 := make([][]float32, len(params))
	for p := range params {
		grads[p] = make([]float32, len(params[p]))
		m1[p] = make([]float32, len(params[p]))
		m2[p] = make([]float32, len(params[p]))
	}
	params[3][0] = n.B2
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	hid := make([]float32, h)
	mask := make([]float32, Inputs)
	hmask := make([]float32, h)
	keep := float32(1 - o.Dropout)
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	step := 0
	for epoch := 0; epoch < o.Epochs; epoch++ {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for start := 0; start < len(order); start += o.Batch {
			batch := order[start:min(start+o.Batch, len(order))]
			for _, g := range grads {
				clear(g)
			}
			var wsum float32
			for _, k := range batch {
				e := examples[k]
				w := e.Weight
				if w == 0 {
					w = 1
				}
				wsum += w
				x := z[k]
				for i := range mask {
					mask[i] = 0
					if rng.Float32() < keep {
						mask[i] = 1 / keep
					}
				}
				for j := range hid {
					s := n.B1[j]
					row := n.W1[j*Inputs : (j+1)*Inputs]
					for i, v := range x {
						s += row[i] * v * mask[i]
					}
					hid[j] = max(s, 0)
					hmask[j] = 0
					if rng.Float32() < keep {
						hmask[j] = 1 / keep
					}
				}
				out := params[3][0]
				for j, v := range hid {
					out += n.W2[j] * v * hmask[j]
				}
				y := float32(0)
				if e.Wake {
					y = 1
				}
				d := (sigmoid(out) - y) * w // dLoss/dout
				grads[3][0] += d
				for j, v := range hid {
					grads[2][j] += d * v * hmask[j]
					if v <= 0 || hmask[j] == 0 {
						continue
					}
					dh := d * n.W2[j] * hmask[j]
					grads[1][j] += dh
					grow := grads[0][j*Inputs : (j+1)*Inputs]
					for i, v := range x {
						grow[i] += dh * v * mask[i]
					}
				}
			}
			step++
			c1 := 1 - math.Pow(beta1, float64(step))
			c2 := 1 - math.Pow(beta2, float64(step))
			for p, par := range params {
				decay := float32(o.Decay)
				if p == 1 || p == 3 {
					decay = 0 // biases are not decayed
				}
				for i := range par {
					g := grads[p][i]/wsum + decay*par[i]
					m1[p][i] = beta1*m1[p][i] + (1-beta1)*g
					m2[p][i] = beta2*m2[p][i] + (1-beta2)*g*g
					mh := float64(m1[p][i]) / c1
					vh := float64(m2[p][i]) / c2
					par[i] -= float32(o.Rate * mh / (math.Sqrt(vh) + eps))
				}
			}
		}
	}
	n.B2 = params[3][0]
	return n
}

// Quantile returns the q-quantile (0..1) of scores, which it sorts.
func Quantile(scores []float32, q float64) float32 {
	if len(scores) == 0 {
		return 0
	}
	sort.Slice(scores, func(a, b int) bool { return scores[a] < scores[b] })
	i := int(math.Floor(q * float64(len(scores)-1)))
	return scores[max(0, min(i, len(scores)-1))]
}

// PickThresholds chooses the thresholds from the scores of held-back
// wake phrases and other candidates, and the highest score of each
// held-back file of other audio scanned whole (scans): Reject passes 995
// wake phrases in 1000, Accept 99 in 100, Rescue lies above 970 other
// candidates in 1000 (and at 0.8 or more: a rescue also needs a command
// after it, so it may be looser than the verifier's own yes), and Scan
// above 980 files in 1000 (and at Rescue or more). The held-back files
// are mostly near misses, far more than a home hears, and a scanned
// candidate still has to pass the verifier or, rescued, have a command
// found after it. For the four-corpus net, scanning finds 793 of 900
// held-back wake files above 980 files in 1000, 522 above 998 (the
// rule until a rescued candidate stopped costing the verifier's decode
// of running speech), 720 above 990.
func PickThresholds(wake, other, scans []float32) Thresholds {
	w := append([]float32(nil), wake...)
	o := append([]float32(nil), other...)
	t := Thresholds{Reject: Quantile(w, 0.005), Accept: Quantile(w, 0.01), Rescue: 1, Scan: 1}
	if len(o) > 0 {
		t.Rescue = min(1, max(0.8, Quantile(o, 0.97)+1e-4))
	}
	if len(scans) > 0 {
		sc := append([]float32(nil), scans...)
		t.Scan = min(1, max(t.Rescue, Quantile(sc, 0.98)+1e-4))
	}
	return t
}

// ScanMax returns the highest score of the windows of pcm the listener
// would score, every other 20 ms frame of a stream once it is Ready (0 if
// pcm is shorter than half a window).
func (s *Scorer) ScanMax(st *Stream, pcm []int16) float32 {
	st.Reset()
	var best float32
	const frame = 320
	for i := 0; i+frame <= len(pcm); i += frame {
		st.Push(pcm[i : i+frame])
		if st.Ready() && (i/frame)%2 == 1 {
			best = max(best, s.ScoreStream(st))
		}
	}
	return best
}
