package train

import (
	"math"
	"math/rand/v2"

	"github.com/earshot/earshot/audio/wakeword"
)

// mlp is the head being trained: in → hidden → hidden → 1, with layer
// normalisation and a ReLU after each hidden layer, as wakeword.Head
// scores it. Weights are float32 as the head keeps them; sums and the
// optimiser's moments are float64.
type mlp struct {
	in, hidden                             int
	p                                      []float32 // all parameters, laid out by the views below
	w1, b1, g1, e1, w2, b2, g2, e2, w3, b3 []float32
}

func newMLP(in, hidden int, rng *rand.Rand) *mlp {
	sizes := []int{hidden * in, hidden, hidden, hidden, hidden * hidden, hidden, hidden, hidden, hidden, 1}
	n := 0
	for _, s := range sizes {
		n += s
	}
	m := &mlp{in: in, hidden: hidden, p: make([]float32, n)}
	views := []*[]float32{&m.w1, &m.b1, &m.g1, &m.e1, &m.w2, &m.b2, &m.g2, &m.e2, &m.w3, &m.b3}
	off := 0
	for i, s := range sizes {
		*views[i] = m.p[off : off+s]
		off += s
	}
	// He initialisation for the ReLU layers; scales of one.
	for i := range m.w1 {
		m.w1[i] = float32(rng.NormFloat64() * math.Sqrt(2/float64(in)))
	}
	for i := range m.w2 {
		m.w2[i] = float32(rng.NormFloat64() * math.Sqrt(2/float64(hidden)))
	}
	for i := range m.w3 {
		m.w3[i] = float32(rng.NormFloat64() * math.Sqrt(1/float64(hidden)))
	}
	for i := 0; i < hidden; i++ {
		m.g1[i], m.g2[i] = 1, 1
	}
	return m
}

// head returns the trained network as a wakeword.Head.
func (m *mlp) head() []wakeword.Dense {
	c := func(s []float32) []float32 { return append([]float32(nil), s...) }
	return []wakeword.Dense{
		{In: m.in, Out: m.hidden, W: c(m.w1), B: c(m.b1), Gamma: c(m.g1), Beta: c(m.e1)},
		{In: m.hidden, Out: m.hidden, W: c(m.w2), B: c(m.b2), Gamma: c(m.g2), Beta: c(m.e2)},
		{In: m.hidden, Out: 1, W: c(m.w3), B: c(m.b3)},
	}
}

// trace is one example's forward pass, kept for the backward pass.
type trace struct {
	h1, n1, a1, h2, n2, a2 []float64
	s1, s2                 float64 // standard deviations of the normalisations
	z                      float64
}

func newTrace(hidden int) *trace {
	mk := func() []float64 { return make([]float64, hidden) }
	return &trace{h1: mk(), n1: mk(), a1: mk(), h2: mk(), n2: mk(), a2: mk()}
}

// forward computes the logit of x into t.
func (m *mlp) forward(x []float32, t *trace) float64 {
	dense(m.w1, m.b1, x, t.h1)
	t.s1 = norm(t.h1, t.n1)
	for i := range t.a1 {
		t.a1[i] = math.Max(0, t.n1[i]*float64(m.g1[i])+float64(m.e1[i]))
	}
	dense64(m.w2, m.b2, t.a1, t.h2)
	t.s2 = norm(t.h2, t.n2)
	for i := range t.a2 {
		t.a2[i] = math.Max(0, t.n2[i]*float64(m.g2[i])+float64(m.e2[i]))
	}
	z := float64(m.b3[0])
	for i, a := range t.a2 {
		z += a * float64(m.w3[i])
	}
	t.z = z
	return z
}

func dense(w, b, x []float32, out []float64) {
	for o := range out {
		row := w[o*len(x) : (o+1)*len(x)]
		s := float32(0)
		for k, v := range x {
			s += v * row[k]
		}
		out[o] = float64(s) + float64(b[o])
	}
}

func dense64(w, b []float32, x, out []float64) {
	for o := range out {
		row := w[o*len(x) : (o+1)*len(x)]
		s := float64(b[o])
		for k, v := range x {
			s += v * float64(row[k])
		}
		out[o] = s
	}
}

// norm writes h's normalised values (mean 0, variance 1) into n and
// returns the standard deviation.
func norm(h, n []float64) float64 {
	mean, v := 0.0, 0.0
	for _, a := range h {
		mean += a
	}
	mean /= float64(len(h))
	for _, a := range h {
		v += (a - mean) * (a - mean)
	}
	sd := math.Sqrt(v/float64(len(h)) + 1e-5)
	for i, a := range h {
		n[i] = (a - mean) / sd
	}
	return sd
}

// backward adds to grad the gradient of the weighted log loss of example
// x with label y, given its forward trace t; dz is the loss's gradient
// with respect to the logit.
func (m *mlp) backward(x []float32, t *trace, dz float64, grad []float64, s *scratch) {
	H := m.hidden
	gw1, gb1, gg1, ge1 := grad[:H*m.in], grad[H*m.in:H*m.in+H], grad[H*m.in+H:H*m.in+2*H], grad[H*m.in+2*H:H*m.in+3*H]
	o := H*m.in + 3*H
	gw2, gb2, gg2, ge2 := grad[o:o+H*H], grad[o+H*H:o+H*H+H], grad[o+H*H+H:o+H*H+2*H], grad[o+H*H+2*H:o+H*H+3*H]
	o += H*H + 3*H
	gw3, gb3 := grad[o:o+H], grad[o+H:o+H+1]
	gb3[0] += dz
	da2 := s.d1
	for i := range da2 {
		gw3[i] += dz * t.a2[i]
		da2[i] = 0
		if t.a2[i] > 0 {
			da2[i] = dz * float64(m.w3[i])
		}
	}
	dn2 := s.d2
	for i := range dn2 {
		gg2[i] += da2[i] * t.n2[i]
		ge2[i] += da2[i]
		dn2[i] = da2[i] * float64(m.g2[i])
	}
	dh2 := normBack(dn2, t.n2, t.s2, s.d3)
	da1 := s.d1
	for i := range da1 {
		da1[i] = 0
	}
	for r, d := range dh2 {
		gb2[r] += d
		row := m.w2[r*H : (r+1)*H]
		grow := gw2[r*H : (r+1)*H]
		for k := range row {
			grow[k] += d * t.a1[k]
			da1[k] += d * float64(row[k])
		}
	}
	dn1 := s.d2
	for i := range dn1 {
		if t.a1[i] <= 0 {
			da1[i] = 0
		}
		gg1[i] += da1[i] * t.n1[i]
		ge1[i] += da1[i]
		dn1[i] = da1[i] * float64(m.g1[i])
	}
	dh1 := normBack(dn1, t.n1, t.s1, s.d3)
	for r, d := range dh1 {
		gb1[r] += d
		if d == 0 {
			continue
		}
		grow := gw1[r*m.in : (r+1)*m.in]
		for k, v := range x {
			grow[k] += d * float64(v)
		}
	}
}

// normBack is the gradient through a normalisation, into out.
func normBack(dn, n []float64, sd float64, out []float64) []float64 {
	mean, dot := 0.0, 0.0
	for i, d := range dn {
		mean += d
		dot += d * n[i]
	}
	mean /= float64(len(dn))
	dot /= float64(len(dn))
	for i, d := range dn {
		out[i] = (d - mean - n[i]*dot) / sd
	}
	return out
}

type scratch struct{ d1, d2, d3 []float64 }

func newScratch(h int) *scratch {
	return &scratch{make([]float64, h), make([]float64, h), make([]float64, h)}
}

// adam is the optimiser's state.
type adam struct {
	m, v []float64
	t    int
}

func (a *adam) step(p []float32, g []float64, lr float64) {
	if a.m == nil {
		a.m, a.v = make([]float64, len(p)), make([]float64, len(p))
	}
	a.t++
	const b1, b2, eps = 0.9, 0.999, 1e-8
	c1, c2 := 1-math.Pow(b1, float64(a.t)), 1-math.Pow(b2, float64(a.t))
	for i, gi := range g {
		a.m[i] = b1*a.m[i] + (1-b1)*gi
		a.v[i] = b2*a.v[i] + (1-b2)*gi*gi
		p[i] -= float32(lr * (a.m[i] / c1) / (math.Sqrt(a.v[i]/c2) + eps))
	}
}
