package capture

import (
	"strings"
	"testing"

	"github.com/earshot/earshot/audio"
)

func TestOpenFileInput(t *testing.T) {
	path := writeWAVFile(t, ramp(2*audio.FrameSamples), audio.SampleRate)
	src, err := Open(FilePrefix+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	fs, ok := src.(*FileSource)
	if !ok {
		t.Fatalf("Open(file:...) returned %T, want *FileSource", src)
	}
	if err := fs.Start(); err != nil {
		t.Fatal(err)
	}
	if err := fs.Read(make([]int16, audio.FrameSamples)); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		input, want string
	}{
		{"", `audio.input is empty: want "default", a device name or file:PATH.wav`},
		{"  ", "audio.input is empty"},
		{"file:", `audio.input "file:": want a path after "file:"`},
		{"file:/nonexistent/hey.wav", "/nonexistent/hey.wav: no such file"},
	}
	for _, tt := range tests {
		src, err := Open(tt.input, Options{})
		if err == nil {
			src.Close()
			t.Errorf("Open(%q) succeeded, want error", tt.input)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q) error %q, want it to contain %q", tt.input, err, tt.want)
		}
	}
}
