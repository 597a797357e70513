//go:build cgo && !noportaudio && !nopocketsphinx

package listen

import (
	"testing"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/portaudio"
	"github.com/earshot/earshot/audio/portaudio/alsatest"
	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
)

// TestRecognitionThroughPortAudio is the end-to-end path the daemon runs:
// speech in ALSA's capture (the file plugin stands in for a microphone),
// read by the real PortAudio input, recognised by the real listener.
func TestRecognitionThroughPortAudio(t *testing.T) {
	speech := sphinxtest.Speak(t, "slt", "hey jarvis turn off the bedroom lights", 0.8, 1.5)
	if !alsatest.InChild(t, alsatest.Raw(speech)) {
		return
	}
	l := newListener(t, nil)
	in, err := portaudio.OpenInput("default", portaudio.InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, audio.FrameSamples)
	// The file holds the speech; past its end the plugin gives silence.
	limit := len(speech)/audio.FrameSamples + 100
	for i := 0; i < limit; i++ {
		if err := in.Read(frame); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		u, ok, err := l.Feed(frame)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		if u.Intent != "LightsOff" || u.Slots["room"] != "bedroom" {
			t.Fatalf("recognised %q %v, want LightsOff room=bedroom", u.Intent, u.Slots)
		}
		return
	}
	t.Fatalf("no utterance in %d frames read through PortAudio", limit)
}
