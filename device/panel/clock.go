package panel

import "time"

// Clock tells the time. Tests pass a fake one so that "held for five
// seconds" does not take five seconds of wall time.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
