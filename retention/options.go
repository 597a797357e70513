package retention

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Options configure a Store. Window and MaxBytes come from the config file
// (retention.window, retention.max_bytes, retention.keys).
type Options struct {
	// Window is the configured retention window: the hard ceiling. Records
	// older than the effective window (≤ Window) are destroyed. 0 keeps
	// nothing at all.
	Window time.Duration
	// MaxBytes caps the bytes held by live records (sealed records plus their
	// index slots); the oldest go first. 0 means no cap.
	MaxBytes int64
	// Keys is KeysDisk (default) or KeysMemory.
	Keys KeyMode
	// Clock is the wall clock (default time.Now). It may jump either way.
	Clock func() time.Time
	// Monotonic returns time elapsed since an arbitrary origin and never
	// jumps (default: Go's monotonic clock). Tests inject it with Clock.
	Monotonic func() time.Duration
	// Logger receives the store's logs; it never sees a transcript or audio.
	Logger *slog.Logger
	// OnReceipt receives receipts of deletions nobody asked for: the window
	// timer, size eviction during Append, and clean-up at Open. Methods that
	// delete on request return their receipt instead. It is called without
	// the store's lock held and must not block for long.
	OnReceipt func(Receipt)
	// HighWaterInterval is how often Run persists the wall-clock high-water
	// mark (default 30s). After a crash and a boot with a wrong clock,
	// retention can extend by at most this much plus the time powered off.
	HighWaterInterval time.Duration
}

// Errors callers branch on.
var (
	// ErrNotFound: no such record, or it has expired.
	ErrNotFound = errors.New("record not found")
	// ErrNotKept: the record falls outside the window (a window of 0 keeps
	// nothing), so it was not stored. Not a failure for the caller.
	ErrNotKept = errors.New("record not kept: outside the retention window")
	// ErrTooLarge: one record is larger than MaxBytes.
	ErrTooLarge = errors.New("record larger than max_bytes")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store closed")
	// ErrLocked: another process (normally the running daemon) has the
	// store open.
	ErrLocked = errors.New("store is in use by another process")
	// ErrKeyMismatch: the key file does not open this store.
	ErrKeyMismatch = errors.New("key file does not match the store")
	// ErrCorrupt: a record failed authentication; it has been destroyed.
	ErrCorrupt = errors.New("record damaged on disk")
)

const (
	defaultHighWaterInterval = 30 * time.Second
	sampleRate               = 16000 // audio.SampleRate: PCM is 16 kHz mono s16
)

func (o *Options) validate() error {
	switch {
	case o.Window < 0:
		return fmt.Errorf("retention: window %s: want 0 or more", o.Window)
	case o.MaxBytes < 0:
		return fmt.Errorf("retention: max_bytes %d: want 0 (no cap) or more", o.MaxBytes)
	case o.Keys != "" && o.Keys != KeysDisk && o.Keys != KeysMemory:
		return fmt.Errorf("retention: keys %q: want %q or %q", o.Keys, KeysDisk, KeysMemory)
	case o.HighWaterInterval < 0:
		return fmt.Errorf("retention: high-water interval %s: want more than 0", o.HighWaterInterval)
	}
	if o.Keys == "" {
		o.Keys = KeysDisk
	}
	if o.HighWaterInterval == 0 {
		o.HighWaterInterval = defaultHighWaterInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
