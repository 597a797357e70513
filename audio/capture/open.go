// Package capture opens the audio input named in the config: a PortAudio
// device or a WAV file standing in for one, both as an audio.Source of
// 16 kHz mono frames. It also reads and writes 16-bit PCM WAV files for
// `earshot export` and test clips. Nothing here needs cgo; the PortAudio
// side is in package portaudio, which has a stub for pure-Go builds.
package capture

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/portaudio"
)

// FilePrefix marks an input that is a WAV file, as in "file:/tmp/hey.wav".
const FilePrefix = "file:"

// Options configure Open.
type Options struct {
	// Realtime paces a file input like a microphone; devices are always
	// real time.
	Realtime bool
	// Loop repeats a file input forever instead of ending with io.EOF.
	Loop bool
	// Logger is passed to the source; nil discards.
	Logger *slog.Logger
	// Watchdog bounds how long a device Read waits for a frame; 0 means
	// portaudio.DefaultWatchdog.
	Watchdog time.Duration
}

// Open opens the config's audio.input: "file:PATH.wav" is a FileSource,
// anything else a PortAudio device name ("default" for the system default).
// The source opens stopped; call Start.
func Open(input string, opts Options) (audio.Source, error) {
	if path, ok := strings.CutPrefix(input, FilePrefix); ok {
		if path == "" {
			return nil, fmt.Errorf("capture: audio.input %q: want a path after %q", input, FilePrefix)
		}
		src, err := OpenFile(path, FileOptions{Realtime: opts.Realtime, Loop: opts.Loop, Logger: opts.Logger})
		if err != nil {
			return nil, err
		}
		return src, nil
	}
	if strings.TrimSpace(input) == "" {
		return nil, fmt.Errorf("capture: audio.input is empty: want \"default\", a device name or %sPATH.wav", FilePrefix)
	}
	in, err := portaudio.OpenInput(input, portaudio.InputOptions{Logger: opts.Logger, Watchdog: opts.Watchdog})
	if err != nil {
		return nil, fmt.Errorf("capture: audio.input %q: %w", input, err)
	}
	return in, nil
}
