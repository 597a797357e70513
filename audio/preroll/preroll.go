// Package preroll keeps the last few hundred milliseconds of audio in a
// fixed ring so a stored recording can start before the wake word was
// detected. A Ring allocates once, in New; Write never allocates, and a
// Snapshot always returns samples oldest first.
package preroll

import (
	"time"

	"github.com/earshot/earshot/audio"
)

// Ring is a fixed-capacity ring of 16 kHz samples. It is not safe for
// concurrent use: the capture loop owns it and takes snapshots itself.
type Ring struct {
	buf  []int16
	next int  // index where the next sample goes
	full bool // buf has wrapped at least once
}

// New returns a Ring that holds d of audio at audio.SampleRate, rounded up to
// whole frames. A non-positive d gives a Ring that keeps nothing.
func New(d time.Duration) *Ring {
	frames := 0
	if d > 0 {
		frames = int((d + audio.FrameDuration - 1) / audio.FrameDuration)
	}
	return &Ring{buf: make([]int16, frames*audio.FrameSamples)}
}

// Cap returns the capacity in samples.
func (r *Ring) Cap() int { return len(r.buf) }

// Len returns the number of buffered samples.
func (r *Ring) Len() int {
	if r.full {
		return len(r.buf)
	}
	return r.next
}

// Write appends frame, overwriting the oldest samples once the ring is full.
// Frames of any length are accepted; only the newest Cap samples are kept.
func (r *Ring) Write(frame []int16) {
	n := len(r.buf)
	if n == 0 {
		return
	}
	if len(frame) >= n {
		copy(r.buf, frame[len(frame)-n:])
		r.next = 0
		r.full = true
		return
	}
	c := copy(r.buf[r.next:], frame)
	if c < len(frame) {
		copy(r.buf, frame[c:])
	}
	r.next += len(frame)
	if r.next >= n {
		r.next -= n
		r.full = true
	}
}

// Snapshot appends the buffered samples, oldest first, to dst and returns the
// extended slice. Passing a dst with enough capacity avoids allocation.
func (r *Ring) Snapshot(dst []int16) []int16 {
	if r.full {
		dst = append(dst, r.buf[r.next:]...)
	}
	return append(dst, r.buf[:r.next]...)
}

// Reset empties the ring and zeroes the stored samples, so audio from before
// a mute or an utterance does not linger in memory.
func (r *Ring) Reset() {
	clear(r.buf)
	r.next = 0
	r.full = false
}
