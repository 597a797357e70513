//go:build cgo && !noportaudio

package portaudio

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pa "github.com/gordonklaus/portaudio"

	"github.com/earshot/earshot/audio"
)

// overflowLogEvery bounds how often input overflows are logged: under load
// they come in bursts and one line per burst is enough.
const overflowLogEvery = 10 * time.Second

// Input is a PortAudio capture stream of 16 kHz mono int16 frames. It
// implements audio.Source. Read, Start, Stop and Close may be called from
// different goroutines; Read itself is meant for one reader.
type Input struct {
	log      *slog.Logger
	name     string
	watchdog time.Duration

	mu      sync.Mutex // guards every call into the stream and the fields below
	stream  stream
	frame   []int16 // bound to the stream at open: blocking reads land here
	release func()  // drops the PortAudio reference taken at open
	running bool
	closed  bool
	starts  uint64    // counts Start calls, so Read drops converter state from before
	lastLog time.Time // last overflow warning

	conv converter // device format -> 16 kHz mono; touched only by Read

	framesRead atomic.Uint64
	overflows  atomic.Uint64
}

// OpenInput opens a capture stream on device: "default", or a name matched
// case-insensitively, exactly first, then as a unique substring (the error
// lists the input devices when nothing or several match). Read delivers
// 16 kHz mono int16 whatever the device records (see InputOptions). The
// stream starts stopped: nothing is read from the microphone until Start,
// so a device that boots muted never listens.
func OpenInput(device string, opts InputOptions) (*Input, error) {
	if err := acquire(); err != nil {
		return nil, err
	}
	in, err := openInput(device, opts)
	if err != nil {
		release()
		return nil, err
	}
	return in, nil
}

func openInput(device string, opts InputOptions) (*Input, error) {
	dev, err := findDevice(device, true)
	if err != nil {
		return nil, err
	}
	latency := opts.Latency
	if latency <= 0 {
		latency = dev.DefaultHighInputLatency
	}
	f, frame, err := chooseFormat(dev, latency, opts)
	if err != nil {
		return nil, err
	}
	p := pa.StreamParameters{
		Input:           pa.StreamDeviceParameters{Device: dev, Channels: f.channels, Latency: latency},
		SampleRate:      float64(f.rate),
		FramesPerBuffer: f.frameLen(),
	}
	s, err := pa.OpenStream(p, frame)
	if err != nil {
		return nil, fmt.Errorf("portaudio: open input device %q at %d Hz, %d channel(s): %w", dev.Name, f.rate, f.channels, err)
	}
	in := &Input{
		log:      opts.logger().With("component", "capture", "device", dev.Name),
		name:     dev.Name,
		watchdog: opts.watchdog(),
		stream:   s,
		frame:    frame,
		release:  release,
	}
	if err := in.setFormat(f); err != nil {
		s.Close()
		return nil, err
	}
	if in.conv.direct() {
		in.log.Debug("input opened", "latency", latency)
	} else {
		in.log.Info("input device cannot record 16 kHz mono; converting from its format",
			"rate", f.rate, "channels", f.channels, "latency", latency)
	}
	return in, nil
}

// chooseFormat picks what to ask of the device: 16 kHz mono when it can,
// else its default rate and/or stereo, which Read converts. Hardware
// devices of many USB microphones record only at 44.1 or 48 kHz.
func chooseFormat(dev *pa.DeviceInfo, latency time.Duration, opts InputOptions) (format, []int16, error) {
	var candidates []format
	if opts.DeviceRate > 0 || opts.DeviceChannels > 0 {
		f := format{rate: opts.DeviceRate, channels: opts.DeviceChannels}
		if f.rate <= 0 {
			f.rate = audio.SampleRate
		}
		if f.channels <= 0 {
			f.channels = 1
		}
		candidates = append(candidates, f)
	} else {
		def := int(dev.DefaultSampleRate)
		candidates = append(candidates, format{audio.SampleRate, 1}, format{def, 1}, format{audio.SampleRate, 2}, format{def, 2})
	}
	var tried []string
	for i, f := range candidates {
		if !f.usable() || f.channels > dev.MaxInputChannels || slices.Contains(candidates[:i], f) {
			continue
		}
		frame := make([]int16, f.frameLen()*f.channels)
		p := pa.StreamParameters{
			Input:           pa.StreamDeviceParameters{Device: dev, Channels: f.channels, Latency: latency},
			SampleRate:      float64(f.rate),
			FramesPerBuffer: f.frameLen(),
		}
		err := pa.IsFormatSupported(p, frame)
		if err == nil {
			return f, frame, nil
		}
		tried = append(tried, fmt.Sprintf("%d Hz %d ch: %v", f.rate, f.channels, err))
	}
	return format{}, nil, fmt.Errorf("portaudio: input device %q supports no usable 16-bit format (tried %s); "+
		"use a device that converts, such as \"default\" or an ALSA plug device", dev.Name, strings.Join(tried, "; "))
}

// stream is the part of *pa.Stream an Input uses. It exists so tests can
// stand in for a device that stalls or fails, which no machine without the
// hardware can produce on demand.
type stream interface {
	Start() error
	Stop() error
	Close() error
	AvailableToRead() (int, error)
	Read() error // fills the frame buffer bound at open
}

// Name returns the resolved device name.
func (in *Input) Name() string { return in.name }

// FramesRead returns the number of 20 ms frames delivered by Read.
func (in *Input) FramesRead() uint64 { return in.framesRead.Load() }

// Overflows returns how many reads reported that the device overran its
// buffer (audio was lost because the reader fell behind).
func (in *Input) Overflows() uint64 { return in.overflows.Load() }

// Start starts the stream. Starting a running stream does nothing.
func (in *Input) Start() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return ErrClosed
	}
	if in.running {
		return nil
	}
	if err := in.stream.Start(); err != nil {
		return fmt.Errorf("portaudio: start input %q: %w", in.name, err)
	}
	in.running = true
	in.starts++
	return nil
}

// Stop stops the PortAudio stream, so no samples are captured until Start.
// A Read waiting for data returns audio.ErrStopped. Stopping a stopped or
// closed stream does nothing.
func (in *Input) Stop() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.stopLocked()
}

func (in *Input) stopLocked() error {
	if in.closed || !in.running {
		return nil
	}
	in.running = false
	if err := in.stream.Stop(); err != nil && !errors.Is(err, pa.StreamIsStopped) {
		return fmt.Errorf("portaudio: stop input %q: %w", in.name, err)
	}
	return nil
}

// Close stops and closes the stream and drops this input's PortAudio
// reference. It is idempotent.
func (in *Input) Close() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil
	}
	errStop := in.stopLocked()
	in.closed = true
	errClose := in.stream.Close()
	in.release()
	if errClose != nil {
		errClose = fmt.Errorf("portaudio: close input %q: %w", in.name, errClose)
	}
	return errors.Join(errStop, errClose)
}

// Read fills buf, whose length must be a multiple of audio.FrameSamples. It
// returns audio.ErrStopped while stopped (also when Stop interrupts a
// waiting Read), ErrStalled when the device delivers nothing for the
// watchdog period, and a wrapped PortAudio error when the device fails.
// Input overflows are counted and logged, not returned: the frame read after
// an overflow is still good audio.
func (in *Input) Read(buf []int16) error {
	if len(buf)%audio.FrameSamples != 0 {
		return fmt.Errorf("portaudio: read of %d samples: want a multiple of %d", len(buf), audio.FrameSamples)
	}
	for off := 0; off < len(buf); off += audio.FrameSamples {
		if err := in.readFrame(buf[off : off+audio.FrameSamples]); err != nil {
			return err
		}
	}
	return nil
}

// readFrame delivers one 16 kHz mono frame, converting from the device's
// format when it is not that already.
func (in *Input) readFrame(dst []int16) error {
	if in.conv.direct() {
		if err := in.readDevice(dst); err != nil {
			return err
		}
		in.framesRead.Add(1)
		return nil
	}
	for !in.conv.ready() {
		if err := in.readDevice(nil); err != nil {
			return err
		}
		in.conv.push(in.frame)
	}
	in.conv.pop(dst)
	in.framesRead.Add(1)
	return nil
}

// readDevice waits until a whole device frame is available and then reads
// it (into in.frame, and copied to dst if given), so the blocking
// Pa_ReadStream never blocks and Stop, Close and the watchdog are never
// stuck behind a call into a dead driver.
func (in *Input) readDevice(dst []int16) error {
	want := in.conv.f.frameLen()
	deadline := time.Now().Add(in.watchdog)
	for {
		in.mu.Lock()
		if in.closed {
			in.mu.Unlock()
			return ErrClosed
		}
		if !in.running {
			in.mu.Unlock()
			return audio.ErrStopped
		}
		if in.starts != in.conv.starts {
			// Audio converted before a Stop must not leak into this run.
			in.conv.reset(in.starts)
		}
		avail, err := in.stream.AvailableToRead()
		if errors.Is(err, pa.InputOverflowed) {
			// ALSA reports an overrun here when it recovers from one;
			// the stream is running again, so count it and go on.
			in.mu.Unlock()
			in.overflowed()
			continue
		}
		if err != nil {
			in.mu.Unlock()
			return fmt.Errorf("portaudio: input %q: %w", in.name, err)
		}
		if avail >= want {
			err := in.stream.Read()
			if dst != nil && (err == nil || errors.Is(err, pa.InputOverflowed)) {
				copy(dst, in.frame)
			}
			overflowed := err != nil && errors.Is(err, pa.InputOverflowed)
			in.mu.Unlock()
			if overflowed {
				in.overflowed()
			} else if err != nil {
				return fmt.Errorf("portaudio: read input %q: %w", in.name, err)
			}
			return nil
		}
		in.mu.Unlock()
		now := time.Now()
		if now.After(deadline) {
			return fmt.Errorf("%w: %q gave nothing for %v (unplugged?)", ErrStalled, in.name, in.watchdog)
		}
		time.Sleep(waitFor(want-avail, in.conv.f.rate))
	}
}

// waitFor is how long to sleep before missing samples can have arrived:
// their duration, clamped so Stop is noticed within a frame and a slow
// clock is not polled in a hot loop.
func waitFor(missing, rate int) time.Duration {
	d := time.Duration(missing) * time.Second / time.Duration(rate)
	return min(max(d, 2*time.Millisecond), audio.FrameDuration)
}

func (in *Input) overflowed() {
	n := in.overflows.Add(1)
	in.mu.Lock()
	now := time.Now()
	logIt := in.lastLog.IsZero() || now.Sub(in.lastLog) >= overflowLogEvery
	if logIt {
		in.lastLog = now
	}
	in.mu.Unlock()
	if logIt {
		in.log.Warn("input overflow: the reader fell behind and audio was dropped", "overflows", n)
	}
}

// setFormat prepares Read for the device format chosen at open.
func (in *Input) setFormat(f format) error {
	c, err := newConverter(f)
	if err != nil {
		return err
	}
	in.conv = c
	return nil
}
