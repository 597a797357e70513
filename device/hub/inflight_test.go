package hub

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// paho resends unacknowledged QoS1 messages from its store after a
// reconnect; the store must hide an action once its TTL has passed, and
// leave everything else alone.
func TestStoreNeverResendsAStaleAction(t *testing.T) {
	clock := &testClock{}
	sent := newSentActions("earshot/dev/action", clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	st := sent.store()
	st.Open()
	t.Cleanup(st.Close)

	put := func(key, topic, payload string) {
		p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
		p.TopicName, p.Qos, p.Payload = topic, 1, []byte(payload)
		st.Put(key, p)
	}
	now := clock.Now()
	sent.track("fresh", now.Add(time.Minute))
	sent.track("stale", now.Add(time.Second))
	put("o.1", "earshot/dev/action", `{"id":"fresh"}`)
	put("o.2", "earshot/dev/action", `{"id":"stale"}`)
	put("o.3", "earshot/dev/action", `{"id":"untracked"}`)
	put("o.4", "earshot/dev/receipt", `{"id":"rcpt"}`)
	clock.Advance(2 * time.Second)

	tests := []struct {
		key       string
		wantFound bool
	}{
		{"o.1", true},  // within TTL: resend
		{"o.2", false}, // past TTL: never
		{"o.3", false}, // acknowledged or forgotten: never
		{"o.4", true},  // receipts do not expire
	}
	for _, tc := range tests {
		if got := st.Get(tc.key) != nil; got != tc.wantFound {
			t.Errorf("Get(%s) found = %v, want %v", tc.key, got, tc.wantFound)
		}
	}
	if len(st.All()) != 2 {
		t.Errorf("store keeps %q; stale actions must be deleted", st.All())
	}
}
