package wakenet

import (
	"math"
	"math/cmplx"
)

// The classifier hears the WindowSamples of audio that end where the
// keyword spotter fired: 1.5 s, room for a slow "hey jarvis" and the
// silence or speech before it. The audio becomes log mel energies, 10 ms
// apart, averaged Pool frames at a time.
const (
	SampleRate    = 16000
	frameLen      = 400 // 25 ms
	hop           = 160 // 10 ms
	fftSize       = 512
	Bands         = 32
	WindowFrames  = 152
	Pool          = 4
	Steps         = WindowFrames / Pool
	Inputs        = Steps * Bands
	WindowSamples = (WindowFrames-1)*hop + frameLen
	// ContextSamples is what training keeps of each candidate: the window
	// and MaxShift frames before it, so that it can also learn from
	// windows that end before the spotter fired.
	MaxShift       = 32
	ShiftSamples   = hop
	ContextSamples = WindowSamples + MaxShift*ShiftSamples
	lowHz, highHz  = 60, 7800
	preemphasis    = 0.97
	// energyFloor keeps the logarithm of digital silence finite; it is
	// far below any microphone's noise floor (samples are scaled to ±1).
	energyFloor = 1e-10
)

// Frontend turns audio into the classifier's input. It keeps its buffers
// and allocates nothing once made; it is not safe for concurrent use.
type Frontend struct {
	window []float64
	bank   [Bands][]melWeight
	twid   []complex128
	rev    []int
	spec   []complex128
	frame  []float64
	mel    []float32 // WindowFrames × Bands
}

// melWeight is one FFT bin's share in a mel band.
type melWeight struct {
	bin int
	w   float64
}

// NewFrontend makes a front end.
func NewFrontend() *Frontend {
	f := &Frontend{
		window: make([]float64, frameLen),
		twid:   make([]complex128, fftSize/2),
		rev:    make([]int, fftSize),
		spec:   make([]complex128, fftSize),
		frame:  make([]float64, frameLen),
		mel:    make([]float32, WindowFrames*Bands),
	}
	for i := range f.window {
		f.window[i] = 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/(frameLen-1))
	}
	for i := range f.twid {
		f.twid[i] = cmplx.Exp(complex(0, -2*math.Pi*float64(i)/fftSize))
	}
	bits := 0
	for 1<<bits < fftSize {
		bits++
	}
	for i := range f.rev {
		r := 0
		for b := 0; b < bits; b++ {
			if i&(1<<b) != 0 {
				r |= 1 << (bits - 1 - b)
			}
		}
		f.rev[i] = r
	}
	// Triangular filters evenly spaced on the mel scale.
	mel := func(hz float64) float64 { return 2595 * math.Log10(1+hz/700) }
	hz := func(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }
	var edges [Bands + 2]float64
	for i := range edges {
		edges[i] = hz(mel(lowHz) + (mel(highHz)-mel(lowHz))*float64(i)/(Bands+1))
	}
	for b := 0; b < Bands; b++ {
		lo, mid, hi := edges[b], edges[b+1], edges[b+2]
		for k := 0; k <= fftSize/2; k++ {
			fk := float64(k) * SampleRate / fftSize
			var w float64
			switch {
			case fk > lo && fk <= mid:
				w = (fk - lo) / (mid - lo)
			case fk > mid && fk < hi:
				w = (hi - fk) / (hi - mid)
			}
			if w > 0 {
				f.bank[b] = append(f.bank[b], melWeight{k, w})
			}
		}
	}
	return f
}

// Features writes the classifier's input for pcm into dst (len Inputs)
// and returns it. pcm should hold WindowSamples: a longer one is read
// from its end, a shorter one as if silence came before it.
//
// Each band's mean over the window is taken away: what is left describes
// the sounds, not the microphone, the room's colouring or the level.
func (f *Frontend) Features(dst []float32, pcm []int16) []float32 {
	if len(pcm) > WindowSamples {
		pcm = pcm[len(pcm)-WindowSamples:]
	}
	pad := WindowSamples - len(pcm) // leading samples of silence
	var means [Bands]float64
	for t := 0; t < WindowFrames; t++ {
		start := t*hop - pad
		prev := 0.0
		if start > 0 && start-1 < len(pcm) {
			prev = float64(pcm[start-1])
		}
		for i := range f.frame {
			x := 0.0
			if j := start + i; j >= 0 {
				x = float64(pcm[j])
			}
			f.frame[i] = (x - preemphasis*prev) / 32768 * f.window[i]
			prev = x
		}
		f.fft()
		row := f.mel[t*Bands : (t+1)*Bands]
		for b := range row {
			e := 0.0
			for _, mw := range f.bank[b] {
				c := f.spec[mw.bin]
				e += mw.w * (real(c)*real(c) + imag(c)*imag(c))
			}
			v := math.Log(e + energyFloor)
			row[b] = float32(v)
			means[b] += v
		}
	}
	for b := range means {
		means[b] /= WindowFrames
	}
	for s := 0; s < Steps; s++ {
		for b := 0; b < Bands; b++ {
			sum := 0.0
			for t := s * Pool; t < (s+1)*Pool; t++ {
				sum += float64(f.mel[t*Bands+b])
			}
			dst[s*Bands+b] = float32(sum/Pool - means[b])
		}
	}
	return dst[:Inputs]
}

// fft transforms f.frame, zero-padded to fftSize, into f.spec: an
// iterative radix-2 FFT.
func (f *Frontend) fft() {
	for i := range f.spec {
		x := 0.0
		if i < frameLen {
			x = f.frame[i]
		}
		f.spec[f.rev[i]] = complex(x, 0)
	}
	for size := 2; size <= fftSize; size <<= 1 {
		half, step := size/2, fftSize/size
		for start := 0; start < fftSize; start += size {
			for k := 0; k < half; k++ {
				t := f.twid[k*step] * f.spec[start+k+half]
				u := f.spec[start+k]
				f.spec[start+k], f.spec[start+k+half] = u+t, u-t
			}
		}
	}
}
