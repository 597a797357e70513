package retention

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Delete destroys the records with the given ids and returns once their
// keys are destroyed and fsynced. Every id is checked first: a malformed id
// deletes nothing. Ids that are unknown or already expired are reported with
// an error wrapping ErrNotFound, alongside the receipt for the rest.
func (s *Store) Delete(ids ...string) (Receipt, error) {
	parsed := make([]recordID, len(ids))
	for i, id := range ids {
		rid, err := parseID(id)
		if err != nil {
			return Receipt{}, fmt.Errorf("retention: delete: %w", err)
		}
		parsed[i] = rid
	}
	return s.deleteWith(ScopeRecord, func() ([]*entry, error) {
		var victims []*entry
		var missing []string
		seen := make(map[recordID]bool)
		for i, rid := range parsed {
			e := s.byID[rid]
			switch {
			case seen[rid]:
			case e == nil:
				missing = append(missing, ids[i])
			default:
				victims = append(victims, e)
			}
			seen[rid] = true
		}
		if len(missing) > 0 {
			return victims, fmt.Errorf("%w: %s", ErrNotFound, strings.Join(missing, ", "))
		}
		return victims, nil
	})
}

// DeleteAll destroys every record, then replaces the master key, so even
// stale copies of the index that flash wear-levelling may keep no longer
// open under any key the device holds.
func (s *Store) DeleteAll() (Receipt, error) {
	rc, err := s.deleteWith(ScopeAll, func() ([]*entry, error) { return slices.Clone(s.byTime), nil })
	if err != nil {
		return rc, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) == 0 && s.usable() == nil {
		if err := s.rekeyEmpty(); err != nil {
			s.log.Error("records deleted but the master key was not replaced", "err", err)
		}
	}
	return rc, nil
}

// DeleteBefore destroys every record stored strictly before t.
func (s *Store) DeleteBefore(t time.Time) (Receipt, error) {
	return s.deleteWith(ScopeBefore, func() ([]*entry, error) {
		n := sort.Search(len(s.byTime), func(i int) bool { return s.byTime[i].time >= t.UnixNano() })
		return slices.Clone(s.byTime[:n]), nil
	})
}

// DeleteSince destroys every record stored at or after t ("delete
// everything I said today").
func (s *Store) DeleteSince(t time.Time) (Receipt, error) {
	return s.deleteWith(ScopeSince, func() ([]*entry, error) {
		n := sort.Search(len(s.byTime), func(i int) bool { return s.byTime[i].time >= t.UnixNano() })
		return slices.Clone(s.byTime[n:]), nil
	})
}

func (s *Store) deleteWith(scope Scope, pick func() ([]*entry, error)) (Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return Receipt{}, fmt.Errorf("retention: delete %s: %w", scope, err)
	}
	victims, perr := pick()
	rc, err := s.destroy(victims, scope)
	if err != nil {
		return Receipt{}, fmt.Errorf("retention: delete %s: %w", scope, err)
	}
	s.wake()
	if perr != nil {
		return rc, fmt.Errorf("retention: delete %s: %w", scope, perr)
	}
	return rc, nil
}

// SetWindow sets the effective window to d, which may not exceed the
// configured ceiling. It persists across restarts (capped by the ceiling
// then in force), destroys what the new window has expired and returns the
// "window" receipt for it.
func (s *Store) SetWindow(d time.Duration) (Receipt, error) {
	if d < 0 || d > s.opts.Window {
		return Receipt{}, fmt.Errorf("retention: window %s: want 0 to the configured ceiling %s", d, s.opts.Window)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return Receipt{}, fmt.Errorf("retention: set window: %w", err)
	}
	now := s.clk.now()
	s.window = d
	s.hdr.window = int64(d)
	if err := s.stampHeader(now); err != nil {
		return Receipt{}, fmt.Errorf("retention: set window: %w", err)
	}
	if err := s.syncIndex(); err != nil {
		return Receipt{}, fmt.Errorf("retention: set window: %w", err)
	}
	rc, err := s.destroy(slices.Clone(s.byTime[:s.expiredPrefix(now)]), ScopeWindow)
	if err != nil {
		return Receipt{}, fmt.Errorf("retention: set window: %w", err)
	}
	s.wake()
	return rc, nil
}

// SetCeiling lowers the configured ceiling to c, as a reload of a config
// with a shorter window does, and destroys what that expires. The window
// in force stays the shorter of the ceiling and the one SetWindow set, so
// a reload never undoes a window the hub shortened. c is not persisted
// (the config says it again at the next Open), and a running store's
// ceiling is never raised: that takes a restart.
func (s *Store) SetCeiling(c time.Duration) (Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c < 0 || c > s.opts.Window {
		return Receipt{}, fmt.Errorf("retention: ceiling %s: a running store's ceiling can only be lowered (it is %s); restart to raise it", c, s.opts.Window)
	}
	if err := s.usable(); err != nil {
		return Receipt{}, fmt.Errorf("retention: set ceiling: %w", err)
	}
	s.opts.Window = c
	s.window = c
	if set := time.Duration(s.hdr.window); s.hdr.window != windowUnset && set < c {
		s.window = set
	}
	now := s.clk.now()
	rc, err := s.destroy(slices.Clone(s.byTime[:s.expiredPrefix(now)]), ScopeWindow)
	if err != nil {
		return Receipt{}, fmt.Errorf("retention: set ceiling: %w", err)
	}
	s.wake()
	return rc, nil
}

// Enforce destroys what has expired at now (or at the store's own clock if
// that is later, so a stale now cannot extend retention) and what exceeds
// MaxBytes, returning the receipts. Run calls it on a timer.
func (s *Store) Enforce(now time.Time) ([]Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return nil, fmt.Errorf("retention: enforce: %w", err)
	}
	eff := s.clk.now()
	if now.After(eff) {
		eff = now
	}
	rs, err := s.enforceLocked(eff)
	if err != nil {
		return rs, fmt.Errorf("retention: enforce: %w", err)
	}
	return rs, nil
}

// Run enforces the window until ctx ends or the store is closed. It sleeps
// until the oldest record expires (waking early when records or the window
// change), so expired data is destroyed within moments of expiring, and
// persists the clock high-water mark every HighWaterInterval. Receipts go
// to OnReceipt. It returns an error only when the store can no longer write
// safely (an index fsync failed); reopening the store recovers.
func (s *Store) Run(ctx context.Context) error {
	for {
		wait, err := s.tick()
		if errors.Is(err, ErrClosed) {
			return nil
		}
		if errors.Is(err, errBroken) {
			// The index's state on disk is unknown: only a reopen (a
			// restart of the daemon) can establish it again.
			return fmt.Errorf("retention: %w", err)
		}
		if err != nil {
			s.log.Error("retention enforcement failed; retrying", "err", err)
			wait = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.done:
			t.Stop()
			return nil
		case <-s.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

func (s *Store) tick() (time.Duration, error) {
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	now := s.clk.now()
	rs, err := s.enforceLocked(now)
	if err == nil && s.clk.mono()-s.lastPersist >= s.opts.HighWaterInterval {
		if err = s.stampHeader(now); err == nil {
			err = s.syncIndex()
		}
	}
	wait := s.opts.HighWaterInterval - (s.clk.mono() - s.lastPersist)
	if len(s.byTime) > 0 {
		wait = min(wait, time.Unix(0, s.byTime[0].time).Add(s.window).Sub(now))
	}
	s.mu.Unlock()
	s.deliver(rs)
	return max(wait, 0), err
}

// Purge enforces the window and size cap on the store in dir without a
// daemon (`earshot purge`, run from ExecStartPre/ExecStopPost) and returns
// the receipts of what it destroyed. They are also queued in the store
// (see Undelivered), so the daemon tells the hub at its next start. If the
// daemon has the store open it fails with ErrLocked: the daemon enforces
// the window itself.
func Purge(dir string, opts Options) ([]Receipt, error) {
	var got []Receipt
	user := opts.OnReceipt
	opts.OnReceipt = func(rc Receipt) {
		if rc.Records > 0 {
			got = append(got, rc)
		}
		if user != nil {
			user(rc)
		}
	}
	s, err := Open(dir, opts)
	if err != nil {
		return nil, err
	}
	if len(got) > 0 {
		err = s.queueReceipts(got)
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return got, err
}
