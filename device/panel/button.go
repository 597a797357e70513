package panel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// ButtonOptions configures a Button. Zero values take the defaults.
type ButtonOptions struct {
	// Debounce is how long a level must persist to count (default 30ms).
	Debounce time.Duration
	// WarnAfter is the hold time after which LongPressStarted is sent
	// (default 2s).
	WarnAfter time.Duration
	// LongPress is the hold time after which LongPress is sent (default 5s).
	LongPress time.Duration
	// Poll bounds each wait for an edge, and so how long Run takes to notice
	// that its context ended (default 250ms).
	Poll time.Duration
	// Clock defaults to the system clock.
	Clock Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

const (
	defaultDebounce  = 30 * time.Millisecond
	defaultWarnAfter = 2 * time.Second
	defaultLongPress = 5 * time.Second
	defaultPoll      = 250 * time.Millisecond
	// minWait keeps every WaitForEdge bounded: periph's gpioioctl driver
	// treats a zero timeout as "wait forever".
	minWait = time.Millisecond
)

func (o *ButtonOptions) withDefaults() (ButtonOptions, error) {
	r := *o
	if r.Debounce == 0 {
		r.Debounce = defaultDebounce
	}
	if r.WarnAfter == 0 {
		r.WarnAfter = defaultWarnAfter
	}
	if r.LongPress == 0 {
		r.LongPress = defaultLongPress
	}
	if r.Poll == 0 {
		r.Poll = defaultPoll
	}
	if r.Clock == nil {
		r.Clock = systemClock{}
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	switch {
	case r.Debounce < 0 || r.WarnAfter < 0 || r.LongPress < 0 || r.Poll < 0:
		return r, errors.New("button options: durations must not be negative")
	case r.Debounce >= r.WarnAfter:
		return r, fmt.Errorf("button options: debounce %v must be shorter than warn-after %v", r.Debounce, r.WarnAfter)
	case r.WarnAfter >= r.LongPress:
		return r, fmt.Errorf("button options: warn-after %v must be shorter than long-press %v", r.WarnAfter, r.LongPress)
	}
	if r.Poll < minWait {
		r.Poll = minWait
	}
	return r, nil
}

// Button reads the mute button: a switch from the pin to ground, with the
// pin's internal pull-up, so a press reads Low.
type Button struct {
	pin     gpio.PinIn
	opts    ButtonOptions
	log     *slog.Logger
	running atomic.Bool
	polling bool // owned by Run: edge waits return at once
}

// NewButton configures pin as an input with pull-up and edge detection on
// both edges. A pin that is missing or held by another program fails here,
// with an error naming the pin.
func NewButton(pin gpio.PinIn, opts ButtonOptions) (*Button, error) {
	if pin == nil {
		return nil, errors.New("mute button: no pin")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("mute button %s: %w", pin.Name(), err)
	}
	if err := pin.In(gpio.PullUp, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("mute button %s: configure as input with pull-up and edge detection (is another program using the pin?): %w", pin.Name(), err)
	}
	return &Button{
		pin:  pin,
		opts: o,
		log:  o.Logger.With("component", "panel", "pin", pin.Name()),
	}, nil
}

// Run watches the button until ctx ends and sends each Event to events. It
// blocks while events is full, so the receiver should keep up; it never
// blocks past the end of ctx. It returns nil when ctx ends. A press still
// in progress then is dropped: shutdown never turns into a wipe.
func (b *Button) Run(ctx context.Context, events chan<- Event) error {
	if !b.running.CompareAndSwap(false, true) {
		return errors.New("mute button: Run called twice")
	}
	defer b.running.Store(false)

	clk := b.opts.Clock
	t := newTracker(b.opts.Debounce, b.opts.WarnAfter, b.opts.LongPress, b.pin.Read(), clk.Now())
	if t.ignore {
		b.log.Warn("mute button held at startup; ignoring it until released")
	}
	for ctx.Err() == nil {
		wait := b.opts.Poll
		if d, ok := t.next(clk.Now()); ok && d < wait {
			wait = max(d, minWait)
		}
		start := time.Now()
		if !b.pin.WaitForEdge(wait) && !b.backOff(ctx, wait-time.Since(start), wait) {
			return nil
		}
		// The level is read after every wait, edge or not: the level after
		// an edge is what matters (edges in between are bounce the debounce
		// absorbs), and reading on timeouts too catches a missed interrupt.
		for _, ev := range t.observe(b.pin.Read(), clk.Now()) {
			if ctx.Err() != nil {
				return nil
			}
			b.log.Debug("mute button", "event", ev.String())
			select {
			case events <- ev:
			case <-ctx.Done():
				return nil
			}
		}
	}
	return nil
}

// backOff keeps Run from spinning when the driver's WaitForEdge returns at
// once instead of waiting (edge detection unavailable or broken): the button
// is then polled every wait. It reports false if ctx ended meanwhile.
func (b *Button) backOff(ctx context.Context, early, wait time.Duration) bool {
	if early <= wait/2 {
		return true // it did wait
	}
	if !b.polling {
		b.polling = true
		b.log.Warn("mute button: GPIO edge detection does not wait; polling the pin instead", "every", wait)
	}
	tm := time.NewTimer(early)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}
