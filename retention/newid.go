package retention

import "time"

// NewID returns a fresh record id for time t, in the same sortable form as
// the store's own. The daemon uses it to name an action whose recording was
// not kept (a window of 0), so hub and device ids never collide.
func NewID(t time.Time) string { return newID(t).String() }
