package retention

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// TestRunDestroysOnTime runs the enforcer on the real clock with a short
// window: the record must be destroyed, with a window receipt, and the
// receipt must not come before the record expired.
func TestRunDestroysOnTime(t *testing.T) {
	rcs := make(chan Receipt, 4)
	o := Options{Window: 300 * time.Millisecond, OnReceipt: func(rc Receipt) { rcs <- rc }}
	s := mustOpen(t, t.TempDir(), o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	r := mustAppend(t, s, Record{Transcript: "short lived"}, tone(100, 1))
	select {
	case rc := <-rcs:
		if rc.Scope != ScopeWindow || rc.Records != 1 || !rc.Oldest.Equal(r.Time) {
			t.Fatalf("receipt %+v", rc)
		}
		if rc.Time.Sub(r.Time) < o.Window {
			t.Fatalf("destroyed %v after it was stored, before the %v window", rc.Time.Sub(r.Time), o.Window)
		}
		t.Logf("overshoot past the window: %v", rc.Time.Sub(r.Time)-o.Window)
	case <-time.After(10 * time.Second):
		t.Fatal("no window receipt within 10 s")
	}
	if _, err := s.Audio(r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Audio after expiry: %v", err)
	}
}

// TestRunStopsOnClose: Close ends Run even if ctx lives on.
func TestRunStopsOnClose(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Window: time.Hour})
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	mustAppend(t, s, Record{}, nil)
	s.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}

func TestPurge(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	o.Window = time.Hour
	s := mustOpen(t, dir, o)
	mustAppend(t, s, Record{}, nil)
	clk.Advance(30 * time.Minute)
	mustAppend(t, s, Record{}, nil)

	if _, err := Purge(dir, o); !errors.Is(err, ErrLocked) {
		t.Fatalf("Purge while the store is open = %v, want ErrLocked", err)
	}
	s.Close()
	clk.Advance(45 * time.Minute)
	rs, err := Purge(dir, o)
	if err != nil || len(rs) != 1 || rs[0].Scope != ScopeWindow || rs[0].Records != 1 {
		t.Fatalf("Purge = %+v, %v", rs, err)
	}
	rs, err = Purge(dir, o)
	if err != nil || len(rs) != 0 {
		t.Fatalf("second Purge = %+v, %v", rs, err)
	}
}

// TestFsyncFailure: after an index fsync fails the store cannot know what
// is on disk, so it refuses writes and Run ends with an error; reopening
// recovers with every acknowledged record intact.
func TestFsyncFailure(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	s := mustOpen(t, dir, testOptions(t, clk, nil))
	a := mustAppend(t, s, Record{Transcript: "a"}, tone(100, 1))
	s.fault = func(op string) error {
		if op == "fsync" {
			return syscall.EIO
		}
		return nil
	}
	if _, err := s.Append(Record{Transcript: "b"}, nil); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append with a failing fsync = %v", err)
	}
	s.fault = nil
	if _, err := s.Append(Record{Transcript: "c"}, nil); !errors.Is(err, errBroken) {
		t.Fatalf("Append after a failed fsync = %v, want errBroken", err)
	}
	if err := s.Run(context.Background()); !errors.Is(err, errBroken) {
		t.Fatalf("Run on a broken store = %v", err)
	}
	s.Close()
	s = mustOpen(t, dir, testOptions(t, clk, nil))
	got := mustList(t, s)
	if len(got) == 0 || got[0].ID != a.ID || len(got) > 2 {
		t.Fatalf("after reopen: %v, want %s (and perhaps the unacknowledged b)", ids(got), a.ID)
	}
}
