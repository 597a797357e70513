// Package hub is earshot's link to the home hub over MQTT (paho). The hub
// learns only action records, deletion receipts and device state — never a
// transcript, audio or the words said. An action is never handed to the
// broker once older than action_ttl; hub commands are validated, bounded in
// memory, rate limited and idempotent by correlation id.
package hub

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/earshot/earshot/retention"
)

// Store is what the link needs of the encrypted store. Every method must be
// safe for concurrent use. A Delete* call returns only once the data is gone
// from disk; the link replies to the hub after that.
type Store interface {
	Stats() retention.Stats
	DeleteAll() (retention.Receipt, error)
	Delete(ids ...string) (retention.Receipt, error)
	DeleteBefore(t time.Time) (retention.Receipt, error)
	SetWindow(d time.Duration) error
}

// Muter is the device's mute state. Unmute("hub") of a mute set by the
// physical button must fail with an error whose text is "muted at device"
// (ErrMutedAtDevice, or any error wrapping it).
type Muter interface {
	Mute(source string) error
	Unmute(source string) error
	Muted() (muted bool, source string)
}

// ErrMutedAtDevice is the error a Muter returns when the hub tries to lift a
// mute set at the device. Its text is part of the hub contract.
var ErrMutedAtDevice = errors.New("muted at device")

// forgottenIDs bounds the memory of deleted record ids (26 bytes each) kept
// to stop their late actions. Receipts list ids oldest first, so it is the
// newest records, the only ones whose actions can still be on their way,
// that stay remembered.
const forgottenIDs = 4096

// localIntents are handled on the device only (CONTRACT: privacy intents).
var localIntents = map[string]bool{"ForgetLast": true, "ForgetToday": true}

// SourceHub is the mute source the link passes to Muter.
const SourceHub = "hub"

// Link is the hub link. Create it with New, run it with Run.
type Link struct {
	cfg    *settings
	store  Store
	mute   Muter
	log    *slog.Logger
	topics topics
	client mqtt.Client
	sent   *sentActions // actions handed to paho, for its resend filter
	pstore mqtt.Store   // paho's in-flight store (memory only)

	lostMu sync.Mutex
	lostCh chan struct{} // closed and replaced on every connection loss
	// listening: the commands subscription of this connection is in place.
	listening atomic.Bool

	running atomic.Bool

	mu       sync.Mutex
	outbox   []Action
	receipts []queuedReceipt
	seen     *recentSet // receipt ids already queued, so a receipt goes out once
	// forgotten holds the record ids named by recent receipts. An action
	// of such a record is never handed to paho after its receipt: a hub
	// would keep it, having already acted on the receipt.
	forgotten *recentSet
	// sendingReceipts is held while receipts are handed to paho, so a
	// reply that waits for it follows every receipt queued before it.
	sendingReceipts sync.Mutex
	// handoff orders hand-offs to paho: an action is taken from the outbox
	// and handed over, or a receipt part handed over, under it. So an
	// action taken before its receipt was queued reaches paho (and the
	// broker) before that receipt, and one queued after never does.
	handoff sync.Mutex

	intents       []string        // announced to Home Assistant (SetIntents)
	rediscover    chan struct{}   // intents changed
	triggerTopics map[string]bool // device triggers announced; sendLoop's own
	foundTriggers map[string]bool // retained device triggers on the broker, not yet checked (foundTrigger)

	wake       chan struct{} // outbox or receipts changed
	stateDirty chan struct{}
	connUp     chan struct{}
	haOnline   chan struct{} // Home Assistant announced itself on homeassistant/status
	cmds       chan inbound

	droppedCmds    atomic.Uint64
	handledCmds    atomic.Uint64
	warnedRetained atomic.Bool // the one warning about retained commands is out
	reconnects     atomic.Int64
	stopping       chan struct{} // closed when Run stops

	delivered func(actionID string) // test hook: called after the broker acked an action
}

type topics struct {
	availability, state, action, receipt, reply, cmdPrefix string
}

func newTopics(prefix, device string) topics {
	base := prefix + "/" + device + "/"
	return topics{
		availability: base + "availability",
		state:        base + "state",
		action:       base + "action",
		receipt:      base + "receipt",
		reply:        base + "reply",
		cmdPrefix:    base + "cmd/",
	}
}

// New validates cfg (errors name the key, e.g. "mqtt.broker: ..."), reads
// the password and TLS material, and returns a link that is not yet
// connected.
func New(cfg Config, store Store, mute Muter) (*Link, error) {
	if store == nil || mute == nil {
		return nil, errors.New("hub: New needs a Store and a Muter")
	}
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	for _, w := range s.warnings {
		s.Logger.Warn("hub link: " + w)
	}
	l := &Link{
		cfg:        s,
		store:      store,
		mute:       mute,
		log:        s.Logger.With("component", "hub"),
		topics:     newTopics(s.TopicPrefix, s.DeviceID),
		seen:       newRecentSet(s.ReceiptQueue),
		forgotten:  newRecentSet(forgottenIDs),
		wake:       make(chan struct{}, 1),
		stateDirty: make(chan struct{}, 1),
		rediscover: make(chan struct{}, 1),
		intents:    hubIntents(s.Intents),

		triggerTopics: map[string]bool{},
		foundTriggers: map[string]bool{},
		connUp:        make(chan struct{}, 1),
		haOnline:      make(chan struct{}, 1),
		cmds:          make(chan inbound, s.CommandQueue),
		lostCh:        make(chan struct{}),
		stopping:      make(chan struct{}),
	}
	l.sent = newSentActions(l.topics.action, s.Clock, l.log)
	l.pstore = l.sent.store()
	l.client = mqtt.NewClient(l.clientOptions())
	return l, nil
}

func (l *Link) clientOptions() *mqtt.ClientOptions {
	s := l.cfg
	o := mqtt.NewClientOptions().
		AddBroker(s.brokerURL).
		SetClientID("earshot-"+s.DeviceID).
		// A persistent session: QoS1 commands sent while the device was
		// briefly away are queued by the broker and delivered on reconnect.
		SetCleanSession(false).
		SetResumeSubs(true).
		SetKeepAlive(s.KeepAlive).
		SetPingTimeout(10*time.Second).
		SetConnectTimeout(5*time.Second).
		SetWriteTimeout(5*time.Second).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(s.MaxReconnect).
		SetConnectRetry(false). // Run retries the first connect itself, cancellable
		SetOrderMatters(true).  // onMessage never blocks, so ordered delivery is cheap
		SetBinaryWill(l.topics.availability, []byte("offline"), 1, true).
		// paho's resend queue is memory only, filtered so it never sends an
		// action past its TTL after a reconnect.
		SetStore(l.pstore).
		SetDefaultPublishHandler(l.onMessage).
		SetOnConnectHandler(l.onConnect).
		// A payload larger than any command is cut before paho reads it.
		SetCustomOpenConnectionFn(l.openConnection).
		SetConnectionAttemptHandler(func(_ *url.URL, t *tls.Config) *tls.Config {
			l.sent.attempt()
			return t
		}).
		SetConnectionLostHandler(l.onConnectionLost).
		SetReconnectingHandler(l.onReconnecting)
	if s.Username != "" {
		o.SetUsername(s.Username)
		o.SetPassword(s.password)
	}
	if s.tls != nil {
		o.SetTLSConfig(s.tls)
	}
	return o
}

// Run connects, reconnects with backoff and serves hub commands until ctx
// ends; then it publishes availability "offline" (retained) and disconnects
// cleanly. It returns nil on a clean stop. Run may be called once.
func (l *Link) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("hub: Run called more than once")
	}
	inner, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.sendLoop(inner) }()
	go func() { defer wg.Done(); l.commandLoop(inner) }()

	l.connect(ctx)
	<-ctx.Done()
	close(l.stopping)
	cancel()
	wg.Wait()

	if l.client.IsConnectionOpen() {
		tok := l.client.Publish(l.topics.availability, 1, true, "offline")
		if !tok.WaitTimeout(2*time.Second) || tok.Error() != nil {
			l.log.Warn("hub link: could not publish availability offline", "err", tok.Error())
		}
	}
	l.client.Disconnect(250)
	l.log.Info("hub link stopped")
	return nil
}

// connect makes the first connection, retrying with capped exponential
// backoff; afterwards paho reconnects by itself (also with backoff).
func (l *Link) connect(ctx context.Context) {
	backoff := min(time.Second, l.cfg.MaxReconnect)
	for {
		tok := l.client.Connect()
		select {
		case <-tok.Done():
		case <-ctx.Done():
			return
		}
		if tok.Error() == nil {
			return
		}
		wait := jitter(backoff, mrand.Int64N)
		l.log.Warn("hub broker unreachable; retrying", "broker", redact(l.cfg.brokerURL), "err", tok.Error(), "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		backoff = min(2*backoff, l.cfg.MaxReconnect)
	}
}

// onConnect runs on a goroutine of paho's that Run cannot wait for, so it
// only signals; sendLoop subscribes and announces.
func (l *Link) onConnect(mqtt.Client) {
	l.log.Info("hub link connected", "broker", redact(l.cfg.brokerURL))
	l.reconnects.Store(0)
	signal(l.connUp)
}

// onReconnecting runs on paho's reconnect goroutine before each attempt.
// paho waits 1 s, 2 s, 4 s … up to max_reconnect between attempts, the same
// for every device; waiting a random part of half that again spreads the
// devices out (jitter). It returns at once when the link stops.
func (l *Link) onReconnecting(mqtt.Client, *mqtt.ClientOptions) {
	n := min(l.reconnects.Add(1)-1, 16)
	d := min(time.Second<<n, l.cfg.MaxReconnect)
	t := time.NewTimer(jitter(d, mrand.Int64N) - d/2)
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.stopping:
	}
}

// haStatusTopic is where Home Assistant announces itself ("online" after a
// start): devices then publish their discovery configs and state again.
const haStatusTopic = "homeassistant/status"

// subscribe (re)subscribes to the commands on every connection: the broker
// may have lost the persistent session (a restart without persistence).
func (l *Link) subscribe(ctx context.Context) {
	filters := map[string]byte{l.topics.cmdPrefix + "+": 1, triggerFilter(l.cfg.DeviceID): 1}
	if l.cfg.Discovery {
		filters[haStatusTopic] = 1
	}
	tok := l.client.SubscribeMultiple(filters, l.onMessage)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-tok.Done():
		if tok.Error() == nil {
			l.listening.Store(l.client.IsConnectionOpen())
			return
		}
	case <-ctx.Done():
		return
	case <-t.C:
	}
	l.log.Error("hub link: subscribe to commands failed", "topic", l.topics.cmdPrefix+"+", "err", tok.Error())
}

func (l *Link) onConnectionLost(_ mqtt.Client, err error) {
	l.log.Warn("hub link lost; reconnecting", "err", err)
	// paho calls this on a goroutine of its own, which may run after the
	// next connection is up and subscribed; that connection's own
	// subscribe (see sendLoop) decides whether it listens.
	if !l.client.IsConnectionOpen() {
		l.listening.Store(false)
	}
	l.lostMu.Lock()
	close(l.lostCh)
	l.lostCh = make(chan struct{})
	l.lostMu.Unlock()
}

// canSend reports whether new messages may be handed to paho now: connected,
// and paho's resume for this connection has listed what it will resend.
func (l *Link) canSend() bool { return l.client.IsConnectionOpen() && l.sent.resumed() }

// awaitResume waits (at most 5 s) until canSend, or until the connection is
// gone (paho then only stores what is published; resume sends it once).
func (l *Link) awaitResume(ctx context.Context) bool {
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for l.client.IsConnectionOpen() && !l.sent.resumed() {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-poll.C:
		}
	}
	return true
}

// Connected reports whether the link is connected to the broker right now
// and subscribed to the hub's commands, so a command sent now is heard.
func (l *Link) Connected() bool { return l.client.IsConnectionOpen() && l.listening.Load() }

// Status is the link as `earshot status` shows it.
type Status struct {
	Connected       bool
	QueuedActions   int    // waiting in the outbox for the broker
	QueuedReceipts  int    // waiting for the broker
	HandledCommands uint64 // since start
	DroppedCommands uint64 // refused at the full command queue since start
}

// Status reports the link's connection and queues.
func (l *Link) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Status{
		Connected:       l.Connected(),
		QueuedActions:   len(l.outbox),
		QueuedReceipts:  len(l.receipts),
		HandledCommands: l.handledCmds.Load(),
		DroppedCommands: l.droppedCmds.Load(),
	}
}

// PublishAction queues an action record for the hub and returns at once; it
// never blocks the audio path. While the broker is unreachable actions wait
// in a bounded in-memory outbox and are dropped, with a log line, once older
// than action_ttl. An empty Device is filled with the device id, an empty
// ID with a random one.
//
// The built-in privacy intents (ForgetLast, ForgetToday) act locally and
// never leave the device; they are refused here too.
func (l *Link) PublishAction(a Action) {
	if localIntents[a.Intent] {
		l.log.Debug("hub link: local privacy intent not sent to the hub", "intent", a.Intent)
		return
	}
	if a.Device == "" {
		a.Device = l.cfg.DeviceID
	}
	if a.ID == "" {
		a.ID = randomID()
	}
	if a.Time.IsZero() {
		a.Time = l.cfg.Clock()
	}
	if len(a.Slots) > 0 { // the caller may reuse its map
		slots := make(map[string]string, len(a.Slots))
		for k, v := range a.Slots {
			slots[k] = v
		}
		a.Slots = slots
	}
	l.mu.Lock()
	if l.forgotten.has(a.ID) {
		l.mu.Unlock()
		l.log.Info("hub link: action not sent, its record was deleted first", "action", a.ID)
		return
	}
	var dropped *Action
	l.outbox, dropped = pushDropOldest(l.outbox, a, l.cfg.OutboxSize)
	l.mu.Unlock()
	if dropped != nil {
		l.log.Warn("hub outbox full: dropped oldest action", "action", dropped.ID, "intent", dropped.Intent, "bound", l.cfg.OutboxSize)
	}
	signal(l.wake)
}

// PublishReceipt queues a deletion receipt (QoS1, in parts of at most
// MaxReceiptIDs ids) and returns at once. A receipt whose ID was queued
// before is ignored, so a hub-initiated delete that the daemon also
// reports is published once. Actions of the records it names that have not
// reached paho yet are dropped: the user deleted them before they left.
func (l *Link) PublishReceipt(r retention.Receipt) {
	l.mu.Lock()
	if r.ID != "" && !l.seen.add(r.ID) {
		l.mu.Unlock()
		return
	}
	named := make(map[string]bool, len(r.IDs))
	for _, id := range r.IDs {
		named[id] = true
		l.forgotten.add(id)
	}
	var unsent []string
	l.outbox = slices.DeleteFunc(l.outbox, func(a Action) bool {
		if named[a.ID] {
			unsent = append(unsent, a.ID)
		}
		return named[a.ID]
	})
	var dropped *queuedReceipt
	l.receipts, dropped = pushDropOldest(l.receipts, queuedReceipt{r: r, next: 1}, l.cfg.ReceiptQueue)
	l.mu.Unlock()
	for _, id := range unsent {
		l.log.Info("hub link: action not sent, its record was deleted first", "action", id, "receipt", r.ID)
	}
	if dropped != nil {
		l.log.Warn("hub receipt queue full: dropped oldest receipt", "receipt", dropped.r.ID, "bound", l.cfg.ReceiptQueue)
	}
	signal(l.wake)
}

// PublishState asks the link to publish the retained state; call it on any
// change of mute, window or store. The link reads the state through Store
// and Muter when it sends, so bursts of calls collapse into one publish.
func (l *Link) PublishState() { signal(l.stateDirty) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

func redact(broker string) string {
	u, err := url.Parse(broker)
	if err != nil {
		return "(unparsable broker url)"
	}
	return u.Redacted()
}

var (
	errAckTimeout = errors.New("no acknowledgement from broker in time")
	errConnLost   = errors.New("connection lost before the acknowledgement")
)

// publish hands one message to paho and waits for the broker's ack (QoS1) or
// the write (QoS0), at most wait, and not past a connection loss: what paho
// holds then it resends after reconnecting, so waiting on would only hold up
// the messages behind this one.
func (l *Link) publish(ctx context.Context, topic string, qos byte, retained bool, payload []byte, wait time.Duration) error {
	return l.hand(topic, qos, retained, payload).wait(ctx, wait)
}

// handed is a message paho has taken, with the connection it went out on.
type handed struct {
	topic string
	tok   mqtt.Token
	lost  <-chan struct{}
}

// hand gives one message to paho without waiting: paho sends messages in
// the order it is handed them.
func (l *Link) hand(topic string, qos byte, retained bool, payload []byte) handed {
	l.lostMu.Lock()
	lost := l.lostCh
	l.lostMu.Unlock()
	return handed{topic: topic, tok: l.client.Publish(topic, qos, retained, payload), lost: lost}
}

func (h handed) wait(ctx context.Context, wait time.Duration) error {
	topic, tok, lost := h.topic, h.tok, h.lost
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("publish %s: %w", topic, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("publish %s: %w", topic, errAckTimeout)
	case <-lost:
		return fmt.Errorf("publish %s: %w", topic, errConnLost)
	}
}

// pushDropOldest appends v to the bounded queue q, first dropping the
// oldest element if q already holds bound; it returns the one dropped.
func pushDropOldest[T any](q []T, v T, bound int) ([]T, *T) {
	var dropped *T
	if len(q) >= bound {
		d := q[0]
		dropped = &d
		q = append(q[:0], q[1:]...)
	}
	return append(q, v), dropped
}
