package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"

	"github.com/earshot/earshot/device/localbroker"
	"github.com/earshot/earshot/internal/syncbuf"
	"github.com/earshot/earshot/retention"
)

// pahoLogs collects paho's own warnings and errors for the whole run.
var pahoLogs = &syncbuf.Buffer{}

func TestMain(m *testing.M) {
	RouteLogs(slog.New(slog.NewTextHandler(pahoLogs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	goleak.VerifyTestMain(m)
}

// fakeStore is an in-memory Store that records what the link asked of it.
type fakeStore struct {
	mu       sync.Mutex
	stats    retention.Stats
	calls    []string
	n        int
	failErr  error
	receipts []retention.Receipt
}

func newFakeStore() *fakeStore {
	oldest := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &fakeStore{stats: retention.Stats{
		Window: 24 * time.Hour, Ceiling: 24 * time.Hour, Records: 3, Bytes: 4096, Oldest: &oldest,
	}}
}

func (s *fakeStore) Stats() retention.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *fakeStore) receipt(scope retention.Scope) (retention.Receipt, error) {
	if s.failErr != nil {
		return retention.Receipt{}, s.failErr
	}
	s.n++
	r := retention.Receipt{ID: fmt.Sprintf("rcpt-%d", s.n), Time: time.Now().UTC(), Scope: scope, Records: s.stats.Records, Bytes: s.stats.Bytes}
	s.stats.Records, s.stats.Bytes, s.stats.Oldest = 0, 0, nil
	s.receipts = append(s.receipts, r)
	return r, nil
}

func (s *fakeStore) DeleteAll() (retention.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "all")
	return s.receipt(retention.ScopeAll)
}

func (s *fakeStore) Delete(ids ...string) (retention.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "record:"+strings.Join(ids, ","))
	return s.receipt(retention.ScopeRecord)
}

func (s *fakeStore) DeleteBefore(t time.Time) (retention.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "before:"+t.UTC().Format(time.RFC3339))
	return s.receipt(retention.ScopeBefore)
}

func (s *fakeStore) SetWindow(d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "window:"+FormatWindow(d))
	s.stats.Window = d
	return nil
}

func (s *fakeStore) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// fakeMuter follows the contract: a button mute cannot be lifted by the hub.
type fakeMuter struct {
	mu     sync.Mutex
	muted  bool
	source string
}

func (m *fakeMuter) Mute(source string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.muted {
		m.muted, m.source = true, source
	}
	return nil
}

func (m *fakeMuter) Unmute(source string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.muted && m.source == "button" && source == SourceHub {
		return ErrMutedAtDevice
	}
	m.muted, m.source = false, ""
	return nil
}

func (m *fakeMuter) Muted() (bool, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.muted, m.source
}

// testClock is a wall clock the test can move forward.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// startBroker runs mochi-mqtt on 127.0.0.1 (port 0 unless addr is given)
// and returns its address and a stop function (also run at cleanup).
func startBroker(t testing.TB, addr string) (string, func()) {
	t.Helper()
	b, err := localbroker.Start(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := func() { b.Close() }
	t.Cleanup(stop)
	return b.Addr(), stop
}

type message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// observer is a hub stand-in: a separate MQTT client that records every
// message under its filter.
type observer struct {
	t      testing.TB
	client mqtt.Client
	mu     sync.Mutex
	msgs   []message
	notify chan struct{}
}

func newObserver(t testing.TB, broker, filter string, opts ...func(*mqtt.ClientOptions)) *observer {
	t.Helper()
	o := &observer{t: t, notify: make(chan struct{}, 1)}
	subscribed := make(chan struct{}, 1)
	co := mqtt.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("observer-%d", time.Now().UnixNano())).
		SetCleanSession(true).SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).
		SetConnectTimeout(2 * time.Second).
		SetOnConnectHandler(func(c mqtt.Client) {
			c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
				o.mu.Lock()
				o.msgs = append(o.msgs, message{m.Topic(), bytes.Clone(m.Payload()), m.Retained()})
				o.mu.Unlock()
				signal(o.notify)
			}).Wait()
			signal(subscribed)
		})
	for _, f := range opts {
		f(co)
	}
	o.client = mqtt.NewClient(co)
	if tok := o.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("observer connect %s: %v", broker, tok.Error())
	}
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatalf("observer: no subscription to %s", filter)
	}
	t.Cleanup(func() { o.client.Disconnect(50) })
	return o
}

func (o *observer) messages() []message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]message(nil), o.msgs...)
}

// waitFor polls the received messages until pred finds what it wants or the
// deadline passes.
func (o *observer) waitFor(what string, pred func([]message) bool) []message {
	o.t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for {
		msgs := o.messages()
		if pred(msgs) {
			return msgs
		}
		select {
		case <-o.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline.C:
			o.t.Fatalf("timed out waiting for %s; got %d messages: %s", what, len(msgs), summarize(msgs))
		}
	}
}

// seenWithin reports whether pred holds within d.
func (o *observer) seenWithin(d time.Duration, pred func([]message) bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for !pred(o.messages()) {
		select {
		case <-o.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline.C:
			return false
		}
	}
	return true
}

func (o *observer) publish(topic string, payload string) {
	o.t.Helper()
	if tok := o.client.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		o.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func summarize(msgs []message) string {
	var b strings.Builder
	for i, m := range msgs {
		if i == 30 {
			b.WriteString(" …")
			break
		}
		fmt.Fprintf(&b, "\n  %s %.120s", m.Topic, m.Payload)
	}
	return b.String()
}

func onTopic(msgs []message, topic string) []message {
	var out []message
	for _, m := range msgs {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

func hasPayload(topic, want string) func([]message) bool {
	return func(msgs []message) bool {
		for _, m := range onTopic(msgs, topic) {
			if string(m.Payload) == want {
				return true
			}
		}
		return false
	}
}

// replyTo finds the reply with the given correlation id.
func replyTo(id string) func([]message) bool {
	return func(msgs []message) bool { _, ok := findReply(msgs, id); return ok }
}

func findReply(msgs []message, id string) (map[string]any, bool) {
	for _, m := range msgs {
		if !strings.HasSuffix(m.Topic, "/reply") {
			continue
		}
		var r map[string]any
		if json.Unmarshal(m.Payload, &r) == nil && r["id"] == id {
			return r, true
		}
	}
	return nil, false
}

func actionIDs(msgs []message, topic string) []string {
	var ids []string
	for _, m := range onTopic(msgs, topic) {
		var a struct{ ID string }
		if json.Unmarshal(m.Payload, &a) == nil {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// testConfig is a valid config for a broker on loopback with short timings.
func testConfig(broker string) Config {
	return Config{
		Broker:       "tcp://" + broker,
		DeviceID:     "kitchen-speaker",
		TopicPrefix:  "earshot",
		ActionTTL:    time.Minute,
		Window:       24 * time.Hour,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxReconnect: 200 * time.Millisecond,
		KeepAlive:    5 * time.Second,
	}
}

// runLink creates the link and runs it until the test ends; Run's error is
// checked at cleanup.
func runLink(t testing.TB, cfg Config, store Store, mute Muter) *Link {
	t.Helper()
	l, err := New(cfg, store, mute)
	if err != nil {
		t.Fatal(err)
	}
	startLink(t, l)
	return l
}

func startLink(t testing.TB, l *Link) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
}

// freePort returns a loopback address that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func retentionReceipt(id string) retention.Receipt {
	return retention.Receipt{ID: id, Time: time.Now().UTC(), Scope: retention.ScopeRecord, Records: 1, Bytes: 100}
}
