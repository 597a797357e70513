package retention

import (
	"container/heap"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// load brings the on-disk state into memory; see FORMAT.md "Open".
func (s *Store) load() ([]Receipt, error) {
	var key []byte
	keyLost := false
	keyPath := filepath.Join(s.dir, masterKeyFile)
	switch s.opts.Keys {
	case KeysMemory:
		key = randomKey()
	default:
		var err error
		key, keyLost, err = loadMasterKey(s.dir)
		if err != nil {
			return nil, err
		}
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	s.master = aead
	check := keyCheck(key)
	clear(key)

	idxPath := filepath.Join(s.dir, indexFile)
	s.idx, err = os.OpenFile(idxPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := s.idx.Stat()
	if err != nil {
		return nil, err
	}
	raw := make([]byte, st.Size())
	if _, err := s.idx.ReadAt(raw, 0); err != nil {
		return nil, fmt.Errorf("read %s: %w", idxPath, err)
	}
	mode := byte(modeDiskByte)
	if s.opts.Keys == KeysMemory {
		mode = modeMemoryByte
	}

	var pending []Receipt
	fresh := len(raw) < headerSize && isZero(raw)
	if fresh {
		s.hdr = header{mode: mode, keyCheck: check, window: windowUnset}
		raw = nil
	} else {
		hdr, copyIdx, err := decodeHeader(raw)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w; move the store dir away to start empty", idxPath, err)
		}
		s.hdr, s.hdrNext = hdr, 1-copyIdx
		raw = raw[min(headerSize, len(raw)):]
		if hdr.keyCheck != check {
			n := countUsedSlots(raw)
			switch {
			case n == 0:
				// Nothing was sealed under the old key: adopt the new one.
			case hdr.mode == modeMemoryByte || mode == modeMemoryByte || keyLost:
				s.log.Warn("removing records sealed under a key that no longer exists",
					"records", n, "reason", keyLossReason(hdr.mode, mode, keyLost))
				rc, err := s.wipe(n)
				if err != nil {
					return nil, err
				}
				pending = append(pending, rc)
			default:
				return nil, fmt.Errorf("%w: %s does not open %s; restore the matching key file, or remove the store dir to start empty",
					ErrKeyMismatch, keyPath, idxPath)
			}
			raw = nil
			s.hdr.keyCheck, s.hdr.mode = check, mode
		}
	}
	if mode == modeMemoryByte {
		if err := shredFile(keyPath); err != nil {
			return nil, err
		}
	}
	if s.hdr.window != windowUnset && time.Duration(s.hdr.window) < s.window {
		s.window = time.Duration(s.hdr.window)
	}
	s.clk.raise(time.Unix(0, s.hdr.hwm))

	segFiles, err := s.scanDir()
	if err != nil {
		return nil, err
	}
	if err := s.loadSlots(raw, segFiles); err != nil {
		return nil, err
	}
	if n := len(s.byTime); n > 0 {
		s.clk.raise(time.Unix(0, s.byTime[n-1].time))
		s.lastID = s.byTime[n-1].id
	}
	now := s.clk.now()
	s.cleanQuarantine(now)
	rs, err := s.enforceLocked(now)
	if err != nil {
		return nil, err
	}
	pending = append(pending, rs...)
	// Persist the header (new key check, high-water mark) whatever happened.
	if err := s.stampHeader(now); err != nil {
		return nil, err
	}
	if err := s.syncIndex(); err != nil {
		return nil, err
	}
	if fresh {
		if err := syncDir(s.dir); err != nil {
			return nil, err
		}
	}
	return pending, nil
}

func keyLossReason(was, now byte, keyLost bool) string {
	switch {
	case was == modeMemoryByte:
		return "keys: memory and the process that held the key has ended"
	case now == modeMemoryByte:
		return "keys switched from disk to memory"
	case keyLost:
		return "key file " + masterKeyFile + " is missing"
	}
	return ""
}

func countUsedSlots(raw []byte) int {
	n := 0
	for off := 0; off+slotSize <= len(raw); off += slotSize {
		if !isZero(raw[off : off+slotSize]) {
			n++
		}
	}
	return n
}

// loadSlots opens every slot, keeps those that point at intact ranges of
// intact segments, and zeroes the rest: a torn slot write, a slot whose
// record was being deleted, or damage. Zeroing them is what makes sure a
// half-deleted record can never come back.
func (s *Store) loadSlots(raw []byte, segFiles map[uint32]int64) error {
	n := int64(len(raw) / slotSize)
	s.slots = n
	s.owner = make([]*entry, n)
	var bad []int64
	for i := range n {
		b := raw[i*slotSize : (i+1)*slotSize]
		e, err := openSlot(s.master, i, b)
		if errors.Is(err, errSlotFree) {
			continue
		}
		if err == nil {
			size, ok := segFiles[e.seg]
			switch {
			case !ok:
				err = fmt.Errorf("segment %s is missing or damaged", segName(e.seg))
			case e.off+int64(e.length) > size:
				err = fmt.Errorf("segment %s is truncated", segName(e.seg))
			case s.byID[e.id] != nil:
				err = errors.New("duplicate record id")
			}
		}
		if err != nil {
			s.log.Warn("dropping index slot", "slot", i, "reason", err)
			bad = append(bad, i)
			continue
		}
		en := &entry{slotEntry: e, slot: i}
		s.owner[i] = en
		s.byID[e.id] = en
		s.byTime = append(s.byTime, en)
		s.bytes += en.bytes()
		sg := s.segs[e.seg]
		if sg == nil {
			sg = &segment{id: e.seg, size: segFiles[e.seg], first: e.time}
			s.segs[e.seg] = sg
		}
		sg.live++
		sg.first = min(sg.first, e.time)
	}
	slices.SortFunc(s.byTime, cmpEntry)
	for i := n - 1; i >= 0 && s.owner[i] == nil; i-- {
		s.slots = i
	}
	if err := s.zeroSlotRuns(bad); err != nil {
		return err
	}
	// Free slots at the end, and a torn extension of the file (a partial
	// slot that was never acknowledged), are cut off.
	if s.slots != n || len(raw)%slotSize != 0 {
		if err := s.trimIndex(); err != nil {
			return err
		}
	}
	s.owner = s.owner[:s.slots]
	for i := range s.slots {
		if s.owner[i] == nil {
			s.free = append(s.free, i)
		}
	}
	heap.Init(&s.free)
	// Segments no slot refers to hold only destroyed or never-acknowledged
	// records: remove them.
	removed := false
	for id := range segFiles {
		if s.segs[id] == nil {
			s.removeSegmentFile(id)
			removed = true
		}
		s.next = max(s.next, id+1)
	}
	if removed {
		return syncDir(s.dir)
	}
	return nil
}
