package retention

import "time"

// Scope says why records were deleted. The values are part of the hub
// contract (the "scope" field of a receipt) and must not change.
type Scope string

const (
	ScopeRecord Scope = "record" // one or more records by id
	ScopeAll    Scope = "all"    // the whole history
	ScopeBefore Scope = "before" // everything stored before a time
	ScopeSince  Scope = "since"  // everything stored since a time
	ScopeWindow Scope = "window" // expired by the retention window
	ScopeSize   Scope = "size"   // evicted to stay under max_bytes
)

// Receipt is the proof of a deletion: what went, counted, dated and named.
// It is returned only after the data is gone from disk (fsynced) and its
// keys are destroyed. It carries no content of the deleted records: only
// their ids, which are random apart from the millisecond they were stored
// in, and which are the ids of the actions the hub received for them.
type Receipt struct {
	ID      string     `json:"id"`      // id of the receipt itself (sortable)
	Time    time.Time  `json:"time"`    // when the deletion completed
	Scope   Scope      `json:"scope"`   // why
	Records int        `json:"records"` // how many records were destroyed
	Bytes   int64      `json:"bytes"`   // bytes of store files released
	Oldest  *time.Time `json:"oldest"`  // time of the oldest destroyed record, nil if none
	Newest  *time.Time `json:"newest"`  // time of the newest destroyed record, nil if none
	// IDs names every destroyed record, oldest first, whether or not it
	// was understood (a record that matched no intent sent no action, and
	// a hub simply finds nothing under its id). It is empty only when the
	// records were destroyed unread: a wipe at Open because the master key
	// was lost, when the ids themselves were sealed under that key.
	IDs []string `json:"ids"`
}

// Stats describes the store as it is now.
type Stats struct {
	Window  time.Duration // effective window (≤ the configured ceiling)
	Ceiling time.Duration // configured window, the hard ceiling
	Records int
	Bytes   int64
	Oldest  *time.Time // nil when empty
	Newest  *time.Time // nil when empty
}
