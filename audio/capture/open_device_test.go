//go:build cgo && !noportaudio

package capture

import (
	"strings"
	"testing"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/portaudio"
	"github.com/earshot/earshot/audio/portaudio/alsatest"
)

// TestOpenDeviceThroughALSA opens "default" the way the daemon does and
// checks the samples of a file behind ALSA's default device come through.
func TestOpenDeviceThroughALSA(t *testing.T) {
	pcm := ramp(audio.SampleRate)
	if !alsatest.InChild(t, alsatest.Raw(pcm)) {
		return
	}
	src, err := Open("default", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	in, ok := src.(*portaudio.Input)
	if !ok {
		t.Fatalf("Open(default) returned %T, want *portaudio.Input", src)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	got := make([]int16, 10*audio.FrameSamples)
	if err := in.Read(got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != pcm[i] {
			t.Fatalf("sample %d = %d, want %d", i, got[i], pcm[i])
		}
	}

	_, err = Open("no-such-mic", Options{})
	if err == nil || !strings.Contains(err.Error(), `audio.input "no-such-mic"`) || !strings.Contains(err.Error(), `"default"`) {
		t.Fatalf("Open(no-such-mic) = %v, want an error naming the input and listing devices", err)
	}
}
