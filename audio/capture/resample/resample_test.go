package resample

import (
	"math"
	"slices"
	"testing"
)

func tone(rate int, hz float64, seconds float64, amp float64) []int16 {
	n := int(float64(rate) * seconds)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return s
}

func rms(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

// toneLevel is the amplitude of the hz component of s (at rate), by
// correlating with a sine and cosine; it ignores the first and last 100
// samples where the kernel is cut short.
func toneLevel(s []int16, rate int, hz float64) float64 {
	var c, q float64
	s = s[100 : len(s)-100]
	for i, v := range s {
		ph := 2 * math.Pi * hz * float64(i) / float64(rate)
		c += float64(v) * math.Cos(ph)
		q += float64(v) * math.Sin(ph)
	}
	return 2 * math.Hypot(c, q) / float64(len(s))
}

func TestPreservesInBandTones(t *testing.T) {
	tests := []struct {
		from, to int
		hz       float64
	}{
		{48000, 16000, 1000},
		{44100, 16000, 3000},
		{22050, 16000, 440},
		{8000, 16000, 1000},
		{16000, 48000, 5000},
	}
	for _, tt := range tests {
		in := tone(tt.from, tt.hz, 0.5, 10000)
		out, err := PCM(in, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(in) * tt.to / tt.from; len(out) != want {
			t.Errorf("%d->%d: %d samples, want %d", tt.from, tt.to, len(out), want)
		}
		if lvl := toneLevel(out, tt.to, tt.hz); math.Abs(lvl-10000) > 300 {
			t.Errorf("%d->%d: %v Hz tone at amplitude %.0f, want about 10000", tt.from, tt.to, tt.hz, lvl)
		}
	}
}

func TestRejectsAliases(t *testing.T) {
	// A 12 kHz tone at 48 kHz is above the 8 kHz Nyquist of 16 kHz; naive
	// decimation would fold it to 4 kHz at full level.
	in := tone(48000, 12000, 0.5, 10000)
	out, err := PCM(in, 48000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	if r := rms(out[100 : len(out)-100]); r > 100 {
		t.Fatalf("12 kHz tone leaked through at RMS %.0f (of 7071), want < 100", r)
	}
}

func TestSameRateCopies(t *testing.T) {
	in := []int16{1, 2, 3}
	out, err := PCM(in, 16000, 16000)
	if err != nil || !slices.Equal(out, in) {
		t.Fatalf("PCM same rate = %v, %v", out, err)
	}
	out[0] = 9
	if in[0] != 1 {
		t.Fatal("same-rate result aliases the input")
	}
}

func TestBadRates(t *testing.T) {
	for _, r := range [][2]int{{0, 16000}, {16000, 0}, {-1, 16000}, {MaxRate + 1, 16000}} {
		if _, err := PCM([]int16{1}, r[0], r[1]); err == nil {
			t.Errorf("PCM(%d -> %d) succeeded, want error", r[0], r[1])
		}
	}
}

func TestEmptyAndFullScale(t *testing.T) {
	if out, err := PCM(nil, 48000, 16000); err != nil || len(out) != 0 {
		t.Fatalf("empty: %v %v", out, err)
	}
	in := make([]int16, 4800)
	for i := range in {
		in[i] = 32767
		if i%2 == 0 {
			in[i] = -32768
		}
	}
	if _, err := PCM(in, 48000, 44100); err != nil {
		t.Fatal(err) // clipping must saturate, not wrap or panic
	}
}
