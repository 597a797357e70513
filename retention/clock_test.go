package retention

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestClockBackwardJump: the wall clock steps back an hour while running.
// The record must still expire a window after it was stored, measured in
// time that really passed, not by the wall clock.
func TestClockBackwardJump(t *testing.T) {
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	o.Window = 2 * time.Hour
	s := mustOpen(t, t.TempDir(), o)
	r := mustAppend(t, s, Record{}, nil)
	clk.Jump(-time.Hour)
	clk.Advance(2*time.Hour - time.Second)
	if _, err := s.Audio(r.ID); err != nil {
		t.Fatalf("inside the window: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := s.Audio(r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after the window (wall clock an hour behind): %v, want ErrNotFound", err)
	}
	rs, err := s.Enforce(time.Time{})
	if err != nil || len(rs) != 1 || rs[0].Records != 1 {
		t.Fatalf("Enforce = %+v, %v", rs, err)
	}
	// A record stored now is stamped with the store's time, not the stale
	// wall clock, so it cannot sort before, or outlive, older ones.
	if r2 := mustAppend(t, s, Record{}, nil); r2.Time.Before(r.Time.Add(2 * time.Hour)) {
		t.Fatalf("record stamped %v, earlier than the store's now", r2.Time)
	}
	// A caller passing a stale time to Enforce cannot extend retention.
	if rs, _ := s.Enforce(epoch.Add(-48 * time.Hour)); len(rs) != 0 {
		t.Fatalf("stale Enforce destroyed %+v", rs)
	}
}

// TestClockForwardJump: NTP steps the clock a day ahead. Records expire
// early, with a window receipt.
func TestClockForwardJump(t *testing.T) {
	clk := newFakeClock(epoch)
	rl := &receiptLog{}
	o := testOptions(t, clk, rl)
	dir := t.TempDir()
	s := mustOpen(t, dir, o)
	r := mustAppend(t, s, Record{}, nil)
	clk.Jump(25 * time.Hour)
	rs, err := s.Enforce(time.Time{})
	if err != nil || len(rs) != 1 || rs[0].Scope != ScopeWindow || rs[0].Records != 1 || !rs[0].Oldest.Equal(r.Time) {
		t.Fatalf("Enforce after a forward jump = %+v, %v", rs, err)
	}
	// The clock comes back: the store keeps its high-water mark, even
	// across a restart.
	clk.Jump(-25 * time.Hour)
	s.Close()
	s = mustOpen(t, dir, o)
	if r2 := mustAppend(t, s, Record{}, nil); r2.Time.Before(epoch.Add(25 * time.Hour)) {
		t.Fatalf("after restart the store's time went back to %v", r2.Time)
	}
}

// TestBootAt1970: a Pi without RTC boots with the clock at 1970 before NTP
// syncs. The persisted high-water mark stands in for the clock, so records
// are neither kept longer nor stamped in 1970.
func TestBootAt1970(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	o.Window = time.Hour
	s := mustOpen(t, dir, o)
	r := mustAppend(t, s, Record{}, tone(10, 1))
	clk.Advance(30 * time.Minute)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	boot := &fakeClock{wall: time.Unix(0, 0)} // new process: monotonic restarts at 0
	o.Clock, o.Monotonic = boot.Now, boot.Mono
	s = mustOpen(t, dir, o)
	if got := ids(mustList(t, s)); !slices.Equal(got, []string{r.ID}) {
		t.Fatalf("at boot: %v", got)
	}
	r2 := mustAppend(t, s, Record{}, nil)
	if r2.Time.Before(epoch.Add(30 * time.Minute)) {
		t.Fatalf("record stamped %v at a 1970 boot", r2.Time)
	}
	boot.Advance(30 * time.Minute)
	if _, err := s.Audio(r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an hour after it was stored (clock still in 1970): %v", err)
	}
	s.Close()
	// `earshot purge` at the next 1970 boot starts from the high-water mark
	// written at Close: the expired record goes, r2 (stored 30 minutes
	// before that mark) stays. Time spent powered off cannot be known.
	rs, err := Purge(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Records != 1 || !rs[0].Oldest.Equal(r.Time) {
		t.Fatalf("purge at a 1970 boot: %+v, want r destroyed", rs)
	}
	s = mustOpen(t, dir, o)
	if got := ids(mustList(t, s)); !slices.Equal(got, []string{r2.ID}) {
		t.Fatalf("after purge: %v, want only %s", got, r2.ID)
	}
}

// TestHighWaterMarkPersisted: Run writes the high-water mark periodically,
// so a crash (no Close) still leaves a recent one behind.
func TestHighWaterMarkPersisted(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	o.HighWaterInterval = time.Millisecond
	s := mustOpen(t, dir, o)
	clk.Advance(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for readHWM(t, dir) < epoch.Add(time.Hour).UnixNano() {
		if time.Now().After(deadline) {
			t.Fatal("high-water mark not persisted by Run")
		}
		time.Sleep(5 * time.Millisecond) // polling the file, with a deadline
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func readHWM(t *testing.T, dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := decodeHeader(b)
	if err != nil {
		return 0
	}
	return h.hwm
}
