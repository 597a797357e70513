package retention

import (
	"container/heap"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// zeroChunk bounds the zero buffer used to overwrite slots.
const zeroChunk = 64 << 10

var zeros = make([]byte, zeroChunk) // read-only

// zeroSlotRuns overwrites the given slots with zeros, coalescing runs of
// adjacent slots into one write. The caller syncs the index.
func (s *Store) zeroSlotRuns(slotIdx []int64) error {
	if len(slotIdx) == 0 {
		return nil
	}
	slices.Sort(slotIdx)
	for i := 0; i < len(slotIdx); {
		j := i + 1
		for j < len(slotIdx) && slotIdx[j] == slotIdx[j-1]+1 && (j-i+1)*slotSize <= zeroChunk {
			j++
		}
		off := headerSize + slotIdx[i]*slotSize
		if _, err := s.idx.WriteAt(zeros[:(j-i)*slotSize], off); err != nil {
			return fmt.Errorf("zero index slots: %w", err)
		}
		i = j
	}
	return nil
}

// trimIndex cuts free slots off the end of the index file.
func (s *Store) trimIndex() error {
	if err := s.idx.Truncate(headerSize + s.slots*slotSize); err != nil {
		return fmt.Errorf("trim index: %w", err)
	}
	return nil
}

// stampHeader writes the header (with the high-water mark) into the copy
// that is not the newest. The caller syncs; until then the other copy is
// intact, so a torn header write loses nothing.
func (s *Store) stampHeader(now time.Time) error {
	s.hdr.seq++
	s.hdr.hwm = max(s.hdr.hwm, now.UnixNano())
	var b [headerCopySize]byte
	s.hdr.encode(b[:])
	if _, err := s.idx.WriteAt(b[:], int64(s.hdrNext)*headerCopySize); err != nil {
		return fmt.Errorf("write index header: %w", err)
	}
	s.hdrNext = 1 - s.hdrNext
	return nil
}

var errBroken = errors.New("index fsync failed; reopen the store")

// syncIndex makes index writes durable. A failed fsync leaves the state on
// disk unknown (Linux may drop the dirty pages), so the store refuses
// further writes until it is reopened.
func (s *Store) syncIndex() error {
	err := s.injected("fsync")
	if err == nil {
		err = fdatasync(s.idx)
	}
	if err != nil {
		s.broken = fmt.Errorf("%w: %w", errBroken, err)
		return s.broken
	}
	s.lastPersist = s.clk.mono()
	return nil
}

// destroy deletes victims for good: their slots (and so their keys) are
// zeroed and fsynced first — from that instant the records are unreadable
// and a crash cannot bring them back — then their bytes are punched out of
// segments or whole segments unlinked.
func (s *Store) destroy(victims []*entry, scope Scope) (Receipt, error) {
	now := s.clk.now()
	if s.broken != nil {
		return Receipt{}, s.broken
	}
	rc := Receipt{ID: newID(now).String(), Scope: scope, IDs: []string{}}
	if len(victims) == 0 {
		rc.Time = now
		return rc, nil
	}
	all := len(victims) == len(s.byID)
	if all {
		if err := s.zeroAllSlots(); err != nil {
			return Receipt{}, err
		}
	} else {
		idx := make([]int64, len(victims))
		for i, e := range victims {
			idx[i] = e.slot
		}
		if err := s.zeroSlotRuns(idx); err != nil {
			return Receipt{}, err
		}
	}
	for _, e := range victims {
		s.owner[e.slot] = nil
	}
	top := s.slots
	for s.slots > 0 && s.owner[s.slots-1] == nil {
		s.slots--
	}
	if s.slots != top {
		if err := s.trimIndex(); err != nil {
			return Receipt{}, err
		}
		s.owner = s.owner[:s.slots]
	}
	if err := s.stampHeader(now); err != nil {
		return Receipt{}, err
	}
	if err := s.syncIndex(); err != nil {
		return Receipt{}, err
	}

	// The records are gone; now bring memory in line and reclaim space.
	var oldest, newest int64
	touched := make(map[uint32][]*entry)
	rc.IDs = victimIDs(victims)
	for i, e := range victims {
		if i == 0 || e.time < oldest {
			oldest = e.time
		}
		if i == 0 || e.time > newest {
			newest = e.time
		}
		rc.Bytes += e.bytes()
		delete(s.byID, e.id)
		s.bytes -= e.bytes()
		if e.slot < s.slots {
			heap.Push(&s.free, e.slot)
		}
		touched[e.seg] = append(touched[e.seg], e)
	}
	s.removeFromTimeline(victims, all)
	unlinked := false
	for id, es := range touched {
		sg := s.segs[id]
		if sg == nil {
			continue
		}
		sg.live -= len(es)
		if sg.live <= 0 {
			s.dropSegment(sg)
			unlinked = true
			continue
		}
		s.punch(sg, es)
	}
	if unlinked {
		if err := syncDir(s.dir); err != nil {
			s.log.Warn("segments unlinked but dir not synced", "err", err)
		}
	}
	rc.Records = len(victims)
	o, n := time.Unix(0, oldest).UTC(), time.Unix(0, newest).UTC()
	rc.Oldest, rc.Newest = &o, &n
	rc.Time = s.clk.now()
	return rc, nil
}

// victimIDs names the victims, oldest first. The ids are cut from one
// string, so a deletion of 10k records costs one allocation for them, not
// 10k.
func victimIDs(victims []*entry) []string {
	var text strings.Builder
	text.Grow(idLen * len(victims))
	var buf [idLen]byte
	for _, e := range victims {
		text.Write(e.id.appendText(buf[:0]))
	}
	all := text.String()
	ids := make([]string, len(victims))
	for i := range ids {
		ids[i] = all[i*idLen : (i+1)*idLen]
	}
	slices.Sort(ids) // ids sort by time: oldest first, whatever order the caller named them in
	return ids
}

// zeroAllSlots is the DeleteAll path: overwrite every slot, fsync, then cut
// the file back to its header, so the cost is one sequential write.
func (s *Store) zeroAllSlots() error {
	for off := int64(0); off < s.slots*slotSize; off += zeroChunk {
		n := min(zeroChunk, s.slots*slotSize-off)
		if _, err := s.idx.WriteAt(zeros[:n], headerSize+off); err != nil {
			return fmt.Errorf("zero index: %w", err)
		}
	}
	return s.syncIndex()
}

func (s *Store) removeFromTimeline(victims []*entry, all bool) {
	switch {
	case all:
		clear(s.byTime)
		s.byTime = s.byTime[:0]
	case isPrefix(victims, s.byTime):
		// Expiry and eviction take the oldest: drop the front without
		// moving the rest, so the cost follows what expired.
		clear(s.byTime[:len(victims)])
		s.byTime = s.byTime[len(victims):]
	case len(victims) <= 8:
		for _, e := range victims {
			i := sort.Search(len(s.byTime), func(i int) bool { return cmpEntry(s.byTime[i], e) >= 0 })
			if i < len(s.byTime) && s.byTime[i] == e {
				s.byTime = slices.Delete(s.byTime, i, i+1)
			}
		}
	default:
		s.byTime = slices.DeleteFunc(s.byTime, func(e *entry) bool { return s.byID[e.id] != e })
	}
}

func isPrefix(victims, timeline []*entry) bool {
	if len(victims) > len(timeline) {
		return false
	}
	for i, e := range victims {
		if timeline[i] != e {
			return false
		}
	}
	return true
}

func (s *Store) dropSegment(sg *segment) {
	if sg.w != nil {
		sg.w.Close()
		sg.w = nil
	}
	if s.cur == sg {
		s.cur = nil
	}
	delete(s.segs, sg.id)
	s.removeSegmentFile(sg.id)
}

// punch releases destroyed records' bytes inside a segment that lives on.
// Their keys are already gone; failure here costs only space.
func (s *Store) punch(sg *segment, es []*entry) {
	f := sg.w
	if f == nil {
		var err error
		f, err = os.OpenFile(filepath.Join(s.dir, segName(sg.id)), os.O_WRONLY, 0)
		if err != nil {
			s.log.Warn("cannot open segment to release space", "segment", segName(sg.id), "err", err)
			return
		}
		defer f.Close()
	}
	for _, e := range es {
		if err := punchHole(f, e.off, int64(e.length)); err != nil {
			s.log.Debug("cannot punch hole; space returns when the segment goes", "segment", segName(sg.id), "err", err)
			return
		}
	}
	if err := fdatasync(f); err != nil {
		s.log.Warn("segment sync after releasing space failed", "segment", segName(sg.id), "err", err)
	}
}

// wipe destroys everything at open, when records were sealed under a key
// that no longer exists. n is the number of slots that were in use.
func (s *Store) wipe(n int) (Receipt, error) {
	now := s.clk.now()
	st, _ := s.idx.Stat()
	var bytes int64
	if st != nil {
		bytes = st.Size() - headerSize
		s.slots = max(0, bytes/slotSize)
	}
	if err := s.zeroAllSlots(); err != nil {
		return Receipt{}, err
	}
	s.slots = 0
	if err := s.trimIndex(); err != nil {
		return Receipt{}, err
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return Receipt{}, err
	}
	for _, de := range ents {
		if id, ok := parseSegName(de.Name()); ok {
			if info, err := de.Info(); err == nil {
				bytes += info.Size()
			}
			s.removeSegmentFile(id)
		}
	}
	if err := syncDir(s.dir); err != nil {
		return Receipt{}, err
	}
	// The ids were sealed in the slots under the lost key: this receipt
	// counts the records but cannot name them.
	return Receipt{ID: newID(now).String(), Time: now, Scope: ScopeAll, Records: n, Bytes: bytes, IDs: []string{}}, nil
}

// enforceLocked destroys what the window has expired, then what exceeds
// MaxBytes. Cost grows with what expires: the expired records are a prefix
// of the timeline, found by binary search.
func (s *Store) enforceLocked(now time.Time) ([]Receipt, error) {
	var out []Receipt
	if cut := s.expiredPrefix(now); cut > 0 {
		rc, err := s.destroy(slices.Clone(s.byTime[:cut]), ScopeWindow)
		if err != nil {
			return out, fmt.Errorf("enforce window: %w", err)
		}
		out = append(out, rc)
	}
	if s.opts.MaxBytes > 0 && s.bytes > s.opts.MaxBytes {
		rc, err := s.evict(0)
		if err != nil {
			return out, err
		}
		out = append(out, rc)
	}
	return out, nil
}

func (s *Store) expiredPrefix(now time.Time) int {
	cutoff := now.Add(-s.window).UnixNano()
	return sort.Search(len(s.byTime), func(i int) bool { return s.byTime[i].time > cutoff })
}

// evict destroys the oldest records until need more bytes fit in MaxBytes.
func (s *Store) evict(need int64) (Receipt, error) {
	var victims []*entry
	total := s.bytes
	for _, e := range s.byTime {
		if total+need <= s.opts.MaxBytes {
			break
		}
		victims = append(victims, e)
		total -= e.bytes()
	}
	rc, err := s.destroy(victims, ScopeSize)
	if err != nil {
		return rc, fmt.Errorf("enforce max_bytes: %w", err)
	}
	return rc, nil
}

// visible reports whether e is inside the window at now. Reads check it so
// an expired record is never returned even if the timer has not run yet.
func (s *Store) visible(e *entry, now time.Time) bool {
	return now.UnixNano()-e.time < int64(s.window)
}
