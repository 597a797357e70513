package panel

import (
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Event is what a press of the mute button means.
type Event int

const (
	// ShortPress is a press released before WarnAfter: toggle mute.
	ShortPress Event = iota + 1
	// LongPressStarted is sent while the button is still held, once it has
	// been held for WarnAfter: the LED should warn that the history is about
	// to be wiped.
	LongPressStarted
	// LongPressCancelled is sent when the button is released after
	// LongPressStarted but before LongPress: nothing happens, the LED goes
	// back to its steady state.
	LongPressCancelled
	// LongPress is sent while the button is still held, once it has been held
	// for LongPress: wipe the whole voice history.
	LongPress
)

func (e Event) String() string {
	switch e {
	case ShortPress:
		return "short-press"
	case LongPressStarted:
		return "long-press-started"
	case LongPressCancelled:
		return "long-press-cancelled"
	case LongPress:
		return "long-press"
	}
	return "unknown-event"
}

// pressed is the level of a button wired to ground with the pin pulled up.
const pressed = gpio.Low

// tracker turns timestamped pin levels into press events. It is pure (no
// goroutines, no clock) so that every timing rule is tested exactly.
//
// Debouncing works on timestamps: a level counts once it has persisted for
// the debounce time, and it counts from the moment it first appeared, so the
// hold time is not shortened by the debounce delay. While a release is still
// settling the hold time is frozen at the moment of release, so a release at
// 4.99 s never becomes a wipe just because the contact took a few
// milliseconds to settle.
type tracker struct {
	debounce, warnAfter, longPress time.Duration

	raw      gpio.Level // last level read from the pin
	rawSince time.Time  // when raw last changed
	stable   gpio.Level // debounced level

	pressedAt time.Time
	ignore    bool // held since startup: wait for a release before acting
	warned    bool // LongPressStarted sent for the current press
	fired     bool // LongPress sent for the current press

	events []Event // reused output buffer
}

func newTracker(debounce, warnAfter, longPress time.Duration, level gpio.Level, now time.Time) *tracker {
	t := &tracker{
		debounce:  debounce,
		warnAfter: warnAfter,
		longPress: longPress,
		raw:       level,
		rawSince:  now,
		stable:    level,
	}
	if level == pressed {
		// A button held while the daemon starts (stuck key, a child leaning
		// on it, a reboot loop) must not wipe anything.
		t.ignore = true
		t.pressedAt = now
	}
	return t
}

// observe records the level read at time now (after an edge or a timeout)
// and returns the events that are due. The returned slice is valid until the
// next call.
func (t *tracker) observe(level gpio.Level, now time.Time) []Event {
	t.events = t.events[:0]
	t.advance(now)
	// The same level again means a glitch too short to read back; it does
	// not restart the debounce, or a noisy line could hold a press forever.
	if level != t.raw {
		t.raw = level
		t.rawSince = now
	}
	return t.events
}

func (t *tracker) advance(now time.Time) {
	if t.raw != t.stable && now.Sub(t.rawSince) >= t.debounce {
		if t.raw == pressed {
			t.stable = pressed
			t.pressedAt = t.rawSince
			t.warned, t.fired = false, false
		} else {
			t.hold(t.rawSince)
			t.release()
		}
	}
	if t.stable == pressed {
		end := now
		if t.raw != t.stable {
			end = t.rawSince // release still settling: the hold ended then
		}
		t.hold(end)
	}
}

// hold emits the long-press events due for a press that lasted until end.
func (t *tracker) hold(end time.Time) {
	if t.ignore {
		return
	}
	held := end.Sub(t.pressedAt)
	if !t.warned && held >= t.warnAfter {
		t.warned = true
		t.events = append(t.events, LongPressStarted)
	}
	if !t.fired && held >= t.longPress {
		t.fired = true
		t.events = append(t.events, LongPress)
	}
}

func (t *tracker) release() {
	t.stable = t.raw
	switch {
	case t.ignore:
		t.ignore = false
	case t.fired:
		// The wipe already happened while the button was held.
	case t.warned:
		t.events = append(t.events, LongPressCancelled)
	default:
		t.events = append(t.events, ShortPress)
	}
}

// next returns how long until the tracker has something to decide without
// a new edge, or ok=false if nothing is pending.
func (t *tracker) next(now time.Time) (d time.Duration, ok bool) {
	var at time.Time
	switch {
	case t.raw != t.stable:
		at = t.rawSince.Add(t.debounce)
	case t.stable == pressed && !t.ignore && !t.warned:
		at = t.pressedAt.Add(t.warnAfter)
	case t.stable == pressed && !t.ignore && !t.fired:
		at = t.pressedAt.Add(t.longPress)
	default:
		return 0, false
	}
	return at.Sub(now), true
}
