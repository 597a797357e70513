package daemon

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// receiptPart is a receipt message as the hub sees it.
type receiptPart struct {
	ID    string   `json:"id"`
	Scope string   `json:"scope"`
	IDs   []string `json:"ids"`
	Part  int      `json:"part"`
	Parts int      `json:"parts"`
}

func (r *rig) receipts() []receiptPart {
	var out []receiptPart
	for _, p := range r.seen("receipt") {
		var rp receiptPart
		if err := json.Unmarshal([]byte(p), &rp); err != nil {
			r.t.Fatalf("receipt %s: %v", p, err)
		}
		out = append(out, rp)
	}
	return out
}

// named returns the ids the receipts of scope name, in order.
func named(rs []receiptPart, scope string) []string {
	var ids []string
	for _, r := range rs {
		if r.Scope == scope {
			ids = append(ids, r.IDs...)
		}
	}
	return ids
}

// TestReceiptsNameRecordsOfTheDevicesOwnDeletions, over a real mosquitto:
// what the window and the size cap destroy at the start, and what a long
// press wipes, reaches the hub by id, each record in exactly one receipt.
func TestReceiptsNameRecordsOfTheDevicesOwnDeletions(t *testing.T) {
	// Six records of 8 s audio (~256 KB each): the oldest is past the 45 min
	// window; of the other five, which hold 1.28 MB, the oldest must go to
	// fit max_bytes.
	r := newRigWith(t, rigSetup{
		records:   []time.Duration{50 * time.Minute, 10 * time.Minute, 9 * time.Minute, 8 * time.Minute, 7 * time.Minute, 6 * time.Minute},
		samples:   8 * 16000,
		retention: "window: 45m, max_bytes: 1MiB",
		mosquitto: true,
	})
	r.waitFor("window and size receipts", func() bool {
		rs := r.receipts()
		return len(named(rs, "window")) > 0 && len(named(rs, "size")) > 0
	})
	rs := r.receipts()
	if got := named(rs, "window"); !slices.Equal(got, r.ids[:1]) {
		t.Errorf("window receipt names %v, want %v", got, r.ids[:1])
	}
	if got := named(rs, "size"); !slices.Equal(got, r.ids[1:2]) {
		t.Errorf("size receipt names %v, want %v", got, r.ids[1:2])
	}

	r.press(6 * time.Second) // past the 5 s long press (on the panel's clock): wipe the history
	r.waitFor("the long press receipt", func() bool { return len(named(r.receipts(), "all")) > 0 })
	if got := named(r.receipts(), "all"); !slices.Equal(got, r.ids[2:]) {
		t.Errorf("long press receipt names %v, want %v", got, r.ids[2:])
	}
	count := map[string]int{}
	for _, p := range r.receipts() {
		if p.Part != 1 || p.Parts != 1 {
			t.Errorf("receipt %s is part %d of %d, want 1 of 1", p.ID, p.Part, p.Parts)
		}
		for _, id := range p.IDs {
			count[id]++
		}
	}
	for _, id := range r.ids {
		if count[id] != 1 {
			t.Errorf("record %s named by %d receipts, want 1", id, count[id])
		}
	}
}
