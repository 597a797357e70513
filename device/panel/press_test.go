package panel

import (
	"slices"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// reading is one input to the tracker: a level read after an edge at an
// offset from the start, or (tick) just the passing of time.
type reading struct {
	at    time.Duration
	level gpio.Level
	tick  bool
}

func edgeAt(at time.Duration, l gpio.Level) reading { return reading{at: at, level: l} }
func tickAt(at time.Duration) reading               { return reading{at: at, tick: true} }

const (
	testDebounce = 20 * time.Millisecond
	testWarn     = 2 * time.Second
	testLong     = 5 * time.Second
	ms           = time.Millisecond
	lo, hi       = gpio.Low, gpio.High
)

// tick returns the events due at now without a new reading.
func (t *tracker) tick(now time.Time) []Event {
	return t.observe(t.raw, now)
}

func runTracker(start gpio.Level, in []reading) []Event {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := newTracker(testDebounce, testWarn, testLong, start, t0)
	var got []Event
	for _, r := range in {
		if r.tick {
			got = append(got, tr.tick(t0.Add(r.at))...)
		} else {
			got = append(got, tr.observe(r.level, t0.Add(r.at))...)
		}
	}
	return got
}

func TestTracker(t *testing.T) {
	tests := []struct {
		name  string
		start gpio.Level
		in    []reading
		want  []Event
	}{
		{"short press", hi, []reading{edgeAt(0, lo), edgeAt(100*ms, hi), tickAt(200 * ms)}, []Event{ShortPress}},
		{"release not yet settled", hi, []reading{edgeAt(0, lo), edgeAt(100*ms, hi), tickAt(119 * ms)}, nil},
		{"release settles at exactly debounce", hi, []reading{edgeAt(0, lo), edgeAt(100*ms, hi), tickAt(120 * ms)}, []Event{ShortPress}},
		{"glitch shorter than debounce is no press", hi, []reading{edgeAt(0, lo), edgeAt(19*ms, hi), tickAt(time.Second)}, nil},
		{"bouncy press and release count once", hi, []reading{
			edgeAt(0, lo), edgeAt(1*ms, hi), edgeAt(2*ms, lo), edgeAt(4*ms, hi), edgeAt(5*ms, lo),
			edgeAt(300*ms, hi), edgeAt(301*ms, lo), edgeAt(303*ms, hi), tickAt(400 * ms),
		}, []Event{ShortPress}},
		{"same level again does not restart debounce", hi, []reading{
			edgeAt(0, lo), edgeAt(15*ms, lo), edgeAt(21*ms, hi), tickAt(100 * ms),
		}, []Event{ShortPress}},
		{"two presses", hi, []reading{
			edgeAt(0, lo), edgeAt(100*ms, hi), edgeAt(500*ms, lo), edgeAt(600*ms, hi), tickAt(time.Second),
		}, []Event{ShortPress, ShortPress}},
		{"warn then cancel", hi, []reading{edgeAt(0, lo), tickAt(2 * time.Second), edgeAt(3*time.Second, hi), tickAt(4 * time.Second)},
			[]Event{LongPressStarted, LongPressCancelled}},
		{"warn exactly at threshold, hold counted from first edge", hi, []reading{edgeAt(0, lo), tickAt(testWarn - ms), tickAt(testWarn)},
			[]Event{LongPressStarted}},
		{"long press fires while held", hi, []reading{edgeAt(0, lo), tickAt(2 * time.Second), tickAt(5 * time.Second)},
			[]Event{LongPressStarted, LongPress}},
		{"release after long press sends nothing more", hi, []reading{edgeAt(0, lo), tickAt(6 * time.Second), edgeAt(7*time.Second, hi), tickAt(8 * time.Second)},
			[]Event{LongPressStarted, LongPress}},
		{"late wake-up still sees the whole hold", hi, []reading{edgeAt(0, lo), edgeAt(10*time.Second, hi)},
			[]Event{LongPressStarted, LongPress}},
		{"release just before threshold is no wipe even if seen late", hi, []reading{
			edgeAt(0, lo), tickAt(2 * time.Second), edgeAt(testLong-ms, hi), tickAt(10 * time.Second),
		}, []Event{LongPressStarted, LongPressCancelled}},
		{"release bounce does not end the hold", hi, []reading{
			edgeAt(0, lo), edgeAt(4*time.Second, hi), edgeAt(4*time.Second+5*ms, lo), tickAt(5 * time.Second),
		}, []Event{LongPressStarted, LongPress}},
		{"held at startup never wipes", lo, []reading{tickAt(time.Minute), edgeAt(2*time.Minute, hi), tickAt(3 * time.Minute)}, nil},
		{"held at startup, then a normal press", lo, []reading{
			edgeAt(time.Second, hi), edgeAt(2*time.Second, lo), edgeAt(2100*ms, hi), tickAt(3 * time.Second),
		}, []Event{ShortPress}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runTracker(tt.start, tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("events = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTrackerNext(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := newTracker(testDebounce, testWarn, testLong, hi, t0)
	if _, ok := tr.next(t0); ok {
		t.Fatalf("idle tracker has a deadline")
	}
	steps := []struct {
		name string
		do   func()
		now  time.Duration
		want time.Duration
	}{
		{"settling press", func() { tr.observe(lo, t0) }, 5 * ms, testDebounce - 5*ms},
		{"waiting to warn", func() { tr.tick(t0.Add(testDebounce)) }, testDebounce, testWarn - testDebounce},
		{"waiting to wipe", func() { tr.tick(t0.Add(testWarn)) }, testWarn, testLong - testWarn},
	}
	for _, s := range steps {
		s.do()
		got, ok := tr.next(t0.Add(s.now))
		if !ok || got != s.want {
			t.Errorf("%s: next = %v, %v; want %v, true", s.name, got, ok, s.want)
		}
	}
	tr.tick(t0.Add(testLong))
	if d, ok := tr.next(t0.Add(testLong)); ok {
		t.Errorf("after the wipe, held button still has a deadline %v", d)
	}
}

// FuzzTracker feeds arbitrary edge sequences (the pin is outside input: a
// noisy line, a cat on the button) and checks that every press produces one
// of the allowed event sequences and that no wipe happens without a warning.
func FuzzTracker(f *testing.F) {
	f.Add(false, []byte{0, 10, 1, 10})
	f.Add(false, []byte{0, 1, 1, 1, 0, 1, 1, 200, 0, 255, 255})
	f.Add(true, []byte{1, 50, 0, 255, 255, 255})
	f.Fuzz(func(t *testing.T, heldAtStart bool, data []byte) {
		start := hi
		if heldAtStart {
			start = lo
		}
		// Each byte: low bit = level (or tick if bit 1 set), rest = delay in
		// units of 5 ms, so sequences span from bounce to long holds.
		var in []reading
		var at time.Duration
		for _, b := range data {
			at += time.Duration(b>>2) * 5 * ms * time.Duration(1+int(b>>7)*20)
			if b&2 != 0 {
				in = append(in, tickAt(at))
			} else {
				in = append(in, edgeAt(at, gpio.Level(b&1 == 1)))
			}
		}
		events := runTracker(start, in)
		// Grammar per press: ShortPress | LongPressStarted (LongPressCancelled | LongPress)
		state := 0 // 0 idle, 1 warned, 2 fired
		for i, ev := range events {
			switch {
			case ev == ShortPress && state != 1:
				state = 0
			case ev == LongPressStarted && state != 1:
				state = 1
			case ev == LongPressCancelled && state == 1:
				state = 0
			case ev == LongPress && state == 1:
				state = 2
			default:
				t.Fatalf("event %d %v not allowed after %v", i, ev, events[:i])
			}
		}
		if heldAtStart && !slices.ContainsFunc(in, func(r reading) bool { return !r.tick && r.level == hi }) {
			// Never released since startup: however long, no event at all.
			if len(events) > 0 {
				t.Fatalf("button held since startup produced %v", events)
			}
		}
	})
}

// BenchmarkTrackerObserve measures the cost of one edge (a bouncing press
// and release), which runs on every GPIO interrupt.
func BenchmarkTrackerObserve(b *testing.B) {
	b.ReportAllocs()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := newTracker(testDebounce, testWarn, testLong, hi, t0)
	seq := []reading{edgeAt(0, lo), edgeAt(ms, hi), edgeAt(2*ms, lo), edgeAt(100*ms, hi), tickAt(200 * ms)}
	events := 0
	at := t0
	for b.Loop() {
		for _, r := range seq {
			if r.tick {
				events += len(tr.tick(at.Add(r.at)))
			} else {
				events += len(tr.observe(r.level, at.Add(r.at)))
			}
		}
		at = at.Add(time.Second)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(seq)), "ns/edge")
	if events != b.N {
		b.Fatalf("%d presses gave %d events", b.N, events)
	}
}
