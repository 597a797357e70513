package hub

import (
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// sentActions remembers the deadline of every action handed to paho and not
// yet acknowledged. With a persistent session paho resends unacknowledged
// QoS1 messages after a reconnect; its store asks here first and forgets an
// action whose TTL has passed instead of delivering it late.
type sentActions struct {
	topic string
	now   func() time.Time
	log   *slog.Logger

	mu        sync.Mutex
	deadlines map[string]time.Time

	// paho's resume reads the store's keys once per connection and resends
	// them; a message sent directly before that snapshot would go out twice
	// (and paho would set its DUP flag while writing it). snapshots counts
	// resume snapshots; base is the count when the latest connection attempt
	// began, so snapshots > base means this connection's resume has listed
	// its resends.
	snapMu    sync.Mutex
	snapshots uint64
	base      uint64
}

func newSentActions(topic string, now func() time.Time, log *slog.Logger) *sentActions {
	return &sentActions{topic: topic, now: now, log: log, deadlines: map[string]time.Time{}}
}

func (s *sentActions) track(id string, deadline time.Time) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, d := range s.deadlines { // bounded: only unacknowledged actions are here
		if !now.Before(d) {
			delete(s.deadlines, k)
		}
	}
	s.deadlines[id] = deadline
}

func (s *sentActions) done(id string) {
	s.mu.Lock()
	delete(s.deadlines, id)
	s.mu.Unlock()
}

// fresh reports whether an action payload may still be sent. An action the
// link no longer tracks is not fresh: it was acknowledged or expired.
func (s *sentActions) fresh(payload []byte) (id string, ok bool) {
	var w struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(payload, &w) != nil {
		return "", false
	}
	s.mu.Lock()
	d, tracked := s.deadlines[w.ID]
	s.mu.Unlock()
	return w.ID, tracked && s.now().Before(d)
}

func (s *sentActions) store() mqtt.Store {
	return &ttlStore{MemoryStore: mqtt.NewMemoryStore(), sent: s}
}

// ttlStore is paho's memory store (nothing of an action ever touches disk)
// with one change: when paho reads back a stored action to resend it after
// a reconnect, a stale one is deleted and reported missing, which paho's
// resume skips.
type ttlStore struct {
	*mqtt.MemoryStore
	sent *sentActions
}

// All is called by paho's resume once per connection, before it resends.
func (t *ttlStore) All() []string {
	keys := t.MemoryStore.All()
	t.sent.snapMu.Lock()
	t.sent.snapshots++
	t.sent.snapMu.Unlock()
	return keys
}

// attempt is called (synchronously, by paho) before every connection attempt.
func (s *sentActions) attempt() {
	s.snapMu.Lock()
	s.base = s.snapshots
	s.snapMu.Unlock()
}

// resumed reports whether paho's resume for the latest connection has taken
// its snapshot, so that new messages may be sent.
func (s *sentActions) resumed() bool {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	return s.snapshots > s.base
}

func (t *ttlStore) Get(key string) packets.ControlPacket {
	p := t.MemoryStore.Get(key)
	pub, ok := p.(*packets.PublishPacket)
	if !ok || pub.TopicName != t.sent.topic {
		return p
	}
	id, fresh := t.sent.fresh(pub.Payload)
	if fresh {
		return p
	}
	t.MemoryStore.Del(key)
	t.sent.done(id)
	t.sent.log.Warn("hub link: unacknowledged action past action_ttl not resent", "action", id)
	return nil
}
