package resample

import (
	"fmt"
	"math"
)

// maxPhases bounds the polyphase table of a Stream (rates whose ratio
// reduces to more phases than this are refused): 44.1 -> 16 kHz needs 160.
const maxPhases = 1000

// Stream resamples an unbounded signal chunk by chunk, with the same filter
// as PCM, for the capture path: after NewStream it allocates nothing as long
// as the dst passed to Process has room.
type Stream struct {
	up, down int         // to/g and from/g: output k sits at input k*down/up
	half     int         // taps each side of the centre
	taps     [][]float32 // [phase][2*half+2] weights, each phase summing to 1
	hist     []float32   // input from absolute index base on
	base     int64       // absolute index of hist[0]
	n        int64       // input index at or before the next output's centre
	phase    int         // next output's centre is n + phase/up
}

// NewStream returns a Stream from rate from to rate to. maxChunk is the
// largest input Process will be given at once; it sizes the history.
func NewStream(from, to, maxChunk int) (*Stream, error) {
	if from <= 0 || to <= 0 || from > MaxRate || to > MaxRate {
		return nil, fmt.Errorf("resample: rates %d Hz -> %d Hz: want 1..%d Hz", from, to, MaxRate)
	}
	g := gcd(from, to)
	up, down := to/g, from/g
	if up > maxPhases {
		return nil, fmt.Errorf("resample: %d Hz -> %d Hz needs %d filter phases, more than %d", from, to, up, maxPhases)
	}
	cutoff := 0.95 * math.Min(1, float64(to)/float64(from))
	width := float64(halfTaps) / cutoff
	half := int(math.Ceil(width))
	s := &Stream{up: up, down: down, half: half, taps: make([][]float32, up)}
	for p := range s.taps {
		w := make([]float32, 2*half+2)
		var sum float64
		ws := make([]float64, len(w))
		for i := range w {
			x := float64(i-half) - float64(p)/float64(up)
			ws[i] = cutoff * sinc(cutoff*x) * blackman(x/width)
			sum += ws[i]
		}
		for i := range w {
			w[i] = float32(ws[i] / sum)
		}
		s.taps[p] = w
	}
	// Start with half zeros of history, so the first outputs see silence
	// before the signal instead of waiting for it.
	s.hist = make([]float32, half, half+2*half+2+maxChunk)
	s.base = -int64(half)
	return s, nil
}

// Process feeds in and appends every output sample that in completes to
// dst. Outputs lag the input by about half the filter length (about 1 ms).
func (s *Stream) Process(dst []int16, in []int16) []int16 {
	for _, v := range in {
		s.hist = append(s.hist, float32(v))
	}
	end := s.base + int64(len(s.hist)) // one past the last input
	for s.n+int64(s.half)+1 < end {
		w := s.taps[s.phase]
		start := int(s.n - int64(s.half) - s.base)
		var acc float32
		for i, x := range s.hist[start : start+len(w)] {
			acc += w[i] * x
		}
		dst = append(dst, int16(max(-32768, min(32767, math.Round(float64(acc))))))
		s.phase += s.down
		s.n += int64(s.phase / s.up)
		s.phase %= s.up
	}
	// Keep only what future outputs still need.
	if drop := int(s.n - int64(s.half) - s.base); drop > 0 {
		drop = min(drop, len(s.hist))
		s.hist = s.hist[:copy(s.hist, s.hist[drop:])]
		s.base += int64(drop)
	}
	return dst
}

// Reset forgets the history, as after a stream restart, and wipes it:
// it is recent audio.
func (s *Stream) Reset() {
	clear(s.hist[:cap(s.hist)])
	s.hist = s.hist[:s.half]
	s.base = -int64(s.half)
	s.n, s.phase = 0, 0
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
