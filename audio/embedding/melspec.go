package embedding

import (
	"fmt"
	"math"
	"math/cmplx"
	"slices"
)

// The mel front end of speech_embedding (melspectrogram.onnx): frames of
// 512 samples every 160, a 400-sample Hann window centred in each, the
// power spectrum, 32 mel bands, 10·log10 with a floor, and everything more
// than 80 dB below the loudest value of the chunk raised to that. The
// graph computes the spectrum as a convolution with 257 windowed cosines
// and sines; that is the DFT, computed here with an FFT of the same
// window, which load checks against the graph's kernels.
const (
	// FrameHop is the mel frames' spacing in samples (10 ms).
	FrameHop = 160
	fftSize  = 512
	bins     = fftSize/2 + 1
	// Bands is the number of mel bands.
	Bands = 32
	// ChunkFrames mel frames (80 ms) are computed together, as
	// openWakeWord's streaming front end does: the 80 dB floor is relative
	// to the loudest value of such a chunk.
	ChunkFrames  = 8
	ChunkSamples = ChunkFrames * FrameHop
	// chunkSpan is the audio a chunk's frames cover.
	chunkSpan = (ChunkFrames-1)*FrameHop + fftSize
	// rawSpan is the audio kept for a chunk: openWakeWord computes each
	// chunk's frames from the newest ChunkSamples+480 samples, so the
	// newest 128 wait for the next chunk.
	rawSpan = ChunkSamples + 3*FrameHop
)

// melFrontEnd holds the graph's constants.
type melFrontEnd struct {
	window [fftSize]float64
	melW   [bins * Bands]float32 // bins × bands, as the graph's MatMul
	// melLo, melHi: bin k's weights outside bands melLo[k]..melHi[k]-1
	// are zero (a bin feeds one or two triangular bands).
	melLo, melHi [bins]uint8
	floor        float32 // Clip's minimum power
	scale        float64 // 10/ln(10): Mul then Div
	offset       float32 // Sub before the maximum (0)
	topDB        float32 // Sub after the maximum (80)
	twiddle      [fftSize / 2]complex128
	// rev is the bit-reversed order of half a frame (see chunk).
	rev [halfFFT]int
}

// halfFFT is the size of the complex FFT that transforms a real frame.
const halfFFT = fftSize / 2

var melOps = []string{
	"Constant", "Unsqueeze", "Conv", "Conv", "Constant", "Unsqueeze", "Transpose",
	"Constant", "Unsqueeze", "Transpose", "Constant", "Pow", "Constant", "Pow", "Add",
	"MatMul", "Clip", "Log", "Constant", "Mul", "Constant", "Div", "Constant", "Sub",
	"ReduceMax", "Constant", "Sub", "Cast", "Clip",
}

// loadMel checks that g is the melspectrogram graph this package knows
// and takes its constants.
func loadMel(g *graph) (*melFrontEnd, error) {
	ops := make([]string, len(g.nodes))
	for i, n := range g.nodes {
		ops[i] = n.op
	}
	if !slices.Equal(ops, melOps) {
		return nil, fmt.Errorf("not the speech_embedding mel graph: nodes %v", ops)
	}
	m := &melFrontEnd{}
	var re, im tensor
	subs := 0
	for i, n := range g.nodes {
		var err error
		switch n.op {
		case "Conv":
			w, ok := g.tensors[input(n, 1)]
			if !ok || !w.shape(bins, 1, fftSize) {
				return nil, fmt.Errorf("node %d: Conv weights %v, want [%d 1 %d]", i+1, w.dims, bins, fftSize)
			}
			if !ints(n, "kernel_shape", fftSize) || !ints(n, "strides", FrameHop) || !zeros(n, "pads") || !ones(n, "dilations") {
				return nil, fmt.Errorf("node %d: Conv is not a %d-sample frame every %d", i+1, fftSize, FrameHop)
			}
			if re.data == nil {
				re = w
			} else {
				im = w
			}
		case "Pow":
			err = scalarIs(g, n, 1, 2)
		case "MatMul":
			w, ok := g.tensors[input(n, 1)]
			if !ok || !w.shape(bins, Bands) {
				return nil, fmt.Errorf("node %d: mel matrix %v, want [%d %d]", i+1, w.dims, bins, Bands)
			}
			copy(m.melW[:], w.data)
			for k := range bins {
				row := m.melW[k*Bands : (k+1)*Bands]
				lo, hi := 0, Bands
				for lo < hi && row[lo] == 0 {
					lo++
				}
				for hi > lo && row[hi-1] == 0 {
					hi--
				}
				m.melLo[k], m.melHi[k] = uint8(lo), uint8(hi)
			}
		case "Clip":
			if m.floor == 0 {
				lo, ok := scalar(g, input(n, 1))
				if !ok || lo <= 0 {
					return nil, fmt.Errorf("node %d: the power floor is missing or not positive", i+1)
				}
				m.floor = lo
			}
		case "Mul":
			v, ok := scalar(g, input(n, 1))
			if !ok {
				return nil, fmt.Errorf("node %d: no factor", i+1)
			}
			m.scale = float64(v)
		case "Div":
			v, ok := scalar(g, input(n, 1))
			if !ok || v == 0 {
				return nil, fmt.Errorf("node %d: no divisor", i+1)
			}
			m.scale /= float64(v)
		case "Sub":
			v, ok := scalar(g, input(n, 1))
			if !ok {
				return nil, fmt.Errorf("node %d: no operand", i+1)
			}
			// The first Sub is before the maximum, the second after it.
			if subs++; subs == 1 {
				m.offset = v
			} else {
				m.topDB = v
			}
		}
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i+1, err)
		}
	}
	if math.Abs(m.scale-10/math.Ln10) > 1e-5 || m.topDB <= 0 {
		return nil, fmt.Errorf("not 10·log10 with a floor: scale %g, top %g dB", m.scale, m.topDB)
	}
	// The kernels are the DFT of a fixed window: row 0 (frequency 0) is
	// the window itself.
	for n := 0; n < fftSize; n++ {
		m.window[n] = float64(re.data[n])
	}
	for k := 0; k < bins; k++ {
		for n := 0; n < fftSize; n++ {
			a := 2 * math.Pi * float64(k*n%fftSize) / fftSize
			c, s := m.window[n]*math.Cos(a), m.window[n]*math.Sin(a)
			if math.Abs(float64(re.data[k*fftSize+n])-c) > 1e-5 || math.Abs(math.Abs(float64(im.data[k*fftSize+n]))-math.Abs(s)) > 1e-5 {
				return nil, fmt.Errorf("the spectrum's kernels are not a windowed DFT (bin %d, sample %d)", k, n)
			}
		}
	}
	for i := range m.twiddle {
		s, c := math.Sincos(-2 * math.Pi * float64(i) / fftSize)
		m.twiddle[i] = complex(c, s)
	}
	for i := range m.rev {
		r := 0
		for b := 1; b < halfFFT; b <<= 1 {
			r <<= 1
			if i&b != 0 {
				r |= 1
			}
		}
		m.rev[i] = r
	}
	return m, nil
}

// melScratch is a front end's working memory.
type melScratch struct {
	spec  [halfFFT]complex128
	power [bins]float32
}

// chunk computes ChunkFrames mel frames from the chunkSpan samples in
// pcm into out (ChunkFrames × Bands), transformed as openWakeWord feeds
// them to the embedding model (dB/10 + 2).
func (m *melFrontEnd) chunk(pcm []int16, out []float32, s *melScratch) {
	_ = pcm[chunkSpan-1]
	_ = out[ChunkFrames*Bands-1]
	peak := float32(math.Inf(-1))
	for f := 0; f < ChunkFrames; f++ {
		frame := pcm[f*FrameHop : f*FrameHop+fftSize]
		// The frame is real: its even samples are the real parts and
		// its odd ones the imaginary parts of a frame half as long,
		// whose transform Z gives the frame's X[k] = E[k] + W^k·O[k],
		// E and O being the transforms of the even and odd samples:
		// E[k] = (Z[k] + Z*[halfFFT-k])/2, O[k] = -i(Z[k] - Z*[halfFFT-k])/2.
		for i := range halfFFT {
			s.spec[m.rev[i]] = complex(float64(frame[2*i])*m.window[2*i], float64(frame[2*i+1])*m.window[2*i+1])
		}
		m.fft(&s.spec)
		z0 := s.spec[0]
		s.power[0] = float32((real(z0) + imag(z0)) * (real(z0) + imag(z0)))
		s.power[halfFFT] = float32((real(z0) - imag(z0)) * (real(z0) - imag(z0)))
		for k := 1; k < halfFFT; k++ {
			a, b := s.spec[k], cmplx.Conj(s.spec[halfFFT-k])
			e, o := (a+b)/2, (a-b)*complex(0, -0.5)
			c := e + m.twiddle[k]*o
			s.power[k] = float32(real(c)*real(c) + imag(c)*imag(c))
		}
		row := out[f*Bands : (f+1)*Bands]
		for b := range row {
			row[b] = 0
		}
		// Only the bands a bin feeds: adding p·0 changes nothing.
		for k := 0; k < bins; k++ {
			p := s.power[k]
			if p == 0 {
				continue
			}
			lo, hi := int(m.melLo[k]), int(m.melHi[k])
			w := m.melW[k*Bands+lo : k*Bands+hi]
			for b, wb := range w {
				row[lo+b] += float32(p * wb)
			}
		}
		for b, v := range row {
			db := float32(math.Log(float64(max(v, m.floor)))*m.scale) - m.offset
			row[b] = db
			peak = max(peak, db)
		}
	}
	low := peak - m.topDB
	for i, v := range out[:ChunkFrames*Bands] {
		out[i] = max(v, low)/10 + 2
	}
}

// fft transforms x (already in bit-reversed order) in place.
func (m *melFrontEnd) fft(x *[halfFFT]complex128) {
	for size := 2; size <= halfFFT; size <<= 1 {
		half, step := size/2, fftSize/size
		for start := 0; start < halfFFT; start += size {
			for k := 0; k < half; k++ {
				t := m.twiddle[k*step] * x[start+k+half]
				u := x[start+k]
				x[start+k] = u + t
				x[start+k+half] = u - t
			}
		}
	}
}

func input(n node, i int) string {
	if i < len(n.inputs) {
		return n.inputs[i]
	}
	return ""
}

func scalar(g *graph, name string) (float32, bool) {
	t, ok := g.tensors[name]
	if !ok || len(t.data) != 1 {
		return 0, false
	}
	return t.data[0], true
}

func scalarIs(g *graph, n node, i int, want float32) error {
	if v, ok := scalar(g, input(n, i)); !ok || v != want {
		return fmt.Errorf("%s by %v, want %v", n.op, v, want)
	}
	return nil
}

func ints(n node, name string, want ...int64) bool {
	return slices.Equal(n.attrs[name].ints, want)
}

func zeros(n node, name string) bool {
	for _, v := range n.attrs[name].ints {
		if v != 0 {
			return false
		}
	}
	return true
}

func ones(n node, name string) bool {
	for _, v := range n.attrs[name].ints {
		if v != 1 {
			return false
		}
	}
	return true
}
