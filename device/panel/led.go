package panel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Pattern is what the LED shows. Patterns are built in, not configurable:
// they are part of how the device talks to its owner.
type Pattern int

const (
	// Steady shows the state last given to Set (lit = muted). Blink(Steady)
	// cancels a running pattern.
	Steady Pattern = iota
	// WipeWarning blinks fast (5 Hz) until replaced: the button has been held
	// long enough that keeping it held will wipe the voice history.
	WipeWarning
	// WipeDone goes dark, then blinks three times slowly, then returns to
	// Steady: the voice history is gone.
	WipeDone
)

func (p Pattern) String() string {
	switch p {
	case Steady:
		return "steady"
	case WipeWarning:
		return "wipe-warning"
	case WipeDone:
		return "wipe-done"
	}
	return "unknown-pattern"
}

// step is one phase of a pattern, in units of LEDOptions.Unit.
type step struct {
	on    bool
	units int
}

// steps returns the phases of p and whether they repeat.
func (p Pattern) steps() (phases []step, repeat bool) {
	switch p {
	case WipeWarning:
		return []step{{true, 1}, {false, 1}}, true
	case WipeDone:
		return []step{
			{false, 6},
			{true, 5}, {false, 5},
			{true, 5}, {false, 5},
			{true, 5}, {false, 5},
		}, false
	}
	return nil, false
}

// LEDOptions configures an LED. Zero values take the defaults.
type LEDOptions struct {
	// Unit is the time base of the blink patterns (default 100ms: the
	// warning blinks at 5 Hz, the done blinks last half a second).
	Unit time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// LED drives the mute LED: a pin driving the LED through a resistor to
// ground, so High is lit. Set and Blink only leave a note; Run, the one
// goroutine that owns the pin, acts on it.
type LED struct {
	pin     gpio.PinOut
	unit    time.Duration
	log     *slog.Logger
	running atomic.Bool
	wake    chan struct{} // cap 1: "the wanted state changed"

	// Owned by Run.
	lit     bool // level last written
	failing bool // last write failed

	mu      sync.Mutex
	on      bool    // steady state
	pattern Pattern // current pattern
	seq     uint64  // bumped by each Blink so the same pattern restarts
}

// NewLED claims pin as an output and turns the LED off. A pin held by
// another program fails here, with an error naming the pin.
func NewLED(pin gpio.PinOut, opts LEDOptions) (*LED, error) {
	if pin == nil {
		return nil, errors.New("mute LED: no pin")
	}
	if opts.Unit < 0 {
		return nil, fmt.Errorf("mute LED %s: blink unit %v is negative", pin.Name(), opts.Unit)
	}
	if opts.Unit == 0 {
		opts.Unit = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := pin.Out(gpio.Low); err != nil {
		return nil, fmt.Errorf("mute LED %s: configure as output (is another program using the pin?): %w", pin.Name(), err)
	}
	return &LED{
		pin:  pin,
		unit: opts.Unit,
		log:  opts.Logger.With("component", "panel", "pin", pin.Name()),
		wake: make(chan struct{}, 1),
	}, nil
}

// Set sets the steady state: lit while muted. A running pattern finishes
// first. It never blocks.
func (l *LED) Set(on bool) {
	l.mu.Lock()
	l.on = on
	l.mu.Unlock()
	l.poke()
}

// Blink starts pattern p from its beginning, replacing any running pattern.
// It never blocks.
func (l *LED) Blink(p Pattern) {
	l.mu.Lock()
	l.pattern = p
	l.seq++
	l.mu.Unlock()
	l.poke()
}

func (l *LED) poke() {
	select {
	case l.wake <- struct{}{}:
	default: // a wake-up is already pending; Run reads the latest state
	}
}

func (l *LED) wanted() (on bool, p Pattern, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.on, l.pattern, l.seq
}

// patternDone returns to Steady unless a newer Blink came in meanwhile.
func (l *LED) patternDone(seq uint64) {
	l.mu.Lock()
	if l.seq == seq {
		l.pattern = Steady
	}
	l.mu.Unlock()
}

// Run shows the wanted state until ctx ends, then turns the LED off: a
// stopped daemon shows nothing rather than a state it no longer keeps. It
// returns nil when ctx ends.
func (l *LED) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("mute LED: Run called twice")
	}
	defer l.running.Store(false)
	defer l.out(false)

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	var (
		curSeq  uint64
		phases  []step
		repeat  bool
		phase   int
		blinkOn bool // a pattern phase is running
	)
	for {
		on, p, seq := l.wanted()
		if seq != curSeq {
			// A new Blink (Steady cancels): start from the first phase.
			curSeq = seq
			phases, repeat = p.steps()
			phase = 0
			blinkOn = len(phases) > 0
			if blinkOn {
				l.out(phases[0].on)
				timer.Reset(time.Duration(phases[0].units) * l.unit)
			} else {
				timer.Stop()
			}
		}
		if !blinkOn {
			l.out(on)
		}

		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		case <-timer.C:
			phase++
			if phase == len(phases) && repeat {
				phase = 0
			}
			if phase < len(phases) {
				l.out(phases[phase].on)
				timer.Reset(time.Duration(phases[phase].units) * l.unit)
			} else {
				blinkOn = false
				l.patternDone(curSeq)
			}
		}
	}
}

// out drives the pin when the level changes, logging a failure once until
// the pin works again so a broken LED neither floods the log nor stops the
// daemon.
func (l *LED) out(on bool) {
	if on == l.lit && !l.failing {
		return
	}
	l.lit = on
	lvl := gpio.Low
	if on {
		lvl = gpio.High
	}
	err := l.pin.Out(lvl)
	switch {
	case err != nil && !l.failing:
		l.failing = true
		l.log.Warn("mute LED: set level failed", "err", err)
	case err == nil && l.failing:
		l.failing = false
		l.log.Info("mute LED works again")
	}
}
