package retention

import (
	"bytes"
	"context"
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
			// The receipt names what went, oldest first, and encodes an
			// empty deletion as [] rather than null.
			if rc.IDs == nil || !slices.Equal(rc.IDs, append([]string{}, gone...)) {
				t.Errorf("receipt ids %q, want %q", rc.IDs, gone)
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

func TestConcurrentUse(t *testing.T) {
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	o.MaxBytes = 64 << 10
	s := mustOpen(t, t.TempDir(), o)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			t.Error(err)
		}
	}()
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
