package hub

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestFormatWindow(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{24 * time.Hour, "24h"},
		{2 * time.Hour, "2h"},
		{90 * time.Minute, "1h30m"},
		{45 * time.Second, "45s"},
		{7 * 24 * time.Hour, "168h"},
		{time.Hour + time.Second, "1h1s"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tc := range tests {
		if got := FormatWindow(tc.d); got != tc.want {
			t.Errorf("FormatWindow(%v) = %q, want %q", tc.d, got, tc.want)
		}
		if tc.d%time.Second == 0 {
			back, err := ParseWindow(FormatWindow(tc.d))
			if err != nil || back != tc.d {
				t.Errorf("ParseWindow(FormatWindow(%v)) = %v, %v", tc.d, back, err)
			}
		}
	}
}

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"2h", 2 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"1d", 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"0", 0, false},
		{"0s", 0, false},
		{"", 0, true},
		{"-1h", 0, true},
		{"1d-1h", 0, true},
		{"d", 0, true},
		{"1.5d", 0, true},
		{"2 hours", 0, true},
		{"99999999d", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseWindow(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestJitterSpreadsBackoff(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 30 * time.Second} {
		seen := map[time.Duration]bool{}
		for i := range 200 {
			rnd := rand.New(rand.NewPCG(uint64(i), 1)).Int64N
			j := jitter(d, rnd)
			if j < d/2 || j >= d {
				t.Fatalf("jitter(%v) = %v, want within [%v, %v)", d, j, d/2, d)
			}
			seen[j.Round(d/20)] = true
		}
		if len(seen) < 8 {
			t.Errorf("jitter(%v) took only %d distinct values in 200 draws", d, len(seen))
		}
	}
	if j := jitter(0, rand.Int64N); j != 0 {
		t.Errorf("jitter(0) = %v", j)
	}
}
