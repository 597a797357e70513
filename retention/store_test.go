package retention

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	code := m.Run()
	if benchTemplate != "" {
		os.RemoveAll(benchTemplate)
	}
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, "goleak:", err)
		code = 1
	}
	os.Exit(code)
}

func TestAppendRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		pcm  []int16
	}{
		{"intent with slots", Record{Transcript: "turn on the kitchen lights", Intent: "LightsOn", Slots: map[string]string{"room": "kitchen"}}, tone(16000, 1)},
		{"no intent matched", Record{Transcript: "what is the meaning of life"}, tone(8000, 2)},
		{"empty transcript and audio", Record{}, nil},
		{"four seconds", Record{Transcript: "set a timer for five minutes", Intent: "SetTimer", Slots: map[string]string{"minutes": "5", "unit": "min"}}, tone(4*sampleRate, 3)},
		{"unicode", Record{Transcript: "lumières de la cuisine ☀", Intent: "LightsOn", Slots: map[string]string{"pièce": "cuisine"}}, tone(320, 4)},
	}
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	s := mustOpen(t, dir, testOptions(t, clk, nil))
	var stored []Record
	for _, tc := range tests {
		clk.Advance(time.Second)
		got := mustAppend(t, s, tc.rec, tc.pcm)
		if got.Time != clk.Now() {
			t.Errorf("%s: Time = %v, want now %v", tc.name, got.Time, clk.Now())
		}
		if want := time.Duration(len(tc.pcm)) * time.Second / sampleRate; got.Duration != want {
			t.Errorf("%s: Duration = %v, want %v", tc.name, got.Duration, want)
		}
		stored = append(stored, got)
	}
	check := func(s *Store) {
		t.Helper()
		list := mustList(t, s)
		if !slices.Equal(ids(list), ids(stored)) {
			t.Fatalf("List ids = %v, want %v", ids(list), ids(stored))
		}
		for i, tc := range tests {
			r := list[i]
			if r.Transcript != tc.rec.Transcript || r.Intent != tc.rec.Intent || !maps.Equal(r.Slots, tc.rec.Slots) {
				t.Errorf("%s: listed %+v, want %+v", tc.name, r, tc.rec)
			}
			if !r.Time.Equal(stored[i].Time) || r.Duration != stored[i].Duration {
				t.Errorf("%s: time/duration %v/%v, want %v/%v", tc.name, r.Time, r.Duration, stored[i].Time, stored[i].Duration)
			}
			pcm, err := s.Audio(r.ID)
			if err != nil {
				t.Fatalf("%s: Audio: %v", tc.name, err)
			}
			if !slices.Equal(pcm, tc.pcm) && len(pcm)+len(tc.pcm) > 0 {
				t.Errorf("%s: audio differs (%d vs %d samples)", tc.name, len(pcm), len(tc.pcm))
			}
			g, err := s.Get(r.ID)
			if err != nil || g.Transcript != tc.rec.Transcript {
				t.Errorf("%s: Get = %+v, %v", tc.name, g, err)
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(mustOpen(t, dir, testOptions(t, clk, nil)))
}

func TestListFilter(t *testing.T) {
	clk := newFakeClock(epoch.Add(time.Hour))
	s := mustOpen(t, t.TempDir(), testOptions(t, clk, nil))
	var all []Record
	for i := range 6 {
		all = append(all, mustAppend(t, s, Record{Time: epoch.Add(time.Duration(i) * time.Minute)}, nil))
	}
	tests := []struct {
		name string
		f    Filter
		want []Record
	}{
		{"all", Filter{}, all},
		{"since", Filter{Since: epoch.Add(2 * time.Minute)}, all[2:]},
		{"before", Filter{Before: epoch.Add(2 * time.Minute)}, all[:2]},
		{"range", Filter{Since: epoch.Add(time.Minute), Before: epoch.Add(4 * time.Minute)}, all[1:4]},
		{"limit keeps newest", Filter{Limit: 2}, all[4:]},
	}
	for _, tc := range tests {
		got, err := s.List(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), ids(tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, ids(got), ids(tc.want))
		}
	}
}

func TestDeleteScopes(t *testing.T) {
	// Six records a minute apart; each case deletes some and checks the
	// receipt, what is left, and that a restart brings nothing back.
	tests := []struct {
		name    string
		del     func(s *Store, recs []Record) (Receipt, error)
		scope   Scope
		deleted []int
	}{
		{"one record", func(s *Store, r []Record) (Receipt, error) { return s.Delete(r[2].ID) }, ScopeRecord, []int{2}},
		{"several records", func(s *Store, r []Record) (Receipt, error) { return s.Delete(r[5].ID, r[0].ID, r[5].ID) }, ScopeRecord, []int{0, 5}},
		{"all", func(s *Store, r []Record) (Receipt, error) { return s.DeleteAll() }, ScopeAll, []int{0, 1, 2, 3, 4, 5}},
		{"before", func(s *Store, r []Record) (Receipt, error) { return s.DeleteBefore(r[3].Time) }, ScopeBefore, []int{0, 1, 2}},
		{"since", func(s *Store, r []Record) (Receipt, error) { return s.DeleteSince(r[4].Time) }, ScopeSince, []int{4, 5}},
		{"since nothing", func(s *Store, r []Record) (Receipt, error) { return s.DeleteSince(r[5].Time.Add(time.Second)) }, ScopeSince, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clk := newFakeClock(epoch.Add(time.Hour))
			s := mustOpen(t, dir, testOptions(t, clk, nil))
			var recs []Record
			for i := range 6 {
				recs = append(recs, mustAppend(t, s, Record{Transcript: "x", Time: epoch.Add(time.Duration(i) * time.Minute)}, tone(1600, i)))
			}
			rc, err := tc.del(s, recs)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Scope != tc.scope || rc.Records != len(tc.deleted) || len(rc.ID) != idLen {
				t.Fatalf("receipt %+v, want scope %s, %d records", rc, tc.scope, len(tc.deleted))
			}
			var wantBytes int64
			var gone []string
			for _, i := range tc.deleted {
				wantBytes += recs[i].Bytes
				gone = append(gone, recs[i].ID)
			}
			if rc.Bytes != wantBytes {
				t.Errorf("receipt bytes %d, want %d", rc.Bytes, wantBytes)
			}
			if len(tc.deleted) > 0 {
				if !rc.Oldest.Equal(recs[tc.deleted[0]].Time) || !rc.Newest.Equal(recs[tc.deleted[len(tc.deleted)-1]].Time) {
					t.Errorf("receipt span %v..%v", rc.Oldest, rc.Newest)
				}
			} else if rc.Oldest != nil || rc.Newest != nil {
				t.Errorf("empty receipt has span %v..%v", rc.Oldest, rc.Newest)
			}
			var want []string
			for i, r := range recs {
				if !slices.Contains(tc.deleted, i) {
					want = append(want, r.ID)
				}
			}
			checkLeft := func(s *Store) {
				t.Helper()
				if got := ids(mustList(t, s)); !slices.Equal(got, want) {
					t.Fatalf("left %v, want %v", got, want)
				}
				for _, id := range gone {
					if _, err := s.Audio(id); !errors.Is(err, ErrNotFound) {
						t.Errorf("Audio(deleted %s) = %v, want ErrNotFound", id, err)
					}
				}
				if st := s.Stats(); st.Records != len(want) {
					t.Errorf("Stats.Records = %d, want %d", st.Records, len(want))
				}
			}
			checkLeft(s)
			s.Close()
			checkLeft(mustOpen(t, dir, testOptions(t, clk, nil)))
			if len(want) == 0 && len(segFiles(t, dir)) != 0 {
				t.Errorf("segments left after deleting everything: %v", segFiles(t, dir))
			}
		})
	}
}

func TestDeleteBadIDs(t *testing.T) {
	clk := newFakeClock(epoch)
	s := mustOpen(t, t.TempDir(), testOptions(t, clk, nil))
	a := mustAppend(t, s, Record{}, nil)
	b := mustAppend(t, s, Record{}, nil)
	unknown := newID(epoch).String()

	if _, err := s.Delete(a.ID, "not-an-id"); err == nil {
		t.Fatal("malformed id accepted")
	}
	if len(mustList(t, s)) != 2 {
		t.Fatal("a malformed id in the list deleted something")
	}
	rc, err := s.Delete(a.ID, unknown)
	if !errors.Is(err, ErrNotFound) || rc.Records != 1 {
		t.Fatalf("Delete(known, unknown) = %+v, %v; want 1 deleted and ErrNotFound", rc, err)
	}
	if _, err := s.Delete(a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if got := ids(mustList(t, s)); !slices.Equal(got, []string{b.ID}) {
		t.Fatalf("left %v", got)
	}
	for _, id := range []string{"", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", unknown} {
		if _, err := s.Audio(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Audio(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

// TestNothingInPlaintext looks for the transcript, slot values and audio in
// every file of the store, before and after deletion.
func TestNothingInPlaintext(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	s := mustOpen(t, dir, testOptions(t, clk, nil))
	transcript := "please unlock the secret garage door"
	pcm := tone(sampleRate, 42)
	secrets := [][]byte{[]byte(transcript), []byte("garagedoorvalue"), pcmBytes(pcm)[1000:1032]}
	r := mustAppend(t, s, Record{Transcript: transcript, Intent: "Unlock", Slots: map[string]string{"door": "garagedoorvalue"}}, pcm)
	check := func(when string) {
		for name, b := range storeFiles(t, dir) {
			for _, sec := range secrets {
				if bytes.Contains(b, sec) {
					t.Errorf("%s: %s contains %q in plaintext", when, name, sec[:8])
				}
			}
		}
	}
	check("after append")
	e := s.byID[mustParse(t, r.ID)]
	seg := filepath.Join(dir, segName(e.seg))
	off, n := e.off, int64(e.length)
	if _, err := s.Delete(r.ID); err != nil {
		t.Fatal(err)
	}
	check("after delete")
	// The record's bytes are released and its slot is zero: even with the
	// master key nothing is left to open.
	if b, err := os.ReadFile(seg); err == nil && int64(len(b)) >= off+n && !isZero(b[off:off+n]) {
		t.Errorf("deleted record's bytes still in %s", seg)
	}
	idx, _ := os.ReadFile(filepath.Join(dir, indexFile))
	if !isZero(idx[headerSize:]) {
		t.Error("index still holds a slot after the only record was deleted")
	}
}

func mustParse(t testing.TB, id string) recordID {
	t.Helper()
	rid, err := parseID(id)
	if err != nil {
		t.Fatal(err)
	}
	return rid
}

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

func TestMemoryKeys(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	rl := &receiptLog{}
	o := testOptions(t, clk, rl)
	o.Keys = KeysMemory
	s := mustOpen(t, dir, o)
	r := mustAppend(t, s, Record{Transcript: "forget me"}, tone(100, 1))
	if g, err := s.Get(r.ID); err != nil || g.Transcript != "forget me" {
		t.Fatalf("Get = %+v, %v", g, err)
	}
	if _, err := os.Stat(filepath.Join(dir, masterKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("keys: memory wrote a key file: %v", err)
	}
	s.Close()
	s = mustOpen(t, dir, o)
	if got := mustList(t, s); len(got) != 0 {
		t.Fatalf("records survived a restart with keys: memory: %v", ids(got))
	}
	if got := rl.get(); len(got) != 1 || got[0].Scope != ScopeAll || got[0].Records != 1 {
		t.Fatalf("receipts %+v", got)
	}
	if len(segFiles(t, dir)) != 0 {
		t.Fatal("segments of the forgotten records are still there")
	}
	mustAppend(t, s, Record{}, nil)
}

func TestSwitchKeyModes(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	rl := &receiptLog{}
	o := testOptions(t, clk, rl)
	s := mustOpen(t, dir, o)
	mustAppend(t, s, Record{}, nil)
	s.Close()

	o.Keys = KeysMemory
	s = mustOpen(t, dir, o)
	if len(mustList(t, s)) != 0 {
		t.Fatal("disk records readable after switching to memory keys")
	}
	if _, err := os.Stat(filepath.Join(dir, masterKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("key file kept after switching to keys: memory")
	}
	mustAppend(t, s, Record{}, nil)
	s.Close()

	o.Keys = KeysDisk
	s = mustOpen(t, dir, o)
	if len(mustList(t, s)) != 0 {
		t.Fatal("memory records readable after switching to disk keys")
	}
	if n := len(rl.get()); n != 2 {
		t.Fatalf("%d receipts, want one per switch", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	o.MaxBytes = 64 << 10
	s := mustOpen(t, t.TempDir(), o)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				r, err := s.Append(Record{Transcript: "hello"}, tone(800, w*100+i))
				if err != nil {
					t.Error(err)
					return
				}
				switch i % 5 {
				case 0:
					s.Delete(r.ID)
				case 1:
					s.List(Filter{Limit: 3})
				case 2:
					s.Audio(r.ID)
				case 3:
					s.Stats()
				case 4:
					clk.Advance(time.Millisecond)
					s.Enforce(time.Time{})
				}
			}
		})
	}
	wg.Wait()
	for _, r := range mustList(t, s) {
		if _, err := s.Audio(r.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCloseIdempotent(t *testing.T) {
	s := mustOpen(t, t.TempDir(), testOptions(t, newFakeClock(epoch), nil))
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Append(Record{}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
	if _, err := s.DeleteAll(); !errors.Is(err, ErrClosed) {
		t.Fatalf("DeleteAll after Close = %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{Window: -1}, {MaxBytes: -1}, {Keys: "tpm"}} {
		if _, err := Open(t.TempDir(), o); err == nil {
			t.Errorf("Open accepted %+v", o)
		}
	}
}

func TestAppendAllocsIndependentOfLength(t *testing.T) {
	clk := newFakeClock(epoch)
	s := mustOpen(t, t.TempDir(), testOptions(t, clk, nil))
	rec := Record{Transcript: "turn on the kitchen lights", Intent: "LightsOn", Slots: map[string]string{"room": "kitchen"}}
	allocs := func(samples int) float64 {
		pcm := tone(samples, 1)
		mustAppend(t, s, rec, pcm) // grow the scratch buffer first
		return testing.AllocsPerRun(20, func() {
			if _, err := s.Append(rec, pcm); err != nil {
				t.Fatal(err)
			}
		})
	}
	short, long := allocs(sampleRate/2), allocs(8*sampleRate)
	if long > short {
		t.Fatalf("Append of 8 s allocates %.0f times, of 0.5 s %.0f: allocations grow with audio length", long, short)
	}
}

// TestDeleteAllReplacesKey: after DeleteAll the master key is new, so a
// stale copy of an old index slot (as flash wear-levelling may keep) no
// longer opens, and the store carries on across restarts.
func TestDeleteAllReplacesKey(t *testing.T) {
	for _, mode := range []KeyMode{KeysDisk, KeysMemory} {
		t.Run(string(mode), func(t *testing.T) {
			dir := t.TempDir()
			clk := newFakeClock(epoch)
			o := testOptions(t, clk, nil)
			o.Keys = mode
			s := mustOpen(t, dir, o)
			mustAppend(t, s, Record{Transcript: "x"}, tone(100, 1))
			stale, _ := os.ReadFile(filepath.Join(dir, indexFile))
			oldKey, _ := os.ReadFile(filepath.Join(dir, masterKeyFile))
			if _, err := s.DeleteAll(); err != nil {
				t.Fatal(err)
			}
			if _, err := openSlot(s.master, 0, stale[headerSize:headerSize+slotSize]); err == nil {
				t.Fatal("a stale slot still opens under the current key")
			}
			if newKey, _ := os.ReadFile(filepath.Join(dir, masterKeyFile)); mode == KeysDisk && bytes.Equal(newKey, oldKey) {
				t.Fatal("key file unchanged by DeleteAll")
			}
			r := mustAppend(t, s, Record{Transcript: "after"}, tone(100, 2))
			s.Close()
			s = mustOpen(t, dir, o)
			want := 1
			if mode == KeysMemory {
				want = 0
			}
			if got := mustList(t, s); len(got) != want || (want == 1 && got[0].ID != r.ID) {
				t.Fatalf("after restart: %v", ids(got))
			}
		})
	}
}

func TestFilePermissions(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, testOptions(t, newFakeClock(epoch), nil))
	mustAppend(t, s, Record{}, nil)
	s.Close()
	os.Chmod(filepath.Join(dir, masterKeyFile), 0o644)
	mustOpen(t, dir, testOptions(t, newFakeClock(epoch), nil)).Close()
	for name := range storeFiles(t, dir) {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %s, want no access for group or others", name, st.Mode().Perm())
		}
	}
}
