package preroll

import (
	"slices"
	"testing"
	"time"

	"github.com/earshot/earshot/audio"
)

// ramp returns n samples counting up from start, so order mistakes show.
func ramp(start, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(start + i)
	}
	return s
}

func TestNewCapacity(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Millisecond, audio.FrameSamples},
		{20 * time.Millisecond, audio.FrameSamples},
		{21 * time.Millisecond, 2 * audio.FrameSamples},
		{time.Second, audio.SampleRate},
	}
	for _, tt := range tests {
		if got := New(tt.d).Cap(); got != tt.want {
			t.Errorf("New(%v).Cap() = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestWriteSnapshot(t *testing.T) {
	const capFrames = 3
	c := capFrames * audio.FrameSamples
	tests := []struct {
		name   string
		writes []int // lengths of successive writes
	}{
		{"empty", nil},
		{"one frame", []int{320}},
		{"exactly full", []int{320, 320, 320}},
		{"wrapped", []int{320, 320, 320, 320, 320}},
		{"odd sizes", []int{100, 700, 13, 999, 1}},
		{"larger than ring", []int{5000}},
		{"larger after partial", []int{7, 2000}},
		{"zero length", []int{0, 320, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(capFrames * audio.FrameDuration)
			var all []int16
			for _, n := range tt.writes {
				f := ramp(len(all), n)
				all = append(all, f...)
				r.Write(f)
			}
			want := all[max(0, len(all)-c):]
			got := r.Snapshot(nil)
			if !slices.Equal(got, want) {
				t.Fatalf("Snapshot: got %d samples (first %v), want %d (first %v)",
					len(got), head(got), len(want), head(want))
			}
			if r.Len() != len(want) {
				t.Errorf("Len = %d, want %d", r.Len(), len(want))
			}
		})
	}
}

func head(s []int16) []int16 { return s[:min(len(s), 4)] }

func TestSnapshotAppends(t *testing.T) {
	r := New(audio.FrameDuration)
	r.Write([]int16{5, 6})
	got := r.Snapshot([]int16{1, 2})
	if want := []int16{1, 2, 5, 6}; !slices.Equal(got, want) {
		t.Fatalf("Snapshot(prefix) = %v, want %v", got, want)
	}
}

func TestReset(t *testing.T) {
	r := New(audio.FrameDuration)
	r.Write(ramp(1, 500))
	r.Reset()
	if r.Len() != 0 || len(r.Snapshot(nil)) != 0 {
		t.Fatalf("after Reset: Len=%d, want 0", r.Len())
	}
	for i, v := range r.buf {
		if v != 0 {
			t.Fatalf("after Reset buf[%d] = %d, want zeroed memory", i, v)
		}
	}
	r.Write([]int16{9})
	if got := r.Snapshot(nil); !slices.Equal(got, []int16{9}) {
		t.Fatalf("write after Reset: %v", got)
	}
}

func TestZeroCapacity(t *testing.T) {
	r := New(0)
	r.Write(ramp(0, 10))
	if r.Len() != 0 || len(r.Snapshot(nil)) != 0 {
		t.Fatal("zero-capacity ring kept samples")
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	r := New(time.Second)
	f := ramp(0, audio.FrameSamples)
	dst := make([]int16, 0, r.Cap())
	allocs := testing.AllocsPerRun(100, func() {
		r.Write(f)
		dst = r.Snapshot(dst[:0])
	})
	if allocs != 0 {
		t.Fatalf("Write+Snapshot allocated %.1f times per run, want 0", allocs)
	}
}

func BenchmarkWrite(b *testing.B) {
	r := New(time.Second)
	f := ramp(0, audio.FrameSamples)
	b.ReportAllocs()
	b.SetBytes(audio.FrameSamples * 2)
	for b.Loop() {
		r.Write(f)
	}
}
