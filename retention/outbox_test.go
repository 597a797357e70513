package retention

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// `earshot purge` with the daemon stopped printed its receipt and told the
// hub nothing. Its receipts are queued in the store, durably, until the
// daemon has the broker's acknowledgement for each.
func TestPurgeQueuesItsReceiptsUntilDelivered(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	s := mustOpen(t, dir, o)
	old := mustAppend(t, s, Record{Intent: "LightsOn"}, nil)
	clk.Advance(2 * time.Hour)
	mustAppend(t, s, Record{}, nil)
	s.Close()

	clk.Advance(23 * time.Hour) // the first record has expired, the second not
	rs, err := Purge(dir, o)
	if err != nil || len(rs) != 1 || rs[0].Records != 1 || !rs[0].Oldest.Equal(old.Time) {
		t.Fatalf("Purge = %+v, %v", rs, err)
	}
	// A purge with nothing to do queues nothing.
	if again, err := Purge(dir, o); err != nil || len(again) != 0 {
		t.Fatalf("second Purge = %+v, %v", again, err)
	}

	s = mustOpen(t, dir, o)
	q := s.Undelivered()
	if len(q) != 1 || q[0].ID != rs[0].ID || q[0].Scope != ScopeWindow || q[0].Records != 1 {
		t.Fatalf("queued %+v, want the purge's receipt %+v", q, rs[0])
	}
	// The hub forgets by id: the queued receipt names the record, as
	// every other receipt does.
	if !slices.Equal(q[0].IDs, []string{old.ID}) {
		t.Fatalf("queued receipt names %q, want the purged record %s", q[0].IDs, old.ID)
	}
	s.Close()
	// Until delivered it survives any number of opens, and no file of the
	// queue is quarantined as foreign.
	s = mustOpen(t, dir, o)
	if q := s.Undelivered(); len(q) != 1 {
		t.Fatalf("queue after reopen: %+v", q)
	}
	if _, err := os.Stat(filepath.Join(dir, quarantineDir)); !os.IsNotExist(err) {
		t.Errorf("quarantine dir exists: %v", err)
	}
	if err := s.Delivered("some-other-receipt"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(rs[0].ID); err != nil {
		t.Fatal(err)
	}
	if q := s.Undelivered(); len(q) != 0 {
		t.Fatalf("queue after delivery: %+v", q)
	}
	s.Close()
	s = mustOpen(t, dir, o)
	if q := s.Undelivered(); len(q) != 0 {
		t.Fatalf("a delivered receipt came back: %+v", q)
	}
}

func TestOutboxIsBoundedAndSurvivesDamage(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	o := testOptions(t, clk, nil)
	s := mustOpen(t, dir, o)
	var many []Receipt
	for i := range outboxMax + 10 {
		many = append(many, Receipt{ID: newID(epoch.Add(time.Duration(i) * time.Second)).String(), Scope: ScopeWindow, Records: 1})
	}
	if err := s.queueReceipts(many); err != nil {
		t.Fatal(err)
	}
	q := s.Undelivered()
	if len(q) != outboxMax || q[0].ID != many[10].ID || q[len(q)-1].ID != many[len(many)-1].ID {
		t.Fatalf("queue of %d keeps %d, from %s", len(many), len(q), q[0].ID)
	}
	s.Close()

	for i, damaged := range []string{
		`[{"id":`,
		// An id that is no record id would reach the hub as one.
		`[{"id":"R1","scope":"window","records":1,"ids":["not-a-record-id"]}]`,
	} {
		clk.Advance(time.Second) // quarantined files are named by the time
		os.WriteFile(filepath.Join(dir, outboxFile), []byte(damaged), 0o600)
		s = mustOpen(t, dir, o)
		if q := s.Undelivered(); len(q) != 0 {
			t.Errorf("damaged queue %s read as %+v", damaged, q)
		}
		s.Close()
		ents, _ := os.ReadDir(filepath.Join(dir, quarantineDir))
		if len(ents) != i+1 || !strings.HasSuffix(ents[i].Name(), outboxFile) {
			t.Errorf("damaged queue %s not quarantined: %v", damaged, ents)
		}
	}
}

// FuzzDecodeOutbox: whatever the queue file holds, decoding never panics,
// and what it accepts has an id, a known scope and record ids only.
func FuzzDecodeOutbox(f *testing.F) {
	f.Add([]byte(`[{"id":"01M8FD2CKNH8QX24HTT4ZVMBZH","time":"2026-11-27T08:00:00Z","scope":"window","records":1,"bytes":10,"oldest":null,"newest":null}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[{"id":""}]`))
	f.Add([]byte(`[{"id":"R","scope":"size","records":2,"ids":["01M8FD2CKNH8QX24HTT4ZVMBZH","x"]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := decodeOutbox(data)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.ID == "" || !slices.Contains(allScopes, r.Scope) || r.Records < 0 || r.Bytes < 0 {
				t.Fatalf("accepted %+v", r)
			}
			for _, id := range r.IDs {
				if _, err := parseID(id); err != nil {
					t.Fatalf("accepted %+v naming %q", r, id)
				}
			}
		}
	})
}
