package retention

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Store is an open retention store. All methods are safe for concurrent use;
// one mutex owns the state and every disk write happens under it.
type Store struct {
	mu      sync.Mutex
	dir     string
	opts    Options
	log     *slog.Logger
	clk     *clock
	master  cipher.AEAD
	lock    *os.File
	idx     *os.File
	hdr     header
	hdrNext int // header copy the next write goes to
	window  time.Duration

	slots  int64    // slot positions in the index file
	owner  []*entry // owner[slot], nil when free
	free   slotHeap
	byID   map[recordID]*entry
	byTime []*entry // sorted by (time, id)
	segs   map[uint32]*segment
	cur    *segment // segment appends go to; nil until the first append
	next   uint32   // id of the next segment
	bytes  int64
	lastID recordID // newest id handed out, to keep ids in append order
	buf    []byte   // scratch for sealing, reused so Append does not allocate per sample

	// fault, when set by tests, is consulted before each write of record
	// data ("segment", "slot") and each index fsync ("fsync") to stand in for a full disk where a tmpfs
	// cannot be mounted.
	fault func(op string) error

	outbox      []Receipt     // receipts the hub has not acknowledged (outbox.go)
	lastPersist time.Duration // monotonic time the high-water mark was last written
	broken      error         // set when an index fsync failed: state on disk unknown
	closed      bool
	kick        chan struct{}
	done        chan struct{}
}

type entry struct {
	slotEntry
	slot int64
}

func (e *entry) bytes() int64 { return int64(e.length) + slotSize }

type segment struct {
	id    uint32
	size  int64 // bytes in the file
	live  int   // live records in it
	first int64 // time of its first record, for rolling by span
	w     *os.File
}

type slotHeap []int64

func (h slotHeap) Len() int           { return len(h) }
func (h slotHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h slotHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *slotHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *slotHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Open opens (creating if needed) the store in dir. It destroys what has
// expired, removes records sealed under a key that is gone (keys: memory
// after a restart, a lost key file), quarantines foreign files, and drops
// damaged or half-written records, reporting receipts to opts.OnReceipt.
func Open(dir string, opts Options) (*Store, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s, pending, err := open(dir, opts)
	if err != nil {
		return nil, err
	}
	s.deliver(pending)
	return s, nil
}

func open(dir string, opts Options) (*Store, []Receipt, error) {
	if dir == "" {
		return nil, nil, errors.New("retention: dir is empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("retention: create dir: %w", err)
	}
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			opts.Logger.Warn("store dir is open to group or others and cannot be fixed", "dir", dir, "mode", st.Mode().Perm(), "err", err)
		}
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("retention: %w", err)
	}
	s := &Store{
		dir:    dir,
		opts:   opts,
		log:    opts.Logger.With("component", "retention", "dir", dir),
		clk:    newClock(opts.Clock, opts.Monotonic),
		lock:   lock,
		byID:   make(map[recordID]*entry),
		segs:   make(map[uint32]*segment),
		window: opts.Window,
		kick:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	pending, err := s.load()
	if err == nil {
		err = s.loadOutbox()
	}
	if err != nil {
		s.closeFiles()
		return nil, nil, fmt.Errorf("retention: open %s: %w", dir, err)
	}
	s.lastPersist = s.clk.mono()
	return s, pending, nil
}

func cmpEntry(a, b *entry) int {
	if a.time != b.time {
		if a.time < b.time {
			return -1
		}
		return 1
	}
	for i := range a.id {
		if a.id[i] != b.id[i] {
			return int(a.id[i]) - int(b.id[i])
		}
	}
	return 0
}

// Close persists the clock high-water mark and releases the store. It is
// idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.done)
	var err error
	if s.broken == nil {
		if err = s.stampHeader(s.clk.now()); err == nil {
			err = s.syncIndex()
		}
	}
	if cerr := s.closeFiles(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("retention: close %s: %w", s.dir, err)
	}
	return nil
}

func (s *Store) closeFiles() error {
	var err error
	if s.cur != nil && s.cur.w != nil {
		err = s.cur.w.Close()
		s.cur.w = nil
	}
	if s.idx != nil {
		if cerr := s.idx.Close(); err == nil {
			err = cerr
		}
		s.idx = nil
	}
	if s.lock != nil {
		unlockDir(s.lock)
		s.lock = nil
	}
	return err
}

// deliver hands receipts of automatic deletions to OnReceipt and the log.
// It must be called without s.mu held.
func (s *Store) deliver(rs []Receipt) {
	for _, rc := range rs {
		s.log.Info("records destroyed", "scope", rc.Scope, "records", rc.Records, "bytes", rc.Bytes, "receipt", rc.ID)
		if s.opts.OnReceipt != nil {
			s.opts.OnReceipt(rc)
		}
	}
}
