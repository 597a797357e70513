// Package portaudio captures and plays 16 kHz mono PCM through PortAudio.
//
// An Input never reads from the microphone between Stop and Start: Stop stops
// the PortAudio stream itself, which is what mute relies on. Read never hangs
// on a dead device: device errors and a stream that delivers nothing for the
// watchdog period come back as errors. Built without cgo or with the
// noportaudio tag, every entry point returns ErrUnavailable instead.
package portaudio

import (
	"errors"
	"log/slog"
	"time"
)

// DefaultWatchdog is how long Read waits for a single frame before deciding
// the device is gone: ten times the longest buffer a healthy device delivers.
const DefaultWatchdog = 2 * time.Second

var (
	// ErrUnavailable is returned by every function when the binary was built
	// without PortAudio (CGO_ENABLED=0 or -tags noportaudio).
	ErrUnavailable = errors.New("portaudio: not built in (built with CGO_ENABLED=0 or -tags noportaudio); use input file:PATH.wav")
	// ErrStalled is returned by Read when the device delivered no audio for
	// the watchdog period, typically because it was unplugged.
	ErrStalled = errors.New("portaudio: device delivered no audio")
	// ErrClosed is returned by Read and Start after Close.
	ErrClosed = errors.New("portaudio: input closed")
)

// InputOptions configure OpenInput. The zero value is ready to use.
type InputOptions struct {
	// Logger receives overflow warnings and device details; nil discards.
	Logger *slog.Logger
	// Watchdog bounds how long Read waits for one frame; 0 means
	// DefaultWatchdog.
	Watchdog time.Duration
	// Latency is the suggested input latency; 0 means the device's default
	// high latency, which is what keeps a busy Pi from overflowing.
	Latency time.Duration
	// DeviceRate and DeviceChannels force the format asked of the device.
	// Zero means automatic: 16 kHz mono when the device can, otherwise its
	// default rate and/or stereo. Read always delivers 16 kHz mono,
	// averaging channels and resampling as needed; the rate must be a whole
	// number of samples per 20 ms (a multiple of 50 Hz).
	DeviceRate     int
	DeviceChannels int
}

// DeviceInfo describes one PortAudio device.
type DeviceInfo struct {
	Name              string
	HostAPI           string
	MaxInputChannels  int
	MaxOutputChannels int
	DefaultSampleRate float64
	DefaultInput      bool // the host API's default input device
	DefaultOutput     bool // the host API's default output device
}

func (o InputOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o InputOptions) watchdog() time.Duration {
	if o.Watchdog <= 0 {
		return DefaultWatchdog
	}
	return o.Watchdog
}
