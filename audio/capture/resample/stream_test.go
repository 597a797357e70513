package resample

import (
	"math"
	"testing"
)

func TestStreamMatchesPCM(t *testing.T) {
	tests := []struct {
		from, to, chunk int
	}{
		{48000, 16000, 960},
		{48000, 16000, 7},
		{44100, 16000, 882},
		{44100, 16000, 1000},
		{32000, 16000, 640},
		{22050, 16000, 441},
		{8000, 16000, 160},
	}
	for _, tt := range tests {
		in := tone(tt.from, 700, 0.25, 12000)
		for i := range in {
			in[i] += int16(i%97) * 20 // something not band-limited to one tone
		}
		want, err := PCM(in, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewStream(tt.from, tt.to, tt.chunk)
		if err != nil {
			t.Fatal(err)
		}
		var got []int16
		for off := 0; off < len(in); off += tt.chunk {
			got = s.Process(got, in[off:min(off+tt.chunk, len(in))])
		}
		// The stream holds back the last few outputs until more input
		// arrives; everything it has produced must match the batch filter
		// away from the edges, where PCM renormalises a truncated kernel.
		if lag := 2 * s.half * tt.to / tt.from; len(got) < len(want)-lag-2 || len(got) > len(want) {
			t.Fatalf("%d->%d chunk %d: %d samples, want about %d", tt.from, tt.to, tt.chunk, len(got), len(want))
		}
		for i := 3 * s.half; i < len(got); i++ {
			if math.Abs(float64(got[i])-float64(want[i])) > 2 {
				t.Fatalf("%d->%d chunk %d: sample %d = %d, batch gives %d", tt.from, tt.to, tt.chunk, i, got[i], want[i])
			}
		}
	}
}

func TestStreamResetAndAllocs(t *testing.T) {
	s, err := NewStream(48000, 16000, 960)
	if err != nil {
		t.Fatal(err)
	}
	in := tone(48000, 440, 0.02, 10000)
	dst := make([]int16, 0, 1024)
	first := s.Process(nil, in)
	s.Reset()
	for i, v := range s.hist[:cap(s.hist)] {
		if v != 0 {
			t.Fatalf("after Reset the history still holds audio at %d: %v", i, v)
		}
	}
	again := s.Process(nil, in)
	if len(first) != len(again) || first[10] != again[10] {
		t.Fatal("Reset did not return the stream to its initial state")
	}
	if a := testing.AllocsPerRun(100, func() { dst = s.Process(dst[:0], in) }); a != 0 {
		t.Fatalf("Process allocated %.1f times per chunk, want 0", a)
	}
	if len(dst) < 319 || len(dst) > 321 {
		t.Fatalf("960 samples at 48 kHz gave %d at 16 kHz, want 320 +- 1", len(dst))
	}
}

func TestNewStreamRejects(t *testing.T) {
	for _, r := range [][2]int{{0, 16000}, {16000, -1}, {16001, 16000 * 7}} {
		if _, err := NewStream(r[0], r[1], 320); err == nil {
			t.Errorf("NewStream(%d -> %d) succeeded, want error", r[0], r[1])
		}
	}
}
