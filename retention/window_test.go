package retention

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestWindowIsHard(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	rl := &receiptLog{}
	o := testOptions(t, clk, rl)
	o.Window = time.Hour
	s := mustOpen(t, dir, o)
	old := mustAppend(t, s, Record{Transcript: "old"}, tone(100, 1))
	clk.Advance(30 * time.Minute)
	young := mustAppend(t, s, Record{Transcript: "young"}, tone(100, 2))
	clk.Advance(30*time.Minute - time.Millisecond)
	if got := ids(mustList(t, s)); len(got) != 2 {
		t.Fatalf("just inside the window: %v", got)
	}
	clk.Advance(time.Millisecond)
	// No timer has run: reads must still refuse the expired record.
	if got := ids(mustList(t, s)); !slices.Equal(got, []string{young.ID}) {
		t.Fatalf("at expiry List = %v, want only %s", got, young.ID)
	}
	if _, err := s.Audio(old.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Audio(expired) = %v", err)
	}
	if st := s.Stats(); st.Records != 1 || !st.Oldest.Equal(young.Time) {
		t.Fatalf("Stats = %+v", st)
	}
	rs, err := s.Enforce(time.Time{})
	if err != nil || len(rs) != 1 || rs[0].Scope != ScopeWindow || rs[0].Records != 1 || !rs[0].Oldest.Equal(old.Time) {
		t.Fatalf("Enforce = %+v, %v", rs, err)
	}
	s.Close()
	// Stopped for 31 minutes: Open destroys the rest and says so.
	clk.Advance(31 * time.Minute)
	s = mustOpen(t, dir, o)
	if got := mustList(t, s); len(got) != 0 {
		t.Fatalf("after reopen: %v", ids(got))
	}
	got := rl.get()
	if len(got) != 1 || got[0].Scope != ScopeWindow || got[0].Records != 1 || !got[0].Newest.Equal(young.Time) {
		t.Fatalf("receipts at open: %+v", got)
	}
	if len(segFiles(t, dir)) != 0 {
		t.Errorf("segments left: %v", segFiles(t, dir))
	}
}

func TestWindowZeroKeepsNothing(t *testing.T) {
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	o.Window = 0
	s := mustOpen(t, t.TempDir(), o)
	if _, err := s.Append(Record{Transcript: "x"}, tone(100, 1)); !errors.Is(err, ErrNotKept) {
		t.Fatalf("Append with window 0 = %v, want ErrNotKept", err)
	}
	if st := s.Stats(); st.Records != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAppendOutsideWindowNotKept(t *testing.T) {
	clk := newFakeClock(epoch)
	s := mustOpen(t, t.TempDir(), testOptions(t, clk, nil))
	if _, err := s.Append(Record{Time: epoch.Add(-25 * time.Hour)}, nil); !errors.Is(err, ErrNotKept) {
		t.Fatalf("Append of a day-old record = %v, want ErrNotKept", err)
	}
	r := mustAppend(t, s, Record{Time: epoch.Add(time.Hour)}, nil)
	if !r.Time.Equal(epoch) {
		t.Fatalf("a future time was kept: %v", r.Time)
	}
}

func TestSetWindow(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	s := mustOpen(t, dir, o)
	r1 := mustAppend(t, s, Record{}, nil)
	clk.Advance(3 * time.Hour)
	r2 := mustAppend(t, s, Record{}, nil)

	for _, d := range []time.Duration{25 * time.Hour, -time.Second} {
		if _, err := s.SetWindow(d); err == nil {
			t.Errorf("SetWindow(%s) accepted with ceiling %s", d, o.Window)
		}
	}
	rc, err := s.SetWindow(2 * time.Hour)
	if err != nil || rc.Scope != ScopeWindow || rc.Records != 1 || !rc.Oldest.Equal(r1.Time) {
		t.Fatalf("SetWindow(2h) = %+v, %v", rc, err)
	}
	if st := s.Stats(); st.Window != 2*time.Hour || st.Ceiling != 24*time.Hour || st.Records != 1 {
		t.Fatalf("stats %+v", st)
	}
	s.Close()

	s = mustOpen(t, dir, o)
	if st := s.Stats(); st.Window != 2*time.Hour {
		t.Fatalf("window after restart %s, want the 2h that was set", st.Window)
	}
	s.Close()
	o.Window = time.Hour // the ceiling went down in the config
	s = mustOpen(t, dir, o)
	if st := s.Stats(); st.Window != time.Hour || st.Records != 1 {
		t.Fatalf("stats with a 1h ceiling %+v", st)
	}
	if _, err := s.SetWindow(0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Audio(r2.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("window 0 kept %s: %v", r2.ID, err)
	}
}

func TestMaxBytes(t *testing.T) {
	clk := newFakeClock(epoch)
	rl := &receiptLog{}
	o := testOptions(t, clk, rl)
	probe := mustOpen(t, t.TempDir(), o)
	one := mustAppend(t, probe, Record{}, tone(1000, 0)).Bytes
	probe.Close()

	o.MaxBytes = 3*one + one/2
	dir := t.TempDir()
	s := mustOpen(t, dir, o)
	var recs []Record
	for i := range 5 {
		clk.Advance(time.Second)
		recs = append(recs, mustAppend(t, s, Record{}, tone(1000, i)))
		if st := s.Stats(); st.Bytes > o.MaxBytes {
			t.Fatalf("after append %d: %d bytes > max %d", i, st.Bytes, o.MaxBytes)
		}
	}
	if got := ids(mustList(t, s)); !slices.Equal(got, ids(recs[2:])) {
		t.Fatalf("kept %v, want the newest three", got)
	}
	got := rl.get()
	if len(got) != 2 || got[0].Scope != ScopeSize || got[0].Records != 1 || !got[0].Oldest.Equal(recs[0].Time) || !got[1].Oldest.Equal(recs[1].Time) {
		t.Fatalf("size receipts %+v", got)
	}
	if _, err := s.Append(Record{}, tone(4*1000, 9)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized append = %v, want ErrTooLarge", err)
	}
	if len(mustList(t, s)) != 3 {
		t.Fatal("an oversized append destroyed records")
	}
	// A lower cap in the config is applied at Open.
	s.Close()
	o.MaxBytes = one + one/2
	s = mustOpen(t, dir, o)
	if got := ids(mustList(t, s)); !slices.Equal(got, ids(recs[4:])) {
		t.Fatalf("after lowering max_bytes kept %v", got)
	}
}

// A reload of the config may lower the ceiling, never raise it, and the
// window a hub set below the ceiling stays in force: effective window =
// min(ceiling, set window), across reloads and restarts.
func TestSetCeilingKeepsAShorterWindow(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	s := mustOpen(t, dir, o)
	mustAppend(t, s, Record{}, nil)
	clk.Advance(30 * time.Minute)
	mustAppend(t, s, Record{}, nil)
	if _, err := s.SetWindow(time.Hour); err != nil {
		t.Fatal(err)
	}
	// The reload of an unchanged config: the hub's hour stays.
	if rc, err := s.SetCeiling(24 * time.Hour); err != nil || rc.Records != 0 {
		t.Fatalf("SetCeiling(24h) = %+v, %v", rc, err)
	}
	if st := s.Stats(); st.Window != time.Hour || st.Ceiling != 24*time.Hour {
		t.Fatalf("after a reload of the same ceiling: %+v", st)
	}
	// A config lowered below the hub's window takes over, and expires.
	rc, err := s.SetCeiling(20 * time.Minute)
	if err != nil || rc.Scope != ScopeWindow || rc.Records != 1 {
		t.Fatalf("SetCeiling(20m) = %+v, %v", rc, err)
	}
	if st := s.Stats(); st.Window != 20*time.Minute || st.Ceiling != 20*time.Minute || st.Records != 1 {
		t.Fatalf("after lowering the ceiling: %+v", st)
	}
	// The hub may not go past the lowered ceiling; a reload cannot raise it.
	if _, err := s.SetWindow(30 * time.Minute); err == nil {
		t.Error("SetWindow above the lowered ceiling accepted")
	}
	if _, err := s.SetCeiling(24 * time.Hour); err == nil {
		t.Error("SetCeiling raised the ceiling")
	}
	if st := s.Stats(); st.Window != 20*time.Minute {
		t.Fatalf("window after a refused raise: %s", st.Window)
	}
	s.Close()
	// A restart reads the config again (24h): the hub's hour is in force.
	s = mustOpen(t, dir, o)
	if st := s.Stats(); st.Window != time.Hour || st.Ceiling != 24*time.Hour {
		t.Fatalf("after restart: %+v", st)
	}
}
