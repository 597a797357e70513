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
	// FloorDBFS is the level of the white noise whose energy in each band
	// is that band's floor: quieter sound counts as that floor. Digital
	// silence (a file's padding, a muted codec), a converter's dither and
	// a quiet microphone's hiss then all look alike, as they sound; before
	// the floor, a window that began in digital silence scored 0.45–0.9
	// where the same speech with ±1 LSB of dither scored 0.95–0.98. It is
	// 10 dB above 16-bit dither and 50 dB or more below speech.
	FloorDBFS = -82
)

// Frontend turns audio into the classifier's input. It keeps its buffers
// and allocates nothing once made; it is not safe for concurrent use.
type Frontend struct {
	window []float64
	bank   [Bands][]melWeight
	twid   []complex128
	rev    []int
	floor  [Bands]float64 // each band's energy of white noise at FloorDBFS
	silent [Bands]float32 // its logarithm: a band's value in silence
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
	// White noise of variance v has, after pre-emphasis and the window,
	// an expected power of v·|1 - p·e^-iω|²·Σwindow² in the bin at ω.
	v := math.Pow(10, FloorDBFS/10)
	var win2 float64
	for _, w := range f.window {
		win2 += w * w
	}
	for b, ws := range f.bank {
		for _, mw := range ws {
			omega := 2 * math.Pi * float64(mw.bin) / fftSize
			f.floor[b] += mw.w * v * (1 + preemphasis*preemphasis - 2*preemphasis*math.Cos(omega)) * win2
		}
		f.silent[b] = float32(math.Log(f.floor[b]))
	}
	return f
}

// Features writes the classifier's input for pcm into dst (len Inputs)
// and returns it: for the WindowSamples at its end, or as if silence came
// before a shorter pcm.
//
// Each band's mean over the window is taken away: what is left describes
// the sounds, not the microphone, the room's colouring or the level.
func (f *Frontend) Features(dst []float32, pcm []int16) []float32 {
	base := len(pcm) - WindowSamples // where the window starts; < 0: silence first
	for t := 0; t < WindowFrames; t++ {
		f.melFrame(f.mel[t*Bands:(t+1)*Bands], pcm, base+t*hop)
	}
	return pool(dst, f.mel, 0)
}

// melFrame writes into row the log mel energies of the frame of pcm that
// starts at start (samples before 0 are silence).
func (f *Frontend) melFrame(row []float32, pcm []int16, start int) {
	prev := 0.0
	if start > 0 {
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
	for b := range row {
		e := 0.0
		for _, mw := range f.bank[b] {
			c := f.spec[mw.bin]
			e += mw.w * (real(c)*real(c) + imag(c)*imag(c))
		}
		row[b] = float32(math.Log(max(e, f.floor[b])))
	}
}

// pool writes into dst the classifier's input from mel, WindowFrames
// rows of Bands that start at row first and wrap around: each band's mean
// taken away, then Pool rows averaged.
func pool(dst, mel []float32, first int) []float32 {
	var means [Bands]float64
	for t := 0; t < WindowFrames; t++ {
		row := mel[t*Bands : (t+1)*Bands]
		for b, v := range row {
			means[b] += float64(v)
		}
	}
	for b := range means {
		means[b] /= WindowFrames
	}
	for s := 0; s < Steps; s++ {
		for b := 0; b < Bands; b++ {
			sum := 0.0
			for t := s * Pool; t < (s+1)*Pool; t++ {
				sum += float64(mel[((first+t)%WindowFrames)*Bands+b])
			}
			dst[s*Bands+b] = float32(sum/Pool - means[b])
		}
	}
	return dst[:Inputs]
}

// Stream computes the classifier's input as audio arrives: one frame of
// mel energies per 10 ms, kept for the last window, so that scoring the
// latest window costs no FFT. It is not safe for concurrent use.
type Stream struct {
	fe    *Frontend
	buf   []int16 // samples not yet framed, and the one before them
	keep  bool    // buf[0] is the sample before the next frame
	mel   []float32
	next  int // row of mel the next frame goes to
	count int // frames computed since Reset
}

// streamChunk is how many samples Push takes in at a time.
const streamChunk = 4096

// leadZeros is the silence a stream begins with: the frames, hop apart,
// that start before the audio and reach into it.
const leadZeros = (frameLen - 1) / hop * hop

// NewStream makes a stream.
func NewStream() *Stream {
	s := &Stream{
		fe:  NewFrontend(),
		buf: make([]int16, 0, frameLen+streamChunk),
		mel: make([]float32, WindowFrames*Bands),
	}
	s.Reset()
	return s
}

// Reset forgets all audio: the window holds silence, as Frontend.Features
// assumes before audio shorter than a window. The frames that begin in
// that silence and end in the audio are framed too, from the zeros put
// before it.
func (s *Stream) Reset() {
	clear(s.buf[:cap(s.buf)])
	s.buf, s.keep = s.buf[:leadZeros], false
	for t := 0; t < WindowFrames; t++ {
		copy(s.mel[t*Bands:(t+1)*Bands], s.fe.silent[:])
	}
	s.next, s.count = 0, 0
}

// Push adds audio.
func (s *Stream) Push(pcm []int16) {
	for len(pcm) > 0 {
		n := min(len(pcm), cap(s.buf)-len(s.buf))
		s.buf = append(s.buf, pcm[:n]...)
		pcm = pcm[n:]
		off := 0
		if s.keep {
			off = 1
		}
		for off+frameLen <= len(s.buf) {
			// melFrame reads the sample before the frame for pre-emphasis.
			s.fe.melFrame(s.mel[s.next*Bands:(s.next+1)*Bands], s.buf, off)
			s.next = (s.next + 1) % WindowFrames
			s.count++
			off += hop
		}
		// Keep what the next frame needs, and the sample before it.
		from := max(off-1, 0)
		s.keep = off > 0
		n = copy(s.buf, s.buf[from:])
		clear(s.buf[n:len(s.buf)])
		s.buf = s.buf[:n]
	}
}

// Full reports whether every frame of the window has been framed since
// Reset: about a window of audio pushed.
func (s *Stream) Full() bool { return s.count >= WindowFrames }

// Ready reports whether half a window of audio has been pushed since
// Reset: enough to score. Until the window is full its start is the
// silence assumed before the audio, as for the shortest windows the net
// was trained on (half a window).
func (s *Stream) Ready() bool { return s.count >= WindowFrames/2 }

// Features writes the input for the window that ends with the last whole
// frame pushed: the same as Frontend.Features of that audio.
func (s *Stream) Features(dst []float32) []float32 {
	return pool(dst, s.mel, s.next)
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
