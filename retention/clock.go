package retention

import "time"

// clock is the store's notion of "now" for expiry. A Raspberry Pi has no
// RTC, so the wall clock may start at 1970 or jump either way. Expiry uses
// max(wall clock, anchor + monotonic time elapsed since the anchor), where
// the anchor starts at the persisted high-water mark: a backward jump of the
// wall clock is ignored (retention never extends), a forward jump is taken
// (early expiry is acceptable).
type clock struct {
	wall       func() time.Time
	mono       func() time.Duration
	anchorWall time.Time
	anchorMono time.Duration
}

func newClock(wall func() time.Time, mono func() time.Duration) *clock {
	if wall == nil {
		wall = time.Now
	}
	if mono == nil {
		start := time.Now()
		mono = func() time.Duration { return time.Since(start) }
	}
	c := &clock{wall: wall, mono: mono}
	c.anchorWall = c.wallNow()
	c.anchorMono = mono()
	return c
}

func (c *clock) wallNow() time.Time { return c.wall().Round(0).UTC() }

// now never goes backwards.
func (c *clock) now() time.Time {
	w, m := c.wallNow(), c.mono()
	est := c.anchorWall.Add(m - c.anchorMono)
	if w.After(est) {
		c.anchorWall, c.anchorMono = w, m
		return w
	}
	return est
}

// raise makes sure now() is at least t from here on (the high-water mark or
// the newest record read at open).
func (c *clock) raise(t time.Time) {
	if t.After(c.now()) {
		c.anchorWall, c.anchorMono = t.Round(0).UTC(), c.mono()
	}
}
