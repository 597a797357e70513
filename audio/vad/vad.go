// Package vad decides, frame by frame, whether a 20 ms frame holds speech.
// It compares each frame's energy with an adaptive noise floor, so it works
// in a quiet bedroom and next to a running dishwasher alike. A Detector
// allocates nothing after New and is owned by one goroutine.
package vad

import "math"

const (
	// DefaultSensitivity is used when Config.Sensitivity is zero.
	DefaultSensitivity = 0.5
	// SilenceDBFS is the energy reported for digital silence.
	SilenceDBFS = -96.0

	// A frame is speech when it is this far above the noise floor: 18 dB
	// at sensitivity 0 down to 4 dB at sensitivity 1.
	marginLeast, marginMost = 18.0, 4.0
	// Once in speech, the margin to stay in is smaller, so a word's quieter
	// tail does not flicker in and out.
	hysteresisDB = 3.0
	// Speech stays on for this many frames after the last loud one,
	// bridging the short gaps inside and between words.
	hangoverFrames = 3
	// Nothing quieter than this is speech, however quiet the room: it
	// keeps a dead-silent input (floor at -96 dBFS) from calling hiss speech.
	minSpeechDBFS = -65.0
	// A frame quieter than this is no room's noise but digital silence,
	// as a stream's first buffers often are, and a file's gaps. A floor
	// that digital silence set (or pulled down) is provisional: the first
	// provisionalFrames (2 s) of sound after it are judged against it, so
	// speech is heard, and then the floor is the quietest of them. Kept,
	// the floor took a minute at riseDBStep to climb to a fan at -30
	// dBFS, the fan was speech all that while, and the listener, hearing
	// talk without a pause, stopped listening for the wake phrase
	// (real-dev's noisy recordings after the evaluation's lead of zeros).
	minFloorDBFS      = -90.0
	provisionalFrames = 100
	// The floor follows quieter frames quickly and louder ones slowly
	// (1 dB per second at 50 frames per second), so speech does not become
	// the floor but a fan that starts does, within seconds.
	fallRate   = 0.3
	riseDBStep = 0.02
)

// Config configures a Detector.
type Config struct {
	// Sensitivity in 0..1: higher calls quieter sounds speech. Zero means
	// DefaultSensitivity; values outside 0..1 are clamped.
	Sensitivity float64
}

// Detector is an energy VAD with an adaptive noise floor.
type Detector struct {
	margin   float64 // dB above the floor that counts as speech
	floor    float64 // noise floor estimate, dBFS
	energy   float64 // last frame, dBFS
	primed   bool    // floor has been seeded from a real frame
	speech   bool
	hangover int
	// provisional counts down the frames of sound after digital silence
	// (see minFloorDBFS); quietest is the quietest of them so far.
	provisional int
	quietest    float64
	revised     bool // the last frame ended a provisional floor, raising it
}

// New returns a Detector for cfg.
func New(cfg Config) *Detector {
	s := cfg.Sensitivity
	if s == 0 {
		s = DefaultSensitivity
	}
	s = min(max(s, 0), 1)
	d := &Detector{margin: marginLeast + (marginMost-marginLeast)*s}
	d.Reset()
	return d
}

// Reset forgets the noise floor and the speech state, e.g. after an unmute,
// when the room may have changed.
func (d *Detector) Reset() {
	d.floor = SilenceDBFS
	d.energy = SilenceDBFS
	d.primed = false
	d.speech = false
	d.hangover = 0
	d.provisional = 0
	d.revised = false
}

// Energy returns the last frame's energy in dBFS (a full-scale square wave
// is 0; digital silence is SilenceDBFS). The listener uses it to skip
// decoding in silence.
func (d *Detector) Energy() float64 { return d.energy }

// Revised reports whether the last frame ended a provisional floor (see
// minFloorDBFS) by raising it: what was reported as speech since the
// digital silence may have been the room.
func (d *Detector) Revised() bool { return d.revised }

// NoiseFloor returns the current noise floor estimate in dBFS.
func (d *Detector) NoiseFloor() float64 { return d.floor }

// IsSpeech updates the detector with one frame (normally 20 ms) and reports
// whether it holds speech. An empty frame changes nothing.
func (d *Detector) IsSpeech(frame []int16) bool {
	if len(frame) == 0 {
		return d.speech
	}
	e := frameDBFS(frame)
	d.energy = e
	d.revised = false
	if !d.primed {
		// The first frame seeds the floor. If it was speech, the fast fall
		// corrects the floor at the first pause.
		d.floor, d.primed = e, true
	}
	if e > minFloorDBFS {
		switch {
		case d.provisional > 0:
			d.quietest = min(d.quietest, e)
			if d.provisional--; d.provisional == 0 && d.quietest > d.floor {
				d.floor, d.revised = d.quietest, true
			}
		case d.floor <= minFloorDBFS:
			d.provisional, d.quietest = provisionalFrames, e
		}
	}
	threshold := d.floor + d.margin
	if d.speech {
		threshold -= hysteresisDB
	}
	loud := e >= threshold && e >= minSpeechDBFS
	switch {
	case loud:
		d.speech, d.hangover = true, hangoverFrames
	case d.hangover > 0:
		d.hangover--
	default:
		d.speech = false
	}
	if e < d.floor {
		d.floor += (e - d.floor) * fallRate
	} else {
		d.floor += min(e-d.floor, riseDBStep)
	}
	return d.speech
}

// Power is a frame's mean square, in squared sample units.
func Power(frame []int16) float64 {
	var sum float64
	for _, s := range frame {
		v := float64(s)
		sum += v * v
	}
	return sum / float64(len(frame))
}

// frameDBFS is the frame's mean power relative to full scale, in dB.
func frameDBFS(frame []int16) float64 {
	mean := Power(frame) / (32768.0 * 32768.0)
	if mean <= 0 {
		return SilenceDBFS
	}
	return max(10*math.Log10(mean), SilenceDBFS)
}
