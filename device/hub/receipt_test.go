package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/earshot/earshot/retention"
)

func TestEncodeReceiptPart(t *testing.T) {
	for _, n := range []int{0, 1, 499, 500, 501, 1000, 1234} {
		t.Run(fmt.Sprint(n, " ids"), func(t *testing.T) {
			r := retention.Receipt{ID: "R", Scope: retention.ScopeAll, Records: n, IDs: recordIDs(n)}
			wantParts := max(1, (n+499)/500)
			if got := partCount(r); got != wantParts {
				t.Fatalf("partCount = %d, want %d", got, wantParts)
			}
			var all []string
			for part := 1; part <= wantParts; part++ {
				b, err := encodeReceiptPart(r, part)
				if err != nil {
					t.Fatal(err)
				}
				var w struct {
					ID    string    `json:"id"`
					IDs   *[]string `json:"ids"`
					Part  int       `json:"part"`
					Parts int       `json:"parts"`
				}
				if err := json.Unmarshal(b, &w); err != nil {
					t.Fatal(err)
				}
				if w.ID != "R" || w.Part != part || w.Parts != wantParts || w.IDs == nil || len(*w.IDs) > MaxReceiptIDs {
					t.Fatalf("part %d: %s", part, b)
				}
				all = append(all, *w.IDs...)
			}
			if !slices.Equal(all, r.IDs) && !(n == 0 && len(all) == 0) {
				t.Errorf("parts name %d ids, want the %d of the receipt in order", len(all), n)
			}
		})
	}
}

// namingStore is fakeStore whose DeleteAll names n records.
type namingStore struct {
	*fakeStore
	n int
}

func (s namingStore) DeleteAll() (retention.Receipt, error) {
	r, err := s.fakeStore.DeleteAll()
	r.Records, r.IDs = s.n, recordIDs(s.n)
	return r, err
}

func recordIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("01J%023d", i)
	}
	return ids
}

// hubDeletesAll sends cmd/delete scope all (correlation id corr) to a link
// whose store deletes n named records, and returns what the hub saw up to
// the reply.
func hubDeletesAll(t *testing.T, n int, corr string) []message {
	t.Helper()
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "earshot/#")
	runLink(t, testConfig(addr), namingStore{newFakeStore(), n}, &fakeMuter{})
	obs.waitFor("availability online", hasPayload(topicAvail, "online"))
	obs.publish(topicCmd+"delete", `{"id":"`+corr+`","scope":"all"}`)
	return obs.waitFor("reply to "+corr, replyTo(corr))
}

// TestLargeDeletionReceiptInPartsBeforeTheReply: 1234 ids go out as three
// messages of one receipt, each id once, all before the reply, which
// carries the count of parts instead of the ids.
func TestLargeDeletionReceiptInPartsBeforeTheReply(t *testing.T) {
	msgs := hubDeletesAll(t, 1234, "big")
	var parts []int
	var ids []string
	for _, m := range msgs {
		if m.Topic == topicReply {
			break // everything after the reply does not count
		}
		if m.Topic != topicReceipt {
			continue
		}
		var p struct {
			IDs   []string `json:"ids"`
			Part  int      `json:"part"`
			Parts int      `json:"parts"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || p.Parts != 3 {
			t.Fatalf("receipt part %s: %v", m.Payload, err)
		}
		parts = append(parts, p.Part)
		ids = append(ids, p.IDs...)
	}
	if !slices.Equal(parts, []int{1, 2, 3}) || !slices.Equal(ids, recordIDs(1234)) {
		t.Fatalf("before the reply: parts %v naming %d ids, want 1..3 naming all 1234 once", parts, len(ids))
	}
	r, _ := findReply(msgs, "big")
	result, _ := r["result"].(map[string]any)
	if _, named := result["ids"]; named || result["parts"] != 3.0 || result["records"] != 1234.0 {
		t.Errorf("reply result %v, want the receipt with parts 3 and no ids", result)
	}
}

// TestActionOfDeletedRecordNeverFollowsItsReceipt: an action still in the
// outbox when its record is deleted is not sent at all, nor is one handed
// to the link after the receipt. Otherwise the hub, having acted on the
// receipt already, would keep it.
func TestActionOfDeletedRecordNeverFollowsItsReceipt(t *testing.T) {
	addr := freePort(t)
	proxy := newProxy(t, addr)
	proxy.held.Store(true) // the device stays away until the hub listens
	clock := &testClock{}
	cfg := testConfig(proxy.addr)
	cfg.Clock = clock.Now
	l := runLink(t, cfg, newFakeStore(), &fakeMuter{})
	// No broker yet: the actions wait in the outbox.
	now := clock.Now()
	l.PublishAction(Action{ID: "kept", Time: now, Intent: "LightsOn"})
	l.PublishAction(Action{ID: "deleted", Time: now, Intent: "LightsOff"})
	r := retentionReceipt("rcpt")
	r.IDs = []string{"deleted"}
	l.PublishReceipt(r)
	l.PublishAction(Action{ID: "deleted", Time: now, Intent: "LightsOff"}) // a late duplicate

	startBroker(t, addr)
	obs := newObserver(t, "tcp://"+addr, "earshot/#")
	proxy.held.Store(false)
	waitUntil(t, "link connected", l.Connected)
	l.PublishAction(Action{ID: "sentinel", Time: clock.Now(), Intent: "LightsOn"})
	msgs := obs.waitFor("sentinel", func(m []message) bool { return slices.Contains(actionIDs(m, topicAction), "sentinel") })
	if ids := actionIDs(msgs, topicAction); !slices.Equal(ids, []string{"kept", "sentinel"}) {
		t.Errorf("actions = %q, want [kept sentinel]", ids)
	}
	if got := onTopic(msgs, topicReceipt); len(got) != 1 || !strings.Contains(string(got[0].Payload), `"ids":["deleted"]`) {
		t.Errorf("receipts = %s", summarize(got))
	}
}

// TestReceiptNamingNothingStillAnswers: a delete of an empty history is
// answered by a receipt with "ids":[] in one part.
func TestReceiptNamingNothingStillAnswers(t *testing.T) {
	msgs := hubDeletesAll(t, 0, "none")
	got := onTopic(msgs, topicReceipt)
	if len(got) != 1 || !strings.Contains(string(got[0].Payload), `"ids":[],"part":1,"parts":1`) {
		t.Errorf("receipt of nothing = %s", summarize(got))
	}
}

// BenchmarkReceiptParts10k encodes the receipt of a 10,000-record deletion:
// 20 messages of at most 500 ids each.
func BenchmarkReceiptParts10k(b *testing.B) {
	r := retention.Receipt{ID: "01M9", Scope: retention.ScopeAll, Records: 10_000, IDs: make([]string, 10_000)}
	for i := range r.IDs {
		r.IDs[i] = fmt.Sprintf("01M8FD2CKNH8QX24HT%08d", i)
	}
	b.ReportAllocs()
	var largest int
	for b.Loop() {
		for part := 1; part <= partCount(r); part++ {
			p, err := encodeReceiptPart(r, part)
			if err != nil {
				b.Fatal(err)
			}
			largest = max(largest, len(p))
		}
	}
	b.ReportMetric(float64(largest), "B/largest-message")
}

// scriptedClient is a paho client whose publishes complete at once with
// the error the script gives for the n-th publish (nil: acknowledged).
type scriptedClient struct {
	mqtt.Client
	script func(n int) error
	log    *[]string
}

func (c *scriptedClient) Publish(topic string, _ byte, _ bool, payload any) mqtt.Token {
	var p struct{ Part int }
	json.Unmarshal(payload.([]byte), &p)
	*c.log = append(*c.log, fmt.Sprintf("part %d", p.Part))
	return doneToken{c.script(len(*c.log))}
}

type doneToken struct{ err error }

func (doneToken) Wait() bool                     { return true }
func (doneToken) WaitTimeout(time.Duration) bool { return true }
func (doneToken) Done() <-chan struct{}          { c := make(chan struct{}); close(c); return c }
func (t doneToken) Error() error                 { return t.err }

// TestReceiptAckedAfterItsLastPart: a receipt counts as delivered (the
// daemon then drops it from the store's durable queue) only once the
// broker has acknowledged every part, the last included, and then once,
// also when a lost connection split its parts over two sendings.
func TestReceiptAckedAfterItsLastPart(t *testing.T) {
	for _, c := range []struct {
		name   string
		script func(n int) error // of the n-th publish, from 1
		sends  int               // sendReceipts calls, as the connection comes back
		want   []string
	}{
		{"every part acknowledged", func(int) error { return nil }, 1,
			[]string{"part 1", "part 2", "part 3", "acked R"}},
		{"a part refused", func(n int) error {
			if n == 2 {
				return errors.New("broker said no")
			}
			return nil
		}, 1, []string{"part 1", "part 2", "part 3"}},
		{"connection lost before part 2", func(n int) error {
			if n == 2 {
				return mqtt.ErrNotConnected
			}
			return nil
		}, 2, []string{"part 1", "part 2", "part 2", "part 3", "acked R"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var log []string
			cfg := testConfig("127.0.0.1:1")
			cfg.ReceiptAcked = func(id string) { log = append(log, "acked "+id) }
			l, err := New(cfg, newFakeStore(), &fakeMuter{})
			if err != nil {
				t.Fatal(err)
			}
			l.client = &scriptedClient{script: c.script, log: &log}
			l.PublishReceipt(retention.Receipt{ID: "R", Scope: retention.ScopeWindow, Records: 1234, IDs: recordIDs(1234)})
			for range c.sends {
				l.sendReceipts(context.Background())
			}
			if !slices.Equal(log, c.want) {
				t.Errorf("got %q, want %q", log, c.want)
			}
		})
	}
}
