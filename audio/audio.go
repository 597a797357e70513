// Package audio holds the listening path of earshot: capture, pre-roll,
// voice activity detection, wake word and speech-to-intent. Everything
// here works on 16 kHz mono signed 16-bit PCM in fixed 20 ms frames.
package audio

import (
	"errors"
	"time"
)

const (
	// SampleRate is the only rate the pipeline runs at.
	SampleRate = 16000
	// FrameSamples is the number of samples in one frame (20 ms).
	FrameSamples = 320
	// FrameDuration is the duration of one frame.
	FrameDuration = 20 * time.Millisecond
)

// Source is a stream of frames from a microphone or a file.
//
// Start and Stop open and close the underlying stream: between Stop and the
// next Start no samples are read from the device at all (this is what mute
// relies on). Read blocks until len(buf) samples (a multiple of
// FrameSamples) are filled; it returns io.EOF when a finite source ends and
// ErrStopped when called while the source is stopped. Close releases the
// device and is idempotent.
type Source interface {
	Start() error
	Stop() error
	Read(buf []int16) error
	Close() error
}

// ErrStopped is returned by Source.Read while the stream is stopped (muted).
var ErrStopped = errors.New("audio: source stopped")
