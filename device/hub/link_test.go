package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/earshot/earshot/internal/syncbuf"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	topicAvail   = "earshot/kitchen-speaker/availability"
	topicState   = "earshot/kitchen-speaker/state"
	topicAction  = "earshot/kitchen-speaker/action"
	topicReceipt = "earshot/kitchen-speaker/receipt"
	topicCmd     = "earshot/kitchen-speaker/cmd/"
	topicReply   = "earshot/kitchen-speaker/reply"
)

func TestActionRecordCarriesExactlyTheContractFields(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "#")
	at := time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)
	clock := &testClock{}
	clock.offset.Store(int64(at.Add(time.Second).Sub(time.Now())))
	cfg := testConfig(addr)
	cfg.Clock = clock.Now
	l := runLink(t, cfg, newFakeStore(), &fakeMuter{})
	obs.waitFor("availability online", hasPayload(topicAvail, "online"))

	slots := map[string]string{"room": "kitchen"}
	l.PublishAction(Action{ID: "a1", Time: at, Intent: "LightsOn", Slots: slots})
	slots["room"] = "changed after the call" // the link must have copied the map

	msgs := obs.waitFor("action a1", func(m []message) bool { return len(onTopic(m, topicAction)) == 1 })
	var got map[string]any
	if err := json.Unmarshal(onTopic(msgs, topicAction)[0].Payload, &got); err != nil {
		t.Fatal(err)
	}
	// keep_until: the record's expiry under the store's window (24h here).
	want := map[string]any{
		"id": "a1", "device": "kitchen-speaker", "time": "2026-11-27T20:00:00Z",
		"intent": "LightsOn", "slots": map[string]any{"room": "kitchen"}, "keep_until": "2026-11-28T20:00:00Z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("action payload\n got %v\nwant %v", got, want)
	}
	// The daemon says when its record expires; a fraction of a second is
	// cut, never added.
	l.PublishAction(Action{ID: "a2", Time: at, Intent: "LightsOn", KeepUntil: at.Add(90*time.Minute + 900*time.Millisecond)})
	msgs = obs.waitFor("action a2", func(m []message) bool { return len(onTopic(m, topicAction)) == 2 })
	if err := json.Unmarshal(onTopic(msgs, topicAction)[1].Payload, &got); err != nil {
		t.Fatal(err)
	}
	if got["keep_until"] != "2026-11-27T21:30:00Z" {
		t.Errorf("keep_until %v, want 2026-11-27T21:30:00Z", got["keep_until"])
	}
	if !l.Connected() {
		t.Error("Connected() = false while the broker is up")
	}
}

func TestStatePayload(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, topicState)
	store := newFakeStore()
	mute := &fakeMuter{}
	l := runLink(t, testConfig(addr), store, mute)

	obs.waitFor("initial state", hasPayload(topicState,
		`{"muted":false,"mute_source":null,"window":"24h","records":3,"bytes":4096,"oldest":"2026-01-02T03:04:05Z"}`))

	_ = mute.Mute("button")
	store.mu.Lock()
	store.stats.Window, store.stats.Records, store.stats.Bytes, store.stats.Oldest = 90*time.Minute, 0, 0, nil
	store.mu.Unlock()
	l.PublishState()
	msgs := obs.waitFor("state after change", hasPayload(topicState,
		`{"muted":true,"mute_source":"button","window":"1h30m","records":0,"bytes":0,"oldest":null}`))
	if !onTopic(msgs, topicState)[0].Retained && len(onTopic(msgs, topicState)) == 1 {
		t.Error("state is not retained")
	}
}

func TestCommands(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "earshot/#")
	store := newFakeStore()
	mute := &fakeMuter{}
	l := runLink(t, testConfig(addr), store, mute)
	obs.waitFor("availability online", hasPayload(topicAvail, "online"))
	_ = l

	tests := []struct {
		name, cmd, payload string
		buttonMuted        bool
		wantOK             bool
		wantErr            string // substring of the reply error
		wantCall           string // store call expected ("" = none)
		wantMuted          bool
	}{
		{name: "mute", cmd: "mute", payload: `{"id":"c1"}`, wantOK: true, wantMuted: true},
		{name: "unmute", cmd: "unmute", payload: `{"id":"c2"}`, wantOK: true},
		{name: "unmute of a button mute", cmd: "unmute", payload: `{"id":"c3"}`, buttonMuted: true, wantErr: "muted at device", wantMuted: true},
		{name: "ha switch off of a button mute", cmd: "mute", payload: `{"id":"c3b","mute":false}`, buttonMuted: true, wantErr: "muted at device", wantMuted: true},
		{name: "state", cmd: "state", payload: `{"id":"c4"}`, wantOK: true},
		{name: "delete all", cmd: "delete", payload: `{"id":"c5","scope":"all"}`, wantOK: true, wantCall: "all"},
		{name: "delete record", cmd: "delete", payload: `{"id":"c6","scope":"record","record":"r-0042"}`, wantOK: true, wantCall: "record:r-0042"},
		{name: "delete before", cmd: "delete", payload: `{"id":"c7","scope":"before","time":"2026-11-27T10:00:00+01:00"}`, wantOK: true, wantCall: "before:2026-11-27T09:00:00Z"},
		{name: "retention shorter", cmd: "retention", payload: `{"id":"c8","window":"2h"}`, wantOK: true, wantCall: "window:2h"},
		{name: "retention past ceiling", cmd: "retention", payload: `{"id":"c9","window":"2d"}`, wantErr: "exceeds the configured ceiling 24h"},
		{name: "unknown field", cmd: "delete", payload: `{"id":"c10","scope":"all","force":true}`, wantErr: `unknown field "force"`},
		{name: "field of another command", cmd: "mute", payload: `{"id":"c11","scope":"all"}`, wantErr: `unknown field "scope"`},
		{name: "bad time", cmd: "delete", payload: `{"id":"c12","scope":"before","time":"yesterday"}`, wantErr: "RFC 3339"},
		{name: "bad scope", cmd: "delete", payload: `{"id":"c13","scope":"everything"}`, wantErr: "want all, record or before"},
		{name: "unknown command", cmd: "reboot", payload: `{"id":"c14"}`, wantErr: "unknown command"},
		{name: "not json", cmd: "state", payload: `{"id":"c15"`, wantErr: "payload"},
		{name: "trailing data", cmd: "state", payload: `{"id":"c16"} {}`, wantErr: "trailing data"},
		{name: "oversized", cmd: "delete", payload: `{"id":"c17","scope":"all","pad":"` + strings.Repeat("x", MaxCommandSize) + `"}`, wantErr: "exceeds 4096"},
		{name: "negative window", cmd: "retention", payload: `{"id":"c18","window":"-1h"}`, wantErr: "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_ = mute.Unmute("cli")
			if tc.buttonMuted {
				_ = mute.Mute("button")
			}
			before := len(store.Calls())
			replies := len(onTopic(obs.messages(), topicReply))
			obs.publish(topicCmd+tc.cmd, tc.payload)
			// Commands are handled one at a time: the next reply is this one's.
			msgs := obs.waitFor("reply", func(m []message) bool { return len(onTopic(m, topicReply)) > replies })
			var r map[string]any
			if err := json.Unmarshal(onTopic(msgs, topicReply)[replies].Payload, &r); err != nil {
				t.Fatal(err)
			}
			if id := correlationID([]byte(tc.payload)); r["id"] != id {
				t.Errorf("reply id = %v, want %q", r["id"], id)
			}
			if ok, _ := r["ok"].(bool); ok != tc.wantOK {
				t.Errorf("ok = %v, want %v (reply %v)", ok, tc.wantOK, r)
			}
			if e, _ := r["error"].(string); !strings.Contains(e, tc.wantErr) || (tc.wantErr == "") != (e == "") {
				t.Errorf("error = %q, want it to contain %q", e, tc.wantErr)
			}
			calls := store.Calls()[before:]
			if tc.wantCall == "" && len(calls) != 0 || tc.wantCall != "" && !slices.Equal(calls, []string{tc.wantCall}) {
				t.Errorf("store calls = %q, want %q", calls, tc.wantCall)
			}
			if muted, _ := mute.Muted(); muted != tc.wantMuted {
				t.Errorf("muted = %v, want %v", muted, tc.wantMuted)
			}
		})
	}
}

func TestDeleteIsIdempotentAndItsReceiptGoesOutOnce(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "earshot/#")
	store := newFakeStore()
	l := runLink(t, testConfig(addr), store, &fakeMuter{})
	obs.waitFor("availability online", hasPayload(topicAvail, "online"))

	// A QoS1 duplicate or a retry: same correlation id twice.
	obs.publish(topicCmd+"delete", `{"id":"del-1","scope":"all"}`)
	obs.publish(topicCmd+"delete", `{"id":"del-1","scope":"all"}`)
	msgs := obs.waitFor("two replies to del-1", func(m []message) bool {
		n := 0
		for _, x := range onTopic(m, topicReply) {
			if strings.Contains(string(x.Payload), `"del-1"`) {
				n++
			}
		}
		return n == 2
	})
	if calls := store.Calls(); !slices.Equal(calls, []string{"all"}) {
		t.Fatalf("store calls = %q, want exactly one DeleteAll", calls)
	}
	r, _ := findReply(msgs, "del-1")
	result, _ := r["result"].(map[string]any)
	rcptID, _ := result["id"].(string)
	if rcptID == "" || result["scope"] != "all" {
		t.Fatalf("reply result is not the receipt: %v", r)
	}

	// The daemon reports every deletion, including this one; then another.
	store.mu.Lock()
	again, _ := store.receipt("size")
	store.mu.Unlock()
	store.mu.Lock()
	first := store.receipts[0]
	store.mu.Unlock()
	if first.ID != rcptID {
		t.Fatalf("reply carries receipt %q, store made %q", rcptID, first.ID)
	}
	l.PublishReceipt(first)
	l.PublishReceipt(again)
	msgs = obs.waitFor("the later receipt", func(m []message) bool {
		return slices.Contains(actionIDs(m, topicReceipt), again.ID)
	})
	if ids := actionIDs(msgs, topicReceipt); !slices.Equal(ids, []string{rcptID, again.ID}) {
		t.Errorf("receipts published = %q, want %q once each", ids, []string{rcptID, again.ID})
	}
}

func TestActionsOfflineWithinTTLArriveOnceStaleNever(t *testing.T) {
	addr, stop := startBroker(t, "")
	proxy := newProxy(t, addr)
	clock := &testClock{}
	cfg := testConfig(proxy.addr)
	cfg.Clock = clock.Now
	l := runLink(t, cfg, newFakeStore(), &fakeMuter{})
	waitUntil(t, "link connected", l.Connected)

	proxy.held.Store(true) // the device stays away until the hub listens again
	stop()
	waitUntil(t, "link disconnected", func() bool { return !l.Connected() })
	now := clock.Now()
	l.PublishAction(Action{ID: "fresh", Time: now, Intent: "LightsOn"})
	l.PublishAction(Action{ID: "stale", Time: now.Add(-50 * time.Second), Intent: "LightsOff"})
	clock.Advance(20 * time.Second) // "stale" is now 70 s old, "fresh" 20 s: TTL is 60 s

	startBroker(t, addr)
	obs := newObserver(t, "tcp://"+addr, "earshot/#")
	proxy.held.Store(false)
	obs.waitFor("fresh action", func(m []message) bool { return slices.Contains(actionIDs(m, topicAction), "fresh") })
	l.PublishAction(Action{ID: "sentinel", Time: clock.Now(), Intent: "LightsOn"})
	msgs := obs.waitFor("sentinel", func(m []message) bool { return slices.Contains(actionIDs(m, topicAction), "sentinel") })
	if ids := actionIDs(msgs, topicAction); !slices.Equal(ids, []string{"fresh", "sentinel"}) {
		t.Errorf("actions after reconnect = %q, want [fresh sentinel]", ids)
	}
}

func TestOutboxIsBounded(t *testing.T) {
	cfg := testConfig("127.0.0.1:1")
	cfg.OutboxSize = 3
	l, err := New(cfg, newFakeStore(), &fakeMuter{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		l.PublishAction(Action{ID: fmt.Sprint(i), Intent: "LightsOn"})
	}
	var ids []string
	for _, a := range l.outbox {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []string{"7", "8", "9"}) {
		t.Errorf("outbox = %q, want the newest three", ids)
	}
}

// TestReconnectsAfterTheLinkDrops: the network goes away under the link and
// comes back; the link reconnects and announces itself again. (The last
// will is checked against mosquitto in TestEndToEndMosquitto: mochi skips
// the will when its writer notices the dead socket before its reader.)
func TestReconnectsAfterTheLinkDrops(t *testing.T) {
	addr, _ := startBroker(t, "")
	proxy := newProxy(t, addr)
	obs := newObserver(t, "tcp://"+addr, topicAvail)
	l := runLink(t, testConfig(proxy.addr), newFakeStore(), &fakeMuter{})
	obs.waitFor("online", hasPayload(topicAvail, "online"))
	before := len(obs.messages())

	proxy.cut()
	obs.waitFor("online again", func(m []message) bool {
		return len(m) > before && string(m[len(m)-1].Payload) == "online"
	})
	waitUntil(t, "link reconnected", l.Connected)
}

func TestCleanStopPublishesOffline(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, topicAvail)
	t.Run("run", func(t *testing.T) {
		runLink(t, testConfig(addr), newFakeStore(), &fakeMuter{})
		obs.waitFor("online", hasPayload(topicAvail, "online"))
	}) // the subtest's cleanup stops the link
	msgs := obs.waitFor("offline", hasPayload(topicAvail, "offline"))
	if last := onTopic(msgs, topicAvail); string(last[len(last)-1].Payload) != "offline" {
		t.Errorf("last availability = %q, want offline", last[len(last)-1].Payload)
	}
}

func TestRunTwiceIsRefused(t *testing.T) {
	addr, _ := startBroker(t, "")
	l := runLink(t, testConfig(addr), newFakeStore(), &fakeMuter{})
	waitUntil(t, "running", l.running.Load)
	if err := l.Run(t.Context()); err == nil {
		t.Error("second Run succeeded")
	}
}

// TestUnacknowledgedActionIsNotResentPastTTL covers paho's own resend queue:
// an action handed to paho whose PUBLISH never reached the broker is resent
// after the reconnect only while it is within its TTL.
// TestLateConnectionLostKeepsNewConnection: paho reports a lost connection
// on a goroutine of its own, which can run after the next connection is up
// and subscribed. That late report must not mark the new connection as not
// listening: the link then looked down until the next reconnect (seen once
// in CI as "timed out waiting for link up").
func TestLateConnectionLostKeepsNewConnection(t *testing.T) {
	addr, _ := startBroker(t, "")
	l := runLink(t, testConfig(addr), newFakeStore(), &fakeMuter{})
	waitUntil(t, "connected", l.Connected)
	l.onConnectionLost(l.client, errors.New("the previous connection, reported late"))
	if !l.Connected() {
		t.Fatal("a late report of an earlier connection's loss took the link down")
	}
}

func TestUnacknowledgedActionIsNotResentPastTTL(t *testing.T) {
	tests := []struct {
		name          string
		offlineFor    time.Duration
		wantDelivered bool
	}{
		{"within ttl", 10 * time.Second, true},
		{"past ttl", 61 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := startBroker(t, "")
			proxy := newProxy(t, addr)
			obs := newObserver(t, "tcp://"+addr, topicAction)
			clock := &testClock{}
			cfg := testConfig(proxy.addr)
			cfg.Clock = clock.Now
			l := runLink(t, cfg, newFakeStore(), &fakeMuter{})
			waitUntil(t, "connected", l.Connected)

			proxy.blackhole.Store(true)
			l.PublishAction(Action{ID: "in-flight", Time: clock.Now(), Intent: "LightsOn"})
			waitUntil(t, "action in paho's store", func() bool { return len(l.pstore.All()) > 0 })
			proxy.held.Store(true)
			proxy.cut()
			proxy.blackhole.Store(false)
			waitUntil(t, "link down", func() bool { return !l.Connected() })
			clock.Advance(tc.offlineFor)
			proxy.held.Store(false)

			waitUntil(t, "link up", l.Connected)
			l.PublishAction(Action{ID: "sentinel", Time: clock.Now(), Intent: "LightsOn"})
			msgs := obs.waitFor("sentinel", func(m []message) bool { return slices.Contains(actionIDs(m, topicAction), "sentinel") })
			want := []string{"sentinel"}
			if tc.wantDelivered {
				want = []string{"in-flight", "sentinel"}
			}
			if ids := actionIDs(msgs, topicAction); !slices.Equal(ids, want) {
				t.Errorf("actions = %q, want %q", ids, want)
			}
		})
	}
}

// A correlation id names one command. The same id again with the same
// command is a QoS1 duplicate or a retry and gets the first reply; the same
// id with another command or payload is a hub bug, and running nothing
// while replying ok would hide it.
func TestReusedIDWithAnotherCommandIsRefused(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "earshot/#")
	store := newFakeStore()
	runLink(t, testConfig(addr), store, &fakeMuter{})
	obs.waitFor("availability online", hasPayload(topicAvail, "online"))

	replies := func(id string) []map[string]any {
		var out []map[string]any
		for _, m := range onTopic(obs.messages(), topicReply) {
			var r map[string]any
			if json.Unmarshal(m.Payload, &r) == nil && r["id"] == id {
				out = append(out, r)
			}
		}
		return out
	}
	waitReplies := func(id string, n int) []map[string]any {
		t.Helper()
		obs.waitFor(fmt.Sprintf("%d replies to %s", n, id), func([]message) bool { return len(replies(id)) >= n })
		return replies(id)
	}

	obs.publish(topicCmd+"delete", `{"id":"r1","scope":"record","record":"r-0001"}`)
	first := waitReplies("r1", 1)[0]
	// The same command, written differently: still a duplicate.
	obs.publish(topicCmd+"delete", `{ "record": "r-0001", "scope": "record", "id": "r1" }`)
	if again := waitReplies("r1", 2)[1]; !reflect.DeepEqual(again, first) {
		t.Errorf("duplicate got %v, want the first reply %v", again, first)
	}
	// The same id for a wider deletion, and on another command topic.
	obs.publish(topicCmd+"delete", `{"id":"r1","scope":"all"}`)
	obs.publish(topicCmd+"mute", `{"id":"r1"}`)
	rs := waitReplies("r1", 4)
	for _, r := range rs[2:] {
		if r["ok"] != false || !strings.Contains(fmt.Sprint(r["error"]), `correlation id "r1" was already used for a different command`) {
			t.Errorf("reused id: reply %v, want ok:false naming the reuse", r)
		}
	}
	if calls := store.Calls(); !slices.Equal(calls, []string{"record:r-0001"}) {
		t.Errorf("store calls = %q, want only the first delete", calls)
	}
}

// A command left retained on the broker (mosquitto_pub -r) would run again
// at every start of the device: a retained cmd/delete wiped the history
// three starts in a row. Commands are events; retained ones are ignored,
// with one warning.
func TestRetainedCommandsAreIgnored(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "earshot/#")
	for _, c := range []struct{ cmd, payload string }{
		{"delete", `{"id":"x","scope":"all"}`},
		{"mute", `{"id":"y"}`},
	} {
		if tok := obs.client.Publish(topicCmd+c.cmd, 1, true, c.payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish retained: %v", tok.Error())
		}
	}
	// The broker acks a publish before it has sent it on (mochi): wait
	// until the observer has its own copies, so that the link, subscribing
	// later, gets both only as retained messages.
	obs.waitFor("the commands fanned out", func(m []message) bool {
		return len(onTopic(m, topicCmd+"delete")) == 1 && len(onTopic(m, topicCmd+"mute")) == 1
	})
	var logs syncbuf.Buffer
	cfg := testConfig(addr)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, mute := newFakeStore(), &fakeMuter{}
	for start := 1; start <= 2; start++ {
		ctx, cancel := context.WithCancel(context.Background())
		l, err := New(cfg, store, mute)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		// Commands are handled in order: once a live command is answered,
		// the retained ones delivered at subscription have been seen.
		id := fmt.Sprintf("live-%d", start)
		obs.waitFor("link subscribed", func([]message) bool { return l.Connected() })
		obs.publish(topicCmd+"state", `{"id":"`+id+`"}`)
		obs.waitFor("reply to "+id, replyTo(id))
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Two retained commands, one warning per start.
		if n := strings.Count(logs.String(), "ignoring a retained command"); n != start {
			t.Errorf("start %d: %d warnings about retained commands in all, want %d:\n%s", start, n, start, logs.String())
		}
	}
	msgs := obs.messages()
	for _, id := range []string{"x", "y"} {
		if r, ok := findReply(msgs, id); ok {
			t.Errorf("retained command %s answered: %v", id, r)
		}
	}
	if calls := store.Calls(); len(calls) != 0 {
		t.Errorf("retained commands ran: store calls %q", calls)
	}
	if m, _ := mute.Muted(); m {
		t.Error("a retained cmd/mute muted the device")
	}
}
