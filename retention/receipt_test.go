package retention

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestReceiptsNameWhatTheyDestroyed covers the deletions nobody asked for:
// every one names its records, so a hub can drop exactly those actions.
func TestReceiptsNameWhatTheyDestroyed(t *testing.T) {
	clk := newFakeClock(epoch)
	rl := &receiptLog{}
	o := testOptions(t, clk, rl)
	o.Window = time.Hour
	dir := t.TempDir()
	s := mustOpen(t, dir, o)
	var recs []Record
	for i := range 6 {
		recs = append(recs, mustAppend(t, s, Record{Intent: "LightsOn"}, tone(1000, i)))
		clk.Advance(5 * time.Minute)
	}

	// The window expires the oldest (Enforce is what Run calls).
	clk.Advance(30*time.Minute + time.Millisecond) // recs[0] is now just over 1h old
	rs, err := s.Enforce(time.Time{})
	if err != nil || len(rs) != 1 || !slices.Equal(rs[0].IDs, ids(recs[:1])) {
		t.Fatalf("window receipt %+v, %v; want ids %v", rs, err, ids(recs[:1]))
	}
	// A shorter window set from the hub or a reload.
	rc, err := s.SetWindow(50 * time.Minute)
	if err != nil || !slices.Equal(rc.IDs, ids(recs[1:3])) {
		t.Fatalf("SetWindow receipt ids %v, %v; want %v", rc.IDs, err, ids(recs[1:3]))
	}
	s.Close()

	// A lower size cap at the next start: the oldest go, named.
	o.MaxBytes = recs[5].Bytes + recs[5].Bytes/2
	s = mustOpen(t, dir, o)
	got := rl.get()
	if len(got) != 1 || got[0].Scope != ScopeSize || !slices.Equal(got[0].IDs, ids(recs[3:5])) {
		t.Fatalf("size receipts at open %+v, want ids %v", got, ids(recs[3:5]))
	}
	s.Close()

	// `earshot purge` while the daemon is stopped.
	clk.Advance(time.Hour)
	purged, err := Purge(dir, o)
	if err != nil || len(purged) != 1 || !slices.Equal(purged[0].IDs, ids(recs[5:])) {
		t.Fatalf("Purge = %+v, %v; want ids %v", purged, err, ids(recs[5:]))
	}
}

// TestReceiptWithoutKeysCountsButCannotName: records sealed under a key
// that is gone are destroyed unread, so their ids are unknown. The receipt
// says how many went, with an empty (not null) list.
func TestReceiptWithoutKeysCountsButCannotName(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	rl := &receiptLog{}
	o := testOptions(t, clk, rl)
	o.Keys = KeysMemory
	s := mustOpen(t, dir, o)
	mustAppend(t, s, Record{}, nil)
	mustAppend(t, s, Record{}, nil)
	s.Close()
	mustOpen(t, dir, o)
	got := rl.get()
	if len(got) != 1 || got[0].Records != 2 || got[0].IDs == nil || len(got[0].IDs) != 0 {
		t.Fatalf("wipe receipts %+v", got)
	}
	b, _ := json.Marshal(got[0])
	var wire map[string]any
	json.Unmarshal(b, &wire)
	if ids, ok := wire["ids"].([]any); !ok || len(ids) != 0 {
		t.Errorf("wipe receipt encodes ids as %v, want []", wire["ids"])
	}
}

// TestIDText: the text form parses back to the same id, and sorts like
// the ids' times.
func TestIDText(t *testing.T) {
	var prev recordID
	for i := range 2000 {
		id := newID(epoch.Add(time.Duration(i) * time.Millisecond))
		text := id.String()
		back, err := parseID(text)
		if err != nil || back != id {
			t.Fatalf("%x -> %q -> %x, %v", id[:], text, back[:], err)
		}
		if i > 0 && text <= prev.String() {
			t.Fatalf("%q (ms %d) does not sort after %q", text, i, prev.String())
		}
		prev = id
	}
	var ones recordID
	for i := range ones {
		ones[i] = 0xff
	}
	if got := ones.String(); got != "7ZZZZZZZZZZZZZZZZZZZZZZZZZ" {
		t.Errorf("all ones = %q", got)
	}
}

func BenchmarkVictimIDs10k(b *testing.B) {
	victims := make([]*entry, 10_000)
	for i := range victims {
		victims[i] = &entry{slotEntry: slotEntry{id: newID(epoch.Add(time.Duration(i) * time.Second))}}
	}
	b.ReportAllocs()
	for b.Loop() {
		victimIDs(victims)
	}
}
