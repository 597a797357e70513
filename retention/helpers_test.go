package retention

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fakeClock has a wall clock that tests can jump either way and a monotonic
// clock that only moves forward, like a Pi's.
type fakeClock struct {
	mu   sync.Mutex
	wall time.Time
	mono time.Duration
}

var epoch = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{wall: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *fakeClock) Mono() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

// Advance moves both clocks: real time passing.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = c.wall.Add(d)
	c.mono += d
}

// Jump moves only the wall clock: NTP stepping it, or a bad RTC.
func (c *fakeClock) Jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = c.wall.Add(d)
}

// Set puts the wall clock at t (a boot at 1970, say).
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = t
}

type receiptLog struct {
	mu  sync.Mutex
	all []Receipt
}

func (l *receiptLog) add(rc Receipt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, rc)
}

func (l *receiptLog) get() []Receipt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Receipt(nil), l.all...)
}

// testOptions is a day's window on a fake clock, logging to the test.
func testOptions(t testing.TB, clk *fakeClock, rl *receiptLog) Options {
	o := Options{
		Window:    24 * time.Hour,
		Keys:      KeysDisk,
		Clock:     clk.Now,
		Monotonic: clk.Mono,
		Logger:    slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if rl != nil {
		o.OnReceipt = rl.add
	}
	return o
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

func mustOpen(t testing.TB, dir string, o Options) *Store {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tone makes n samples that differ per seed, so swapped audio is caught.
func tone(n int, seed int) []int16 {
	pcm := make([]int16, n)
	x := uint32(seed)*2654435761 + 1
	for i := range pcm {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		pcm[i] = int16(x)
	}
	return pcm
}

func mustAppend(t testing.TB, s *Store, r Record, pcm []int16) Record {
	t.Helper()
	out, err := s.Append(r, pcm)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return out
}

func ids(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func mustList(t testing.TB, s *Store) []Record {
	t.Helper()
	rs, err := s.List(Filter{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return rs
}

// storeFiles returns every regular file under dir, by relative path.
func storeFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, segPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func pcmBytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		b[2*i], b[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	return b
}

func errIs(err, target error) string {
	if errors.Is(err, target) {
		return ""
	}
	return fmt.Sprintf("error %v, want %v", err, target)
}
