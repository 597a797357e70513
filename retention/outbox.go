package retention

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// The outbox holds the receipts of deletions made while the daemon was
// stopped (`earshot purge` from ExecStartPre/ExecStopPost or the timer):
// nobody has told the hub yet. The daemon publishes them at its next start
// and drops each once the broker has acknowledged it (every part of it).
// A receipt carries counts, times and the deleted records' ids, never
// content, so the file is plain JSON.
const (
	outboxFile = "outbox"
	// outboxMax bounds the queue; a device that never reaches a hub drops
	// the oldest.
	outboxMax = 256
)

var allScopes = []Scope{ScopeRecord, ScopeAll, ScopeBefore, ScopeSince, ScopeWindow, ScopeSize}

func decodeOutbox(data []byte) ([]Receipt, error) {
	var rs []Receipt
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.ID == "" || !slices.Contains(allScopes, r.Scope) || r.Records < 0 || r.Bytes < 0 {
			return nil, fmt.Errorf("receipt %.40q: want an id, a known scope and counts of 0 or more", r.ID)
		}
		for _, id := range r.IDs {
			if _, err := parseID(id); err != nil {
				return nil, fmt.Errorf("receipt %.40q: %w", r.ID, err)
			}
		}
	}
	return rs, nil
}

// loadOutbox reads the queue at Open. A damaged file loses notifications,
// not data: it is quarantined and the queue starts empty.
func (s *Store) loadOutbox() error {
	data, err := os.ReadFile(filepath.Join(s.dir, outboxFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", outboxFile, err)
	}
	rs, err := decodeOutbox(data)
	if err != nil {
		s.quarantine(outboxFile, "damaged queue of receipts for the hub: "+err.Error())
		return nil
	}
	s.outbox = rs
	return nil
}

// writeOutbox replaces the queue on disk, durably, or removes it if empty.
func (s *Store) writeOutbox() error {
	if len(s.outbox) == 0 {
		err := os.Remove(filepath.Join(s.dir, outboxFile))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("retention: remove %s: %w", outboxFile, err)
		}
		return syncDir(s.dir)
	}
	data, err := json.Marshal(s.outbox)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.dir, outboxFile, data)
}

// queueReceipts adds receipts to the outbox, durably.
func (s *Store) queueReceipts(rs []Receipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbox = append(s.outbox, rs...)
	if n := len(s.outbox) - outboxMax; n > 0 {
		s.log.Warn("too many receipts waiting for the hub; dropping the oldest", "dropped", n, "bound", outboxMax)
		s.outbox = slices.Delete(s.outbox, 0, n)
	}
	return s.writeOutbox()
}

// Undelivered returns the receipts of deletions made while the daemon was
// stopped that the hub has not acknowledged yet, oldest first.
func (s *Store) Undelivered() []Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.outbox)
}

// Delivered drops the receipt with this id from the outbox once the hub
// has it. An id that is not queued is ignored.
func (s *Store) Delivered(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.outbox, func(r Receipt) bool { return r.ID == id })
	if i < 0 {
		return nil
	}
	s.outbox = slices.Delete(s.outbox, i, i+1)
	return s.writeOutbox()
}
