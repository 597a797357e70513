package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/earshot/earshot/audio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ramp returns n samples counting from 1, so position mistakes show.
func ramp(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(i%30000 + 1)
	}
	return s
}

func writeWAVFile(t *testing.T, pcm []int16, rate int) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteWAV(&b, pcm, rate); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "clip.wav")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func started(t *testing.T, s *FileSource) *FileSource {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll reads frames of size n until an error, returning samples and the
// terminating error.
func readAll(s audio.Source, n, limit int) ([]int16, error) {
	var out []int16
	buf := make([]int16, n)
	for len(out) < limit {
		if err := s.Read(buf); err != nil {
			return out, err
		}
		out = append(out, buf...)
	}
	return out, nil
}

func TestFileSourceReadsToEOF(t *testing.T) {
	tests := []struct {
		name    string
		samples int
		bufSize int
	}{
		{"whole frames", 3 * audio.FrameSamples, audio.FrameSamples},
		{"partial last frame", 3*audio.FrameSamples + 17, audio.FrameSamples},
		{"multi-frame reads", 5*audio.FrameSamples + 1, 2 * audio.FrameSamples},
		{"empty file", 0, audio.FrameSamples},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pcm := ramp(tt.samples)
			s, err := OpenFile(writeWAVFile(t, pcm, audio.SampleRate), FileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			started(t, s)
			got, err := readAll(s, tt.bufSize, 1<<20)
			if !errors.Is(err, io.EOF) {
				t.Fatalf("end of file: %v, want io.EOF", err)
			}
			padded := (tt.samples + tt.bufSize - 1) / tt.bufSize * tt.bufSize
			if len(got) != padded {
				t.Fatalf("read %d samples, want %d (the file padded to whole reads)", len(got), padded)
			}
			if !slices.Equal(got[:tt.samples], pcm) {
				t.Fatal("samples differ from the file")
			}
			for _, v := range got[tt.samples:] {
				if v != 0 {
					t.Fatal("padding after the end is not silence")
				}
			}
			if want := uint64((tt.samples + audio.FrameSamples - 1) / audio.FrameSamples); s.FramesRead() != want {
				t.Errorf("FramesRead = %d, want %d", s.FramesRead(), want)
			}
			if err := s.Read(make([]int16, audio.FrameSamples)); !errors.Is(err, io.EOF) {
				t.Errorf("Read after EOF = %v, want io.EOF again", err)
			}
		})
	}
}

func TestFileSourceLoops(t *testing.T) {
	pcm := ramp(audio.FrameSamples + 100) // wraps mid-frame
	s := started(t, NewPCMSource("loop", pcm, FileOptions{Loop: true}))
	got, err := readAll(s, audio.FrameSamples, 10*len(pcm))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != pcm[i%len(pcm)] {
			t.Fatalf("sample %d = %d, want %d: the loop has a gap or a jump", i, v, pcm[i%len(pcm)])
		}
	}
}

func TestFileSourceStopStart(t *testing.T) {
	pcm := ramp(10 * audio.FrameSamples)
	s := NewPCMSource("clip", pcm, FileOptions{})
	t.Cleanup(func() { s.Close() })
	buf := make([]int16, audio.FrameSamples)
	if err := s.Read(buf); !errors.Is(err, audio.ErrStopped) {
		t.Fatalf("Read before Start = %v, want audio.ErrStopped (a source opens stopped)", err)
	}
	started(t, s)
	if err := s.Read(buf); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Read(buf); !errors.Is(err, audio.ErrStopped) {
			t.Fatalf("Read while stopped = %v, want audio.ErrStopped", err)
		}
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Read(buf); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(buf, pcm[audio.FrameSamples:2*audio.FrameSamples]) {
		t.Fatalf("after restart read starts at %d, want the second frame: nothing is consumed while stopped", buf[0])
	}
	if s.FramesRead() != 2 {
		t.Errorf("FramesRead = %d, want 2", s.FramesRead())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := s.Read(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close = %v, want ErrClosed", err)
	}
	if err := s.Start(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestFileSourceRealtimePacing(t *testing.T) {
	const frames = 10
	s := started(t, NewPCMSource("clip", ramp(100*audio.FrameSamples), FileOptions{Realtime: true}))
	begin := time.Now()
	if _, err := readAll(s, audio.FrameSamples, frames*audio.FrameSamples); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: timers never fire early, but a busy machine may
	// fire them late.
	if el := time.Since(begin); el < frames*audio.FrameDuration-time.Millisecond {
		t.Fatalf("%d real-time frames took %v, want at least %v", frames, el, frames*audio.FrameDuration)
	}
}

func TestStopInterruptsPacedRead(t *testing.T) {
	s := started(t, NewPCMSource("clip", ramp(100*audio.FrameSamples), FileOptions{Realtime: true}))
	// A 10 s read can only end early through Stop.
	done := make(chan error, 1)
	go func() { done <- s.Read(make([]int16, 500*audio.FrameSamples)) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.FramesRead() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // poll: the read is under way once a frame is out
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, audio.ErrStopped) {
		t.Fatalf("paced Read interrupted by Stop = %v, want audio.ErrStopped", err)
	}
}

func TestOpenFileResamples(t *testing.T) {
	pcm := make([]int16, 48000) // 1 s at 48 kHz
	s, err := OpenFile(writeWAVFile(t, pcm, 48000), FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Duration() != time.Second {
		t.Fatalf("resampled duration %v, want 1s", s.Duration())
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	notWAV := filepath.Join(dir, "notes.txt")
	os.WriteFile(notWAV, []byte("turn on the lights"), 0o600)
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.wav"), "no such file"},
		{"not a WAV", notWAV, "notes.txt: wav: header"},
	}
	for _, tt := range tests {
		if _, err := OpenFile(tt.path, FileOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: OpenFile error %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	s := started(t, NewPCMSource("clip", ramp(1000), FileOptions{}))
	if err := s.Read(make([]int16, 100)); err == nil || !strings.Contains(err.Error(), "multiple of 320") {
		t.Errorf("Read(100 samples) = %v, want a frame-size error", err)
	}
}

func TestFileSourceReadDoesNotAllocate(t *testing.T) {
	s := started(t, NewPCMSource("clip", ramp(10*audio.FrameSamples), FileOptions{Loop: true}))
	buf := make([]int16, audio.FrameSamples)
	if a := testing.AllocsPerRun(100, func() { _ = s.Read(buf) }); a != 0 {
		t.Fatalf("Read allocated %.1f times per frame, want 0", a)
	}
}

func TestOpenFileStreamsFromDisk(t *testing.T) {
	pcm := ramp(50*audio.FrameSamples + 100) // wraps mid-frame when looping
	s, err := OpenFile(writeWAVFile(t, pcm, audio.SampleRate), FileOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.pcm != nil || s.file == nil {
		t.Fatal("a 16 kHz file was loaded into memory instead of streamed")
	}
	if s.Duration() != time.Duration(len(pcm))*time.Second/audio.SampleRate {
		t.Errorf("Duration = %v", s.Duration())
	}
	started(t, s)
	got, err := readAll(s, audio.FrameSamples, 3*len(pcm))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != pcm[i%len(pcm)] {
			t.Fatalf("sample %d = %d, want %d", i, v, pcm[i%len(pcm)])
		}
	}
	buf := make([]int16, audio.FrameSamples)
	if a := testing.AllocsPerRun(100, func() { _ = s.Read(buf) }); a != 0 {
		t.Fatalf("streaming Read allocated %.1f times per frame, want 0", a)
	}
}

func TestOpenFileStreamingHeaders(t *testing.T) {
	pcm := ramp(7 * audio.FrameSamples)
	path := writeWAVFile(t, pcm, audio.SampleRate)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("data"))
	// A recorder that did not know the length (arecord, sox to a pipe).
	unknown := slices.Clone(data)
	binary.LittleEndian.PutUint32(unknown[i+4:], 0xFFFFFFFF)
	p1 := filepath.Join(t.TempDir(), "unknown.wav")
	os.WriteFile(p1, unknown, 0o600)
	s, err := OpenFile(p1, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	started(t, s)
	got, err := readAll(s, audio.FrameSamples, 1<<20)
	s.Close()
	if !errors.Is(err, io.EOF) || !slices.Equal(got, pcm) {
		t.Errorf("unknown-length file: %d samples, %v", len(got), err)
	}
	// A file cut short is refused at open, not mid-stream.
	p2 := filepath.Join(t.TempDir(), "cut.wav")
	os.WriteFile(p2, data[:len(data)-100], 0o600)
	if _, err := OpenFile(p2, FileOptions{}); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated file: %v", err)
	}
}
