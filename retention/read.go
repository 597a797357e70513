package retention

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// List returns the records inside the window that match f, oldest first,
// with their transcripts. A record that fails authentication is destroyed,
// logged and left out.
func (s *Store) List(f Filter) ([]Record, error) {
	s.mu.Lock()
	out, pending, err := s.listLocked(f)
	s.mu.Unlock()
	s.deliver(pending)
	return out, err
}

func (s *Store) listLocked(f Filter) ([]Record, []Receipt, error) {
	if err := s.usable(); err != nil {
		return nil, nil, err
	}
	now := s.clk.now()
	var sel []*entry
	for _, e := range s.byTime[s.expiredPrefix(now):] {
		if (!f.Since.IsZero() && e.time < f.Since.UnixNano()) || (!f.Before.IsZero() && e.time >= f.Before.UnixNano()) {
			continue
		}
		sel = append(sel, e)
	}
	if f.Limit > 0 && len(sel) > f.Limit {
		sel = sel[len(sel)-f.Limit:]
	}
	files := make(map[uint32]*os.File)
	defer func() {
		for _, fh := range files {
			fh.Close()
		}
	}()
	out := make([]Record, 0, len(sel))
	var corrupt []*entry
	for _, e := range sel {
		fh := files[e.seg]
		if fh == nil {
			var err error
			fh, err = os.Open(filepath.Join(s.dir, segName(e.seg)))
			if err != nil {
				return nil, nil, fmt.Errorf("retention: list: %w", err)
			}
			files[e.seg] = fh
		}
		rec, err := s.readMeta(fh, e)
		if errors.Is(err, errCorrupt) {
			corrupt = append(corrupt, e)
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("retention: list: %w", err)
		}
		out = append(out, rec)
	}
	pending, err := s.destroyCorrupt(corrupt)
	return out, pending, err
}

func (s *Store) readMeta(fh *os.File, e *entry) (Record, error) {
	plain, err := readPart(fh, &e.slotEntry, partMeta)
	if err != nil {
		return Record{}, fmt.Errorf("record %s: %w", e.id, err)
	}
	rec := Record{ID: e.id.String(), Time: time.Unix(0, e.time).UTC(), Duration: time.Duration(e.dur), Bytes: e.bytes()}
	if err := decodeMeta(plain, &rec); err != nil {
		return Record{}, fmt.Errorf("record %s: %w: %w", e.id, errCorrupt, err)
	}
	return rec, nil
}

// destroyCorrupt removes records whose bytes no longer authenticate: they
// can never be read again, and keeping their keys would serve nothing.
func (s *Store) destroyCorrupt(es []*entry) ([]Receipt, error) {
	if len(es) == 0 {
		return nil, nil
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.id.String()
	}
	s.log.Error("destroying records damaged on disk", "records", ids)
	rc, err := s.destroy(es, ScopeRecord)
	if err != nil {
		return nil, err
	}
	return []Receipt{rc}, nil
}

// lookup finds a readable record by its textual id.
func (s *Store) lookup(id string) (*entry, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rid, err := parseID(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	e := s.byID[rid]
	if e == nil || !s.visible(e, s.clk.now()) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return e, nil
}

// Get returns one record's metadata and transcript.
func (s *Store) Get(id string) (Record, error) {
	rec, _, err := s.read(id, partMeta)
	return rec, err
}

// Audio returns one record's audio, 16 kHz mono PCM.
func (s *Store) Audio(id string) ([]int16, error) {
	_, pcm, err := s.read(id, partAudio)
	return pcm, err
}

func (s *Store) read(id string, part byte) (Record, []int16, error) {
	s.mu.Lock()
	rec, pcm, pending, err := s.readLocked(id, part)
	s.mu.Unlock()
	s.deliver(pending)
	if err != nil {
		return Record{}, nil, fmt.Errorf("retention: read %s: %w", id, err)
	}
	return rec, pcm, nil
}

func (s *Store) readLocked(id string, part byte) (Record, []int16, []Receipt, error) {
	e, err := s.lookup(id)
	if err != nil {
		return Record{}, nil, nil, err
	}
	fh, err := os.Open(filepath.Join(s.dir, segName(e.seg)))
	if err != nil {
		return Record{}, nil, nil, err
	}
	defer fh.Close()
	var rec Record
	var pcm []int16
	if part == partMeta {
		rec, err = s.readMeta(fh, e)
	} else {
		var plain []byte
		if plain, err = readPart(fh, &e.slotEntry, partAudio); err == nil {
			pcm, err = decodePCM(plain)
			clear(plain)
		}
	}
	if errors.Is(err, errCorrupt) {
		pending, derr := s.destroyCorrupt([]*entry{e})
		return Record{}, nil, pending, errors.Join(fmt.Errorf("%w: %w", ErrCorrupt, err), derr)
	}
	return rec, pcm, nil, err
}

// Stats describes the records inside the window.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Window: s.window, Ceiling: s.opts.Window}
	live := s.byTime[s.expiredPrefix(s.clk.now()):]
	st.Records = len(live)
	for _, e := range live {
		st.Bytes += e.bytes()
	}
	if len(live) > 0 {
		o, n := time.Unix(0, live[0].time).UTC(), time.Unix(0, live[len(live)-1].time).UTC()
		st.Oldest, st.Newest = &o, &n
	}
	return st
}
