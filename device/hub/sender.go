package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// sendLoop owns all outgoing traffic except replies: availability,
// discovery, state, receipts and actions. It is the only goroutine that
// takes from the outbox, so an action is handed to paho at most once.
func (l *Link) sendLoop(ctx context.Context) {
	tick := time.NewTicker(l.expireEvery())
	defer tick.Stop()
	stateDirty := true
	// lastState is the state the broker holds from this connection: the
	// daemon and the link may both ask for a publish after one change.
	var lastState []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.connUp:
			l.listening.Store(false) // until this connection's subscription holds
			l.subscribe(ctx)
			// Publish nothing new until paho's resume has listed what it
			// will resend, or the new messages would be sent twice.
			if !l.awaitResume(ctx) {
				l.log.Warn("hub link: paho resume not seen; continuing")
			}
			l.announce(ctx)
			lastState, stateDirty = nil, true
		case <-l.haOnline:
			// Home Assistant (re)started and asks devices to announce.
			if l.canSend() {
				l.announce(ctx)
				lastState, stateDirty = nil, true
			}
		case <-l.stateDirty:
			stateDirty = true
		case <-l.rediscover:
			if l.canSend() {
				l.publishDiscovery(ctx)
			} // else the next connection announces the new intents
		case <-l.wake:
		case <-tick.C:
		}
		l.expire()
		if !l.canSend() {
			continue
		}
		l.sendReceipts(ctx)
		l.sendActions(ctx)
		l.dropTriggersOfEarlierRuns(ctx)
		if stateDirty {
			var err error
			lastState, err = l.sendState(ctx, lastState)
			stateDirty = err != nil
		}
	}
}

// expireEvery is how often stale actions are dropped while offline, so the
// log line comes close to the moment the TTL passed.
func (l *Link) expireEvery() time.Duration {
	return min(max(l.cfg.ActionTTL/4, 50*time.Millisecond), time.Second)
}

func (l *Link) announce(ctx context.Context) {
	if err := l.publish(ctx, l.topics.availability, 1, true, []byte("online"), 5*time.Second); err != nil {
		l.log.Warn("hub link: availability online not acknowledged", "err", err)
	}
	l.publishDiscovery(ctx)
}

// publishDiscovery sends the discovery configs (retained), on every
// connection and after SetIntents.
func (l *Link) publishDiscovery(ctx context.Context) {
	msgs := l.discovery()
	for _, d := range msgs {
		payload := d.payload
		if !l.cfg.Discovery {
			payload = nil // an empty retained payload removes the entity
		}
		if err := l.publish(ctx, d.topic, 1, true, payload, 5*time.Second); err != nil && ctx.Err() == nil {
			l.log.Warn("hub link: discovery not acknowledged", "topic", d.topic, "err", err)
		}
	}
	l.dropStaleTriggers(ctx, msgs)
}

// sendState publishes the state unless it is last, the one already
// published, and returns what the broker now holds.
func (l *Link) sendState(ctx context.Context, last []byte) ([]byte, error) {
	b, err := json.Marshal(l.state())
	if err != nil {
		return last, err
	}
	if bytes.Equal(b, last) {
		return last, nil
	}
	if err := l.publish(ctx, l.topics.state, 1, true, b, 5*time.Second); err != nil {
		if ctx.Err() == nil {
			l.log.Warn("hub link: state not acknowledged; will resend", "err", err)
		}
		return last, err
	}
	return b, nil
}

// expire drops every queued action older than action_ttl: a command
// delivered late is worse than one not delivered.
func (l *Link) expire() {
	now := l.cfg.Clock()
	l.mu.Lock()
	var stale []Action
	keep := l.outbox[:0]
	for _, a := range l.outbox {
		if now.Sub(a.Time) > l.cfg.ActionTTL {
			stale = append(stale, a)
			continue
		}
		keep = append(keep, a)
	}
	clear(l.outbox[len(keep):])
	l.outbox = keep
	l.mu.Unlock()
	for _, a := range stale {
		l.log.Warn("hub link: action dropped, not delivered within action_ttl",
			"action", a.ID, "intent", a.Intent, "age", now.Sub(a.Time).Round(time.Millisecond), "action_ttl", l.cfg.ActionTTL)
	}
}

// popAction takes the oldest action from the outbox. The caller holds
// l.handoff until it has handed the action to paho (or dropped it).
func (l *Link) popAction() (Action, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.outbox) > 0 {
		a := l.outbox[0]
		l.outbox[0] = Action{}
		l.outbox = l.outbox[1:]
		if !l.forgotten.has(a.ID) {
			return a, true
		}
	}
	return Action{}, false
}

func (l *Link) pushFrontAction(a Action) {
	l.mu.Lock()
	l.outbox = append([]Action{a}, l.outbox...)
	l.mu.Unlock()
}

func (l *Link) sendActions(ctx context.Context) {
	for ctx.Err() == nil {
		a, h, ok := l.handAction()
		if !ok {
			return
		}
		if h == nil {
			continue
		}
		// Wait for the ack at most until the TTL ends (and no more than 10 s,
		// so receipts and state are not held up by a dead connection).
		now := l.cfg.Clock()
		err := h.wait(ctx, min(a.Time.Add(l.cfg.ActionTTL).Sub(now), 10*time.Second))
		switch {
		case err == nil:
			l.sent.done(a.ID)
		case errors.Is(err, mqtt.ErrNotConnected):
			l.sent.done(a.ID)
			l.pushFrontAction(a)
			return
		default:
			// paho holds it and resends after a reconnect, unless its TTL has
			// passed by then (see sentActions). Sending it again here would
			// only add a duplicate.
			l.log.Warn("hub link: action not acknowledged yet", "action", a.ID, "err", err)
			continue
		}
		l.log.Debug("hub link: action delivered", "action", a.ID, "intent", a.Intent)
		if l.delivered != nil {
			l.delivered(a.ID)
		}
		if l.cfg.Hermes {
			l.sendHermes(ctx, a)
		}
	}
}

// handAction takes the next action and hands it to paho, under l.handoff
// so that no receipt naming it can overtake it. ok is false when the outbox
// is empty; h is nil when the action was dropped instead.
func (l *Link) handAction() (a Action, h *handed, ok bool) {
	l.handoff.Lock()
	defer l.handoff.Unlock()
	a, ok = l.popAction()
	if !ok {
		return a, nil, false
	}
	// Check age right before the hand-off: this is the last moment the
	// link, rather than paho, decides whether the action goes out.
	now := l.cfg.Clock()
	deadline := a.Time.Add(l.cfg.ActionTTL)
	if !now.Before(deadline) {
		l.log.Warn("hub link: action dropped, not delivered within action_ttl",
			"action", a.ID, "intent", a.Intent, "age", now.Sub(a.Time).Round(time.Millisecond), "action_ttl", l.cfg.ActionTTL)
		return a, nil, true
	}
	if a.KeepUntil.IsZero() {
		a.KeepUntil = a.Time.Add(l.store.Stats().Window)
	}
	payload, err := encodeAction(a)
	if err != nil {
		l.log.Error("hub link: action not encodable; dropped", "action", a.ID, "err", err)
		return a, nil, true
	}
	l.sent.track(a.ID, deadline)
	hd := l.hand(l.topics.action, 1, false, payload)
	return a, &hd, true
}

func (l *Link) sendHermes(ctx context.Context, a Action) {
	topic, payload, ok := encodeHermes(a)
	if !ok {
		l.log.Warn("hub link: intent name not usable as a hermes topic; hermes message skipped", "action", a.ID)
		return
	}
	if !l.cfg.Clock().Before(a.Time.Add(l.cfg.ActionTTL)) {
		return
	}
	// QoS0 like Snips/Rhasspy: never stored by paho, so never sent late.
	if err := l.publish(ctx, topic, 0, false, payload, 5*time.Second); err != nil {
		l.log.Warn("hub link: hermes intent not sent", "action", a.ID, "err", err)
	}
}

// sendReceipts hands the queued receipts to paho, oldest first, each in
// its parts. sendLoop calls it, and commandLoop before each reply.
func (l *Link) sendReceipts(ctx context.Context) {
	l.sendingReceipts.Lock()
	defer l.sendingReceipts.Unlock()
	for ctx.Err() == nil {
		l.mu.Lock()
		if len(l.receipts) == 0 {
			l.mu.Unlock()
			return
		}
		q := l.receipts[0]
		l.receipts = l.receipts[1:]
		l.mu.Unlock()
		if !l.sendReceipt(ctx, &q) {
			l.mu.Lock()
			l.receipts = append([]queuedReceipt{q}, l.receipts...)
			l.mu.Unlock()
			return
		}
	}
}

// sendReceipt hands q's remaining parts to paho in order. It returns false,
// with q.next at the first part not taken, when the connection is down.
// Once the broker has acknowledged every part, the last one included, it
// calls Config.ReceiptAcked: a receipt half told is not delivered.
func (l *Link) sendReceipt(ctx context.Context, q *queuedReceipt) bool {
	parts := partCount(q.r)
	for ; q.next <= parts && ctx.Err() == nil; q.next++ {
		b, err := encodeReceiptPart(q.r, q.next)
		if err != nil {
			l.log.Error("hub link: receipt not encodable; dropped", "receipt", q.r.ID, "err", err)
			return true
		}
		l.handoff.Lock()
		h := l.hand(l.topics.receipt, 1, false, b)
		l.handoff.Unlock()
		err = h.wait(ctx, 10*time.Second)
		if errors.Is(err, mqtt.ErrNotConnected) {
			return false
		}
		if err != nil {
			// Held by paho and resent after reconnect: receipts do not expire.
			l.log.Warn("hub link: receipt not acknowledged yet", "receipt", q.r.ID, "part", q.next, "err", err)
			q.unacked = true
		}
	}
	if q.next > parts && !q.unacked && l.cfg.ReceiptAcked != nil {
		l.cfg.ReceiptAcked(q.r.ID)
	}
	return true
}
