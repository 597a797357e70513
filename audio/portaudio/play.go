//go:build cgo && !noportaudio

package portaudio

import (
	"context"
	"errors"
	"fmt"
	"strings"

	pa "github.com/gordonklaus/portaudio"

	"github.com/earshot/earshot/audio/capture/resample"
)

// playChunk is the number of frames written per call: small enough that a
// cancelled context stops playback within ~64 ms at 16 kHz.
const playChunk = 1024

// Play plays mono int16 pcm at sampleRate on device ("default" or a name) and
// returns when it has been played, or early with ctx's error when ctx ends.
// A device that cannot play that rate in mono gets the audio resampled to
// its default rate and/or copied to two channels.
func Play(ctx context.Context, device string, pcm []int16, sampleRate int) error {
	return play(ctx, device, pcm, sampleRate, format{})
}

// play is Play with the device format forced when force is non-zero, so
// tests can exercise the conversion a hardware device would need.
func play(ctx context.Context, device string, pcm []int16, sampleRate int, force format) error {
	if sampleRate <= 0 || sampleRate > resample.MaxRate {
		return fmt.Errorf("portaudio: play: sample rate %d Hz, want 1..%d", sampleRate, resample.MaxRate)
	}
	if err := acquire(); err != nil {
		return err
	}
	defer release()
	dev, err := findDevice(device, false)
	if err != nil {
		return err
	}
	candidates := []format{force}
	if force == (format{}) {
		def := int(dev.DefaultSampleRate)
		candidates = []format{{sampleRate, 1}, {def, 1}, {sampleRate, 2}, {def, 2}}
	}
	buf := make([]int16, playChunk*2)
	var tried []string
	var p pa.StreamParameters
	var f format
	for _, c := range candidates {
		if c.rate <= 0 || c.rate > resample.MaxRate || c.channels < 1 || c.channels > max(dev.MaxOutputChannels, 1) {
			continue
		}
		p = pa.StreamParameters{
			Output:          pa.StreamDeviceParameters{Device: dev, Channels: c.channels, Latency: dev.DefaultHighOutputLatency},
			SampleRate:      float64(c.rate),
			FramesPerBuffer: playChunk,
		}
		buf = buf[:playChunk*c.channels]
		if err := pa.IsFormatSupported(p, buf); err != nil {
			tried = append(tried, fmt.Sprintf("%d Hz %d ch: %v", c.rate, c.channels, err))
			continue
		}
		f = c
		break
	}
	if f == (format{}) {
		return fmt.Errorf("portaudio: output device %q supports no usable 16-bit format (tried %s)", dev.Name, strings.Join(tried, "; "))
	}
	if f.rate != sampleRate {
		if pcm, err = resample.PCM(pcm, sampleRate, f.rate); err != nil {
			return fmt.Errorf("portaudio: play on %q: %w", dev.Name, err)
		}
	}
	s, err := pa.OpenStream(p, buf)
	if err != nil {
		return fmt.Errorf("portaudio: open output device %q: %w", dev.Name, err)
	}
	defer s.Close()
	if err := s.Start(); err != nil {
		return fmt.Errorf("portaudio: start output %q: %w", dev.Name, err)
	}
	for off := 0; off < len(pcm); off += playChunk {
		if err := ctx.Err(); err != nil {
			_ = s.Abort()
			return err
		}
		chunk := pcm[off:min(off+playChunk, len(pcm))]
		clear(buf)
		for i, v := range chunk {
			for c := range f.channels {
				buf[i*f.channels+c] = v
			}
		}
		if err := s.Write(); err != nil && !errors.Is(err, pa.OutputUnderflowed) {
			_ = s.Abort()
			return fmt.Errorf("portaudio: play on %q: %w", dev.Name, err)
		}
	}
	// Stop, unlike Abort, returns once the buffered audio has been played.
	if err := s.Stop(); err != nil {
		return fmt.Errorf("portaudio: finish playback on %q: %w", dev.Name, err)
	}
	return nil
}
