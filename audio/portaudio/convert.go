//go:build cgo && !noportaudio

package portaudio

import (
	"fmt"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture/resample"
)

// format is what the device is asked to record.
type format struct {
	rate     int // Hz
	channels int
}

// frameLen is the samples per channel in 20 ms.
func (f format) frameLen() int { return f.rate * int(audio.FrameDuration/1e6) / 1000 }

// usable reports whether 20 ms is a whole number of samples at this rate,
// which keeps device reads and pipeline frames in step.
func (f format) usable() bool {
	return f.rate > 0 && f.rate <= resample.MaxRate && f.rate*int(audio.FrameDuration/1e6)%1000 == 0 && f.channels > 0
}

// converter turns device frames into 16 kHz mono frames without allocating:
// channels are averaged, the rate is converted by a streaming resampler, and
// output waits in pending until a whole frame is there.
type converter struct {
	f       format
	starts  uint64 // the Input.starts this state belongs to
	mono    []int16
	rs      *resample.Stream // nil at 16 kHz
	pending []int16
}

func newConverter(f format) (converter, error) {
	c := converter{f: f}
	if c.direct() {
		return c, nil
	}
	n := f.frameLen()
	c.mono = make([]int16, n)
	// One frame short of a pop plus one device frame's worth of output.
	c.pending = make([]int16, 0, 3*audio.FrameSamples+8)
	if f.rate != audio.SampleRate {
		rs, err := resample.NewStream(f.rate, audio.SampleRate, n)
		if err != nil {
			return converter{}, fmt.Errorf("portaudio: %w", err)
		}
		c.rs = rs
	}
	return c, nil
}

// direct reports that the device records exactly what the pipeline wants.
func (c *converter) direct() bool { return c.f.rate == audio.SampleRate && c.f.channels == 1 }

func (c *converter) ready() bool { return len(c.pending) >= audio.FrameSamples }

// push converts one device frame of interleaved samples.
func (c *converter) push(frame []int16) {
	ch := c.f.channels
	for i := range c.mono {
		var sum int
		for _, v := range frame[i*ch : (i+1)*ch] {
			sum += int(v)
		}
		c.mono[i] = int16(sum / ch)
	}
	if c.rs != nil {
		c.pending = c.rs.Process(c.pending, c.mono)
	} else {
		c.pending = append(c.pending, c.mono...)
	}
}

// pop moves one frame from pending into dst.
func (c *converter) pop(dst []int16) {
	copy(dst, c.pending)
	c.pending = c.pending[:copy(c.pending, c.pending[audio.FrameSamples:])]
}

func (c *converter) reset(starts uint64) {
	c.starts = starts
	c.pending = c.pending[:0]
	if c.rs != nil {
		c.rs.Reset()
	}
}
