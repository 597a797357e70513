package retention

import (
	"container/heap"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// Record is one stored utterance: what was heard and what it meant. Only
// List, Get and Audio return its content, decrypted in memory.
type Record struct {
	ID         string            // 26-character ULID, sortable by time
	Time       time.Time         // when it was heard
	Duration   time.Duration     // length of the audio
	Transcript string            // what the recogniser heard
	Intent     string            // matched intent, "" when none matched
	Slots      map[string]string // slot values of the intent
	Bytes      int64             // bytes the record holds on disk
}

// Filter selects records for List.
type Filter struct {
	Since  time.Time // at or after this time; zero for no bound
	Before time.Time // strictly before this time; zero for no bound
	Limit  int       // when > 0, only the most recent Limit records
}

const (
	maxSegmentBytes = 64 << 20
	minSegmentSpan  = time.Second
	maxSegmentSpan  = time.Hour
)

// Append stores a record and its audio (16 kHz mono PCM), sealed under a
// fresh key, and returns it with ID, Time, Duration and Bytes filled in.
// r.Time defaults to now and is never later than now; r.Duration defaults to
// the audio length. It returns only once the record is durable. A record
// outside the window is not stored (ErrNotKept, e.g. when the window is 0).
// To stay under MaxBytes the oldest records are destroyed first, with a
// "size" receipt to OnReceipt.
func (s *Store) Append(r Record, pcm []int16) (Record, error) {
	s.mu.Lock()
	out, pending, err := s.appendLocked(&r, pcm)
	s.mu.Unlock()
	s.deliver(pending)
	if err != nil {
		return Record{}, fmt.Errorf("retention: append: %w", err)
	}
	return out, nil
}

func (s *Store) appendLocked(r *Record, pcm []int16) (Record, []Receipt, error) {
	if err := s.usable(); err != nil {
		return Record{}, nil, err
	}
	now := s.clk.now()
	t := r.Time.Round(0).UTC()
	if r.Time.IsZero() || t.After(now) {
		t = now
	}
	if now.Sub(t) >= s.window {
		return Record{}, nil, fmt.Errorf("%w (window %s, record time %s)", ErrNotKept, s.window, t.Format(time.RFC3339))
	}
	if r.Duration == 0 {
		r.Duration = time.Duration(len(pcm)) * time.Second / sampleRate
	}
	if r.Duration < 0 {
		return Record{}, nil, fmt.Errorf("duration %s is negative", r.Duration)
	}
	id := newID(t).after(s.lastID)
	var key [keySize]byte
	rand.Read(key[:])
	defer clear(key[:])
	blob, metaLen, err := sealRecord(s.buf, &key, id, r, pcm)
	s.buf = blob[:0]
	if err != nil {
		return Record{}, nil, err
	}
	size := int64(len(blob)) + slotSize
	if s.opts.MaxBytes > 0 && size > s.opts.MaxBytes {
		return Record{}, nil, fmt.Errorf("%w: %d bytes, max_bytes %d", ErrTooLarge, size, s.opts.MaxBytes)
	}
	pending, err := s.enforceLocked(now)
	if err != nil {
		return Record{}, pending, err
	}
	if s.opts.MaxBytes > 0 && s.bytes+size > s.opts.MaxBytes {
		rc, err := s.evict(size)
		if err != nil {
			return Record{}, pending, err
		}
		pending = append(pending, rc)
	}

	sg, err := s.segmentFor(t.UnixNano(), int64(len(blob)))
	if err != nil {
		return Record{}, pending, err
	}
	off := sg.size
	if err := s.injected("segment"); err != nil {
		return Record{}, pending, fmt.Errorf("write segment %s: %w", segName(sg.id), err)
	}
	if _, err := sg.w.WriteAt(blob, off); err != nil {
		sg.w.Truncate(off)
		return Record{}, pending, fmt.Errorf("write segment %s: %w", segName(sg.id), err)
	}
	if err := fdatasync(sg.w); err != nil {
		// The segment's state on disk is unknown: never append to it again.
		s.retireCurrent()
		return Record{}, pending, fmt.Errorf("sync segment %s: %w", segName(sg.id), err)
	}
	sg.size += int64(len(blob))

	e := &entry{slotEntry: slotEntry{
		id: id, time: t.UnixNano(), dur: int64(r.Duration), seg: sg.id, off: off,
		length: uint32(len(blob)), metaLen: uint32(metaLen), key: key,
	}}
	e.slot = s.takeSlot()
	var b [slotSize]byte
	sealSlot(s.master, e.slot, &e.slotEntry, b[:])
	err = s.injected("slot")
	if err == nil {
		_, err = s.idx.WriteAt(b[:], headerSize+e.slot*slotSize)
	}
	if err == nil {
		err = s.stampHeader(now)
	}
	if err != nil {
		// Take the slot back so a later fsync cannot make a record durable
		// that the caller was told failed.
		s.idx.WriteAt(zeros[:slotSize], headerSize+e.slot*slotSize)
		heap.Push(&s.free, e.slot)
		return Record{}, pending, fmt.Errorf("write index slot: %w", err)
	}
	if err := s.syncIndex(); err != nil {
		return Record{}, pending, err
	}

	s.owner[e.slot] = e
	s.byID[id] = e
	s.lastID = id
	i := sort.Search(len(s.byTime), func(i int) bool { return cmpEntry(s.byTime[i], e) > 0 })
	s.byTime = slices.Insert(s.byTime, i, e)
	sg.live++
	s.bytes += e.bytes()
	s.wake()

	out := *r
	out.ID, out.Time, out.Bytes = id.String(), t, e.bytes()
	return out, pending, nil
}

func (s *Store) injected(op string) error {
	if s.fault == nil {
		return nil
	}
	return s.fault(op)
}

func (s *Store) usable() error {
	if s.closed {
		return ErrClosed
	}
	return s.broken
}

// takeSlot returns the lowest free slot, growing the index when none is.
func (s *Store) takeSlot() int64 {
	for s.free.Len() > 0 {
		i := heap.Pop(&s.free).(int64)
		if i < s.slots && s.owner[i] == nil {
			return i
		}
	}
	s.owner = append(s.owner, nil)
	s.slots++
	return s.slots - 1
}

// segmentSpan is how much time one segment covers: about 1/32 of the
// ceiling, so expiry unlinks whole segments and the count stays small.
func (s *Store) segmentSpan() int64 {
	return int64(min(max(s.opts.Window/32, minSegmentSpan), maxSegmentSpan))
}

// segmentFor returns the segment a record of n bytes at time t goes to,
// starting a new one when the current one is full or spans too long.
func (s *Store) segmentFor(t, n int64) (*segment, error) {
	if c := s.cur; c != nil && c.w != nil && t-c.first < s.segmentSpan() && (c.live == 0 || c.size+n <= maxSegmentBytes) {
		return c, nil
	}
	s.retireCurrent()
	id := s.next
	path := filepath.Join(s.dir, segName(id))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	s.next++
	_, err = f.Write(encodeSegHeader(id))
	if err == nil {
		err = fdatasync(f)
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create segment %s: %w", segName(id), err)
	}
	sg := &segment{id: id, size: segHeaderSize, first: t, w: f}
	s.segs[id] = sg
	s.cur = sg
	return sg, nil
}

// retireCurrent stops appending to the current segment.
func (s *Store) retireCurrent() {
	if s.cur == nil {
		return
	}
	if s.cur.w != nil {
		s.cur.w.Close()
		s.cur.w = nil
	}
	if s.cur.live == 0 {
		delete(s.segs, s.cur.id)
		s.removeSegmentFile(s.cur.id)
	}
	s.cur = nil
}

// wake tells Run that the next expiry may have changed.
func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
