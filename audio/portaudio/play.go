//go:build cgo && !noportaudio

package portaudio

import (
	"context"
	"errors"
	"fmt"

	pa "github.com/gordonklaus/portaudio"
)

// playChunk is the number of samples written per call: small enough that a
// cancelled context stops playback within ~64 ms at 16 kHz.
const playChunk = 1024

// Play plays mono int16 pcm at sampleRate on device ("default" or a name) and
// returns when it has been played, or early with ctx's error when ctx ends.
func Play(ctx context.Context, device string, pcm []int16, sampleRate int) error {
	if sampleRate <= 0 {
		return fmt.Errorf("portaudio: play: invalid sample rate %d", sampleRate)
	}
	if err := acquire(); err != nil {
		return err
	}
	defer release()
	dev, err := findDevice(device, false)
	if err != nil {
		return err
	}
	buf := make([]int16, playChunk)
	p := pa.StreamParameters{
		Output:          pa.StreamDeviceParameters{Device: dev, Channels: 1, Latency: dev.DefaultHighOutputLatency},
		SampleRate:      float64(sampleRate),
		FramesPerBuffer: playChunk,
	}
	if err := pa.IsFormatSupported(p, buf); err != nil {
		return fmt.Errorf("portaudio: output device %q cannot play %d Hz mono 16-bit: %w", dev.Name, sampleRate, err)
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
		n := copy(buf, pcm[off:])
		clear(buf[n:])
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
