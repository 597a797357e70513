//go:build !cgo || noportaudio

package capture

import (
	"errors"
	"testing"

	"github.com/earshot/earshot/audio/portaudio"
)

func TestOpenDeviceWithoutPortAudio(t *testing.T) {
	if _, err := Open("default", Options{}); !errors.Is(err, portaudio.ErrUnavailable) {
		t.Fatalf("Open(default) in a build without PortAudio = %v, want portaudio.ErrUnavailable", err)
	}
}
