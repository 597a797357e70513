//go:build cgo && !noportaudio

package portaudio

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture/resample"
	"github.com/earshot/earshot/audio/portaudio/alsatest"
)

// chirpyNoise is a signal that correlates with itself only at lag 0, so a
// high correlation proves the right samples arrived in the right order.
func chirpyNoise(n int, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]int16, n)
	for i := range s {
		v := 8000*math.Sin(2*math.Pi*float64(i)*float64(i)/float64(40*n)) + 4000*r.NormFloat64()
		s[i] = int16(max(-32768, min(32767, v)))
	}
	return s
}

// correlation is the normalised cross-correlation of a and b[lag:].
func correlation(a, b []int16, lag int) float64 {
	var ab, aa, bb float64
	for i := range a {
		if i+lag < 0 || i+lag >= len(b) {
			continue
		}
		x, y := float64(a[i]), float64(b[i+lag])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// bestLag finds where got sits in src, searching lags minLag..maxLag.
func bestLag(got, src []int16, minLag, maxLag int) (lag int, corr float64) {
	for l := minLag; l <= maxLag; l++ {
		// The direct path is bit-exact when healthy; on wide searches,
		// checking the first samples first keeps them cheap under -race.
		wide := maxLag-minLag > 1000
		if wide && l >= 0 && l+1 < len(src) && (src[l] != got[0] || src[l+1] != got[1]) {
			continue
		}
		if c := correlation(got, src, l); c > corr {
			lag, corr = l, c
		}
	}
	return lag, corr
}

// TestInputThroughALSA reads a known signal through the real PortAudio and
// ALSA stack (ALSA's file plugin stands in for the microphone) and checks
// that it arrives intact, that Stop really stops, and that Start resumes.
func TestInputThroughALSA(t *testing.T) {
	src := chirpyNoise(4*audio.SampleRate, 7)
	if !alsatest.InChild(t, alsatest.Raw(src)) {
		return
	}
	in, err := OpenInput("default", InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })

	buf := make([]int16, audio.FrameSamples)
	if err := in.Read(buf); !errors.Is(err, audio.ErrStopped) {
		t.Fatalf("Read before Start = %v, want audio.ErrStopped (an input opens stopped)", err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	got := make([]int16, 2*audio.SampleRate)
	if err := in.Read(got); err != nil {
		t.Fatal(err)
	}
	if c := correlation(got, src, 0); c < 0.999 {
		lag, best := bestLag(got, src, 0, audio.SampleRate)
		t.Fatalf("correlation with the file at lag 0 = %.4f, want >= 0.999 (best %.4f at lag %d)", c, best, lag)
	}
	if n := in.FramesRead(); n != 100 {
		t.Errorf("FramesRead = %d, want 100", n)
	}

	if err := in.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := in.Read(buf); !errors.Is(err, audio.ErrStopped) {
		t.Fatalf("Read while stopped = %v, want audio.ErrStopped", err)
	}
	if n := in.FramesRead(); n != 100 {
		t.Errorf("FramesRead after a stopped Read = %d, want 100", n)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	more := make([]int16, 10*audio.FrameSamples)
	if err := in.Read(more); err != nil {
		t.Fatal(err)
	}
	// After a restart the stream resumes somewhere later in the file (the
	// driver may drop what it had buffered), never replays earlier audio.
	lag, c := bestLag(more, src, 0, len(src)-len(more))
	if c < 0.999 || lag < len(got) {
		t.Fatalf("after restart: best match %.4f at sample %d, want >= 0.999 at or after %d", c, lag, len(got))
	}

	allocs := testing.AllocsPerRun(20, func() {
		if err := in.Read(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Read allocated %.1f times per frame, want 0", allocs)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	if err := in.Read(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close = %v, want ErrClosed", err)
	}
	if refs := libRefs(); refs != 0 {
		t.Fatalf("%d PortAudio references held after Close, want 0 (Pa_Terminate never runs)", refs)
	}
	// A second input after the library was terminated initialises it again.
	in2, err := OpenInput("default", InputOptions{})
	if err != nil {
		t.Fatalf("reopening after Pa_Terminate: %v", err)
	}
	if refs := libRefs(); refs != 1 {
		t.Errorf("%d PortAudio references with one input open, want 1", refs)
	}
	in2.Close()
}

func libRefs() int {
	lib.mu.Lock()
	defer lib.mu.Unlock()
	return lib.refs
}

// plugDevices are named ALSA devices over the file-backed default, the way
// a Pi's /etc/asound.conf names a USB microphone.
const plugDevices = `
pcm.kitchen-mic {
	type plug
	slave.pcm "default"
}
pcm.kitchen-mic-2 {
	type plug
	slave.pcm "default"
}
`

func TestOpenInputByName(t *testing.T) {
	src := chirpyNoise(audio.SampleRate, 11)
	if !alsatest.InChild(t, alsatest.Raw(src), plugDevices) {
		return
	}
	tests := []struct {
		device   string
		wantName string // resolved device; "" when an error is wanted
		wantErr  string
	}{
		{"default", "default", ""},
		{"DEFAULT", "default", ""},                // case-insensitive
		{"efaul", "default", ""},                  // substring
		{"kitchen-mic", "kitchen-mic", ""},        // exact beats substring
		{"MIC-2", "kitchen-mic-2", ""},            // unique substring
		{"kitchen", "", `"kitchen" is ambiguous`}, // names both
		{"no-such-mic", "", `"no-such-mic" not found; input devices: `},
	}
	for _, tt := range tests {
		t.Run(tt.device, func(t *testing.T) {
			in, err := OpenInput(tt.device, InputOptions{})
			if tt.wantErr != "" {
				if err == nil {
					in.Close()
					t.Fatalf("OpenInput(%q) opened %q, want error containing %q", tt.device, in.Name(), tt.wantErr)
				}
				for _, want := range []string{tt.wantErr, `"kitchen-mic"`, `"kitchen-mic-2"`} {
					if !strings.Contains(err.Error(), want) {
						t.Fatalf("OpenInput(%q) error = %q, want it to contain %q", tt.device, err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenInput(%q) = %v", tt.device, err)
			}
			defer in.Close()
			if in.Name() != tt.wantName {
				t.Fatalf("OpenInput(%q) opened %q, want %q", tt.device, in.Name(), tt.wantName)
			}
			if err := in.Start(); err != nil {
				t.Fatal(err)
			}
			got := make([]int16, 5*audio.FrameSamples)
			if err := in.Read(got); err != nil {
				t.Fatal(err)
			}
			if c := correlation(got, src, 0); c < 0.999 {
				t.Fatalf("%q: correlation with the file = %.4f, want >= 0.999", tt.device, c)
			}
		})
	}
	devs, err := Devices()
	if err != nil {
		t.Fatal(err)
	}
	var sawDefault bool
	for _, d := range devs {
		if d.Name == "default" {
			sawDefault = d.DefaultInput && d.DefaultOutput && d.MaxInputChannels >= 1 && d.HostAPI == "ALSA"
		}
	}
	if !sawDefault {
		t.Fatalf("Devices() = %+v, want the ALSA default device marked as default input and output", devs)
	}
}

func TestPlayThroughALSA(t *testing.T) {
	if !alsatest.InChild(t, nil) {
		return
	}
	pcm := chirpyNoise(audio.SampleRate/2, 3)
	if err := Play(context.Background(), "default", pcm, audio.SampleRate); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(alsatest.ChildFiles().Outfile)
	if err != nil {
		t.Fatal(err)
	}
	out := alsatest.Samples(raw)
	if len(out) < len(pcm) {
		t.Fatalf("device received %d samples, want at least %d", len(out), len(pcm))
	}
	if c := correlation(pcm, out, 0); c < 0.999 {
		t.Fatalf("played audio correlates %.4f with the input, want >= 0.999", c)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Play(ctx, "default", pcm, audio.SampleRate); !errors.Is(err, context.Canceled) {
		t.Fatalf("Play with a cancelled context = %v, want context.Canceled", err)
	}
	if err := Play(context.Background(), "default", pcm, 0); err == nil {
		t.Fatal("Play at 0 Hz succeeded, want an error")
	}
}

// TestPlayConvertsForDevice plays 16 kHz mono to a device that takes only
// 48 kHz stereo, as many USB speakers' hardware devices do.
func TestPlayConvertsForDevice(t *testing.T) {
	if !alsatest.InChild(t, nil) {
		return
	}
	pcm := chirpyNoise(audio.SampleRate/4, 3)
	if err := play(context.Background(), "default", pcm, audio.SampleRate, format{48000, 2}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(alsatest.ChildFiles().Outfile)
	if err != nil {
		t.Fatal(err)
	}
	out := alsatest.Samples(raw)
	left := make([]int16, len(out)/2)
	for i := range left {
		left[i] = out[2*i]
		if out[2*i+1] != out[2*i] {
			t.Fatalf("frame %d: left %d right %d, want mono copied to both channels", i, out[2*i], out[2*i+1])
		}
	}
	want, err := resample.PCM(pcm, audio.SampleRate, 48000)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) < len(want) {
		t.Fatalf("device received %d frames, want at least %d", len(left), len(want))
	}
	if c := correlation(want, left, 0); c < 0.999 {
		t.Fatalf("played audio correlates %.4f with the resampled input, want >= 0.999", c)
	}
}
