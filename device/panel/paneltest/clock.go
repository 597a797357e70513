// Package paneltest helps test code that uses the mute button: a clock
// that only moves when the test says, so that "held for five seconds"
// takes no time and no sleep.
package paneltest

import (
	"sync"
	"time"
)

// Clock is a panel.Clock that stands still until Advance.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
