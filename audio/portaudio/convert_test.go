//go:build cgo && !noportaudio

package portaudio

import (
	"fmt"
	"testing"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture/resample"
	"github.com/earshot/earshot/audio/portaudio/alsatest"
)

// TestInputConvertsDeviceFormat records through ALSA at formats a USB
// microphone's hardware device offers and checks Read still delivers the
// same 16 kHz mono signal a batch conversion of the file gives.
func TestInputConvertsDeviceFormat(t *testing.T) {
	tests := []struct {
		rate, channels int
	}{
		{48000, 2},
		{44100, 1},
		{16000, 2},
		{8000, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dHz_%dch", tt.rate, tt.channels), func(t *testing.T) {
			mono := chirpyNoise(tt.rate*6/10, 5)  // 0.6 s
			other := chirpyNoise(tt.rate*6/10, 6) // an unrelated right channel, so averaging shows
			dev := make([]int16, 0, len(mono)*tt.channels)
			for i, v := range mono {
				dev = append(dev, v)
				if tt.channels == 2 {
					dev = append(dev, other[i])
				}
			}
			if !alsatest.InChild(t, alsatest.Raw(dev)) {
				return
			}
			down := mono
			if tt.channels == 2 {
				down = make([]int16, len(mono))
				for i, v := range mono {
					down[i] = int16((int(v) + int(other[i])) / 2)
				}
			}
			want, err := resample.PCM(down, tt.rate, audio.SampleRate)
			if err != nil {
				t.Fatal(err)
			}
			in, err := OpenInput("default", InputOptions{DeviceRate: tt.rate, DeviceChannels: tt.channels})
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			if err := in.Start(); err != nil {
				t.Fatal(err)
			}
			got := make([]int16, audio.SampleRate/2)
			if err := in.Read(got); err != nil {
				t.Fatal(err)
			}
			const edge = 200 // the batch filter renormalises at the file's start
			if c := correlation(got[edge:], want[edge:], 0); c < 0.999 {
				lag, best := bestLag(got[edge:], want[edge:], 0, 100)
				t.Fatalf("correlation with the converted file = %.4f, want >= 0.999 (best %.4f at lag %d)", c, best, lag)
			}
			buf := make([]int16, audio.FrameSamples)
			if a := testing.AllocsPerRun(10, func() {
				if err := in.Read(buf); err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Errorf("converting Read allocated %.1f times per frame, want 0", a)
			}
		})
	}
}

func TestFormatUsable(t *testing.T) {
	tests := []struct {
		f    format
		want bool
		len  int
	}{
		{format{16000, 1}, true, 320},
		{format{44100, 2}, true, 882},
		{format{48000, 1}, true, 960},
		{format{11025, 1}, false, 220}, // 220.5 samples per 20 ms
		{format{0, 1}, false, 0},
		{format{16000, 0}, false, 320},
	}
	for _, tt := range tests {
		if got := tt.f.usable(); got != tt.want {
			t.Errorf("%+v usable = %v, want %v", tt.f, got, tt.want)
		}
		if got := tt.f.frameLen(); got != tt.len {
			t.Errorf("%+v frameLen = %d, want %d", tt.f, got, tt.len)
		}
	}
}

// BenchmarkConvert measures turning one 20 ms device frame into pipeline
// audio, for the formats USB microphones offer; cpu-% is the share of one
// core it takes in real time.
func BenchmarkConvert(b *testing.B) {
	for _, f := range []format{{48000, 2}, {44100, 1}, {16000, 2}} {
		b.Run(fmt.Sprintf("%dHz_%dch", f.rate, f.channels), func(b *testing.B) {
			c, err := newConverter(f)
			if err != nil {
				b.Fatal(err)
			}
			frame := chirpyNoise(f.frameLen()*f.channels, 1)
			out := make([]int16, audio.FrameSamples)
			b.ReportAllocs()
			for b.Loop() {
				c.push(frame)
				for c.ready() {
					c.pop(out)
				}
			}
			perFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(100*perFrame/float64(audio.FrameDuration.Nanoseconds()), "cpu-%")
		})
	}
}
