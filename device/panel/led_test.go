package panel

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// recordingPin is a gpiotest pin that remembers every level written.
type recordingPin struct {
	*gpiotest.Pin
	mu     sync.Mutex
	levels []gpio.Level
	err    error
}

func (p *recordingPin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.levels = append(p.levels, l)
	return p.Pin.Out(l)
}

func (p *recordingPin) written() []gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.levels)
}

// waitFor polls until cond holds on the written levels, with a deadline.
func (p *recordingPin) waitFor(t *testing.T, what string, cond func([]gpio.Level) bool) []gpio.Level {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := p.written()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("LED never %s; written: %v", what, got)
		}
		time.Sleep(time.Millisecond) // polling, not synchronisation
	}
}

func startLED(t *testing.T, unit time.Duration, before func(*LED)) (*recordingPin, *LED, func()) {
	t.Helper()
	pin := &recordingPin{Pin: &gpiotest.Pin{N: "GPIO27", Num: 27}}
	l, err := NewLED(pin, LEDOptions{Unit: unit})
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("LED Run = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return pin, l, stop
}

func levels(s string) []gpio.Level {
	var out []gpio.Level
	for _, c := range s {
		out = append(out, c == '1')
	}
	return out
}

func TestLEDPatterns(t *testing.T) {
	tests := []struct {
		name  string
		muted bool
		blink Pattern
		want  string // levels written, '1' lit; first is NewLED claiming the pin
	}{
		{"steady off", false, Steady, "0"},
		{"steady on", true, Steady, "01"},
		{"wipe done, unmuted: three blinks then off", false, WipeDone, "0101010"},
		{"wipe done, muted: dark, three blinks, then lit again", true, WipeDone, "01010101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin, _, stop := startLED(t, time.Microsecond, func(l *LED) {
				l.Set(tt.muted)
				if tt.blink != Steady {
					l.Blink(tt.blink)
				}
			})
			want := levels(tt.want)
			got := pin.waitFor(t, "showed "+tt.want, func(l []gpio.Level) bool { return len(l) >= len(want) })
			if !slices.Equal(got[:len(want)], want) {
				t.Fatalf("written %v, want %v", got, want)
			}
			stop()
			got = pin.written()
			// Nothing but the final "off" after the pattern ended.
			extra := got[len(want):]
			if len(extra) > 1 || (len(extra) == 1 && extra[0] != gpio.Low) || got[len(got)-1] != gpio.Low {
				t.Fatalf("written %v: want %v then off at shutdown", got, want)
			}
		})
	}
}

func TestLEDWarningRepeatsUntilCancelled(t *testing.T) {
	pin, l, _ := startLED(t, time.Microsecond, func(l *LED) { l.Blink(WipeWarning) })
	got := pin.waitFor(t, "blinked ten times", func(l []gpio.Level) bool { return len(l) >= 21 })
	for i := 1; i < 21; i++ {
		if got[i] != (i%2 == 1) {
			t.Fatalf("warning is not a regular blink: %v", got)
		}
	}
	// Cancel with the LED lit for mute: it must settle on lit.
	l.Set(true)
	l.Blink(Steady)
	pin.waitFor(t, "returned to steady lit", func(l []gpio.Level) bool {
		return l[len(l)-1] == gpio.High
	})
}

// With a unit of an hour no phase ever ends, so the order of writes is
// exactly the order of requests.
func TestLEDRequests(t *testing.T) {
	pin, l, stop := startLED(t, time.Hour, nil)
	l.Blink(WipeWarning)
	pin.waitFor(t, "started warning", func(l []gpio.Level) bool { return len(l) == 2 })
	l.Blink(Steady)
	pin.waitFor(t, "went back to steady off", func(l []gpio.Level) bool { return len(l) == 3 })
	l.Set(true)
	pin.waitFor(t, "lit for mute", func(l []gpio.Level) bool { return len(l) == 4 })
	stop()
	if got, want := pin.written(), levels("01010"); !slices.Equal(got, want) {
		t.Fatalf("written %v, want %v", got, want)
	}
}

func TestLEDNeverBlocks(t *testing.T) {
	pin := &recordingPin{Pin: &gpiotest.Pin{N: "GPIO27"}}
	l, err := NewLED(pin, LEDOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No Run: requests are only noted.
	for range 1000 {
		l.Set(true)
		l.Blink(WipeWarning)
	}
	if got := pin.written(); !slices.Equal(got, levels("0")) {
		t.Fatalf("written without Run: %v", got)
	}
}

func TestLEDBrokenPinKeepsRunning(t *testing.T) {
	pin, l, stop := startLED(t, time.Hour, nil)
	pin.mu.Lock()
	pin.err = syscall.EIO
	pin.mu.Unlock()
	l.Set(true)
	l.Set(false)
	pin.mu.Lock()
	pin.err = nil
	pin.mu.Unlock()
	l.Set(true)
	pin.waitFor(t, "recovered", func(l []gpio.Level) bool { return len(l) >= 2 && l[len(l)-1] == gpio.High })
	stop()
}

func TestNewLEDErrors(t *testing.T) {
	_, err := NewLED(failingPin{&gpiotest.Pin{N: "GPIO27"}}, LEDOptions{})
	if err == nil || !strings.Contains(err.Error(), "GPIO27") || !errors.Is(err, syscall.EBUSY) {
		t.Errorf("busy pin: err = %v, want one naming GPIO27 and wrapping EBUSY", err)
	}
	if _, err := NewLED(nil, LEDOptions{}); err == nil {
		t.Error("nil pin: no error")
	}
	if _, err := NewLED(&gpiotest.Pin{N: "GPIO27"}, LEDOptions{Unit: -1}); err == nil {
		t.Error("negative unit: no error")
	}
}
