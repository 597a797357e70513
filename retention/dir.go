package retention

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const quarantineDir = "quarantine"

// scanDir returns the intact segments and their sizes. Damaged segments and
// files the store does not know are moved to quarantine/ and logged; a
// segment that holds less than a header is a creation cut short by a crash
// and is just removed.
func (s *Store) scanDir() (map[uint32]int64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	segs := make(map[uint32]int64)
	for _, de := range ents {
		name := de.Name()
		switch name {
		case lockFile, indexFile, masterKeyFile, quarantineDir, outboxFile:
			continue
		case outboxFile + ".tmp":
			// A queue write cut short; the queue itself is intact.
			os.Remove(filepath.Join(s.dir, name))
			continue
		case masterKeyFile + ".tmp":
			if err := shredFile(filepath.Join(s.dir, name)); err != nil {
				return nil, err
			}
			continue
		}
		id, ok := parseSegName(name)
		if ok {
			// Never reuse the number of a segment seen here, even one that
			// is quarantined or removed below.
			s.next = max(s.next, id+1)
		}
		if !ok || !de.Type().IsRegular() {
			s.quarantine(name, "not a file of this store")
			continue
		}
		path := filepath.Join(s.dir, name)
		f, size, err := openSegmentFile(path, id)
		if err == nil {
			f.Close()
			segs[id] = size
			continue
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if st, serr := os.Stat(path); serr == nil && st.Size() <= segHeaderSize {
			s.log.Debug("removing segment cut short at creation", "segment", name)
			s.removeSegmentFile(id)
			continue
		}
		s.quarantine(name, "damaged segment: "+err.Error())
	}
	return segs, nil
}

// quarantine moves a file out of the way so it is neither trusted nor lost.
// Its name starts with the time it was moved; it is deleted once that is
// older than the window, so quarantine never outlives retention.
func (s *Store) quarantine(name, reason string) {
	qdir := filepath.Join(s.dir, quarantineDir)
	if err := os.MkdirAll(qdir, 0o700); err != nil {
		s.log.Error("cannot create quarantine dir", "err", err)
		return
	}
	dst := fmt.Sprintf("%d-%s", s.clk.now().UnixNano(), name)
	if err := os.Rename(filepath.Join(s.dir, name), filepath.Join(qdir, dst)); err != nil {
		s.log.Error("cannot quarantine file", "file", name, "err", err)
		return
	}
	s.log.Warn("quarantined file", "file", name, "as", filepath.Join(quarantineDir, dst), "reason", reason)
}

func (s *Store) cleanQuarantine(now time.Time) {
	qdir := filepath.Join(s.dir, quarantineDir)
	ents, err := os.ReadDir(qdir)
	if err != nil {
		return
	}
	for _, de := range ents {
		stamp, _, _ := strings.Cut(de.Name(), "-")
		ns, err := strconv.ParseInt(stamp, 10, 64)
		if err != nil || now.Sub(time.Unix(0, ns)) >= s.window {
			if err := os.RemoveAll(filepath.Join(qdir, de.Name())); err != nil {
				s.log.Warn("cannot remove quarantined file", "file", de.Name(), "err", err)
			}
		}
	}
}

func (s *Store) removeSegmentFile(id uint32) {
	path := filepath.Join(s.dir, segName(id))
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("cannot remove segment", "segment", segName(id), "err", err)
	}
}
