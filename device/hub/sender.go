package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/earshot/earshot/retention"
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
		case <-l.wake:
		case <-tick.C:
		}
		l.expire()
		if !l.canSend() {
			continue
		}
		l.sendReceipts(ctx)
		l.sendActions(ctx)
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
	for _, d := range l.discovery() {
		payload := d.payload
		if !l.cfg.Discovery {
			payload = nil // an empty retained payload removes the entity
		}
		if err := l.publish(ctx, d.topic, 1, true, payload, 5*time.Second); err != nil && ctx.Err() == nil {
			l.log.Warn("hub link: discovery not acknowledged", "topic", d.topic, "err", err)
		}
	}
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

func (l *Link) popAction() (Action, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.outbox) == 0 {
		return Action{}, false
	}
	a := l.outbox[0]
	l.outbox[0] = Action{}
	l.outbox = l.outbox[1:]
	return a, true
}

func (l *Link) pushFrontAction(a Action) {
	l.mu.Lock()
	l.outbox = append([]Action{a}, l.outbox...)
	l.mu.Unlock()
}

func (l *Link) sendActions(ctx context.Context) {
	for ctx.Err() == nil {
		a, ok := l.popAction()
		if !ok {
			return
		}
		// Check age right before the hand-off: this is the last moment the
		// link, rather than paho, decides whether the action goes out.
		now := l.cfg.Clock()
		deadline := a.Time.Add(l.cfg.ActionTTL)
		if !now.Before(deadline) {
			l.log.Warn("hub link: action dropped, not delivered within action_ttl",
				"action", a.ID, "intent", a.Intent, "age", now.Sub(a.Time).Round(time.Millisecond), "action_ttl", l.cfg.ActionTTL)
			continue
		}
		payload, err := encodeAction(a)
		if err != nil {
			l.log.Error("hub link: action not encodable; dropped", "action", a.ID, "err", err)
			continue
		}
		l.sent.track(a.ID, deadline)
		// Wait for the ack at most until the TTL ends (and no more than 10 s,
		// so receipts and state are not held up by a dead connection).
		err = l.publish(ctx, l.topics.action, 1, false, payload, min(deadline.Sub(now), 10*time.Second))
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

// sendReceipts hands the queued receipts to paho, oldest first. sendLoop
// calls it, and commandLoop before each reply.
func (l *Link) sendReceipts(ctx context.Context) {
	l.sendingReceipts.Lock()
	defer l.sendingReceipts.Unlock()
	for ctx.Err() == nil {
		l.mu.Lock()
		if len(l.receipts) == 0 {
			l.mu.Unlock()
			return
		}
		r := l.receipts[0]
		l.receipts = l.receipts[1:]
		l.mu.Unlock()

		b, err := json.Marshal(r)
		if err != nil {
			l.log.Error("hub link: receipt not encodable; dropped", "receipt", r.ID, "err", err)
			continue
		}
		err = l.publish(ctx, l.topics.receipt, 1, false, b, 10*time.Second)
		if errors.Is(err, mqtt.ErrNotConnected) {
			l.mu.Lock()
			l.receipts = append([]retention.Receipt{r}, l.receipts...)
			l.mu.Unlock()
			return
		}
		if err != nil {
			// Held by paho and resent after reconnect: receipts do not expire.
			l.log.Warn("hub link: receipt not acknowledged yet", "receipt", r.ID, "err", err)
		} else if l.cfg.ReceiptAcked != nil {
			l.cfg.ReceiptAcked(r.ID)
		}
	}
}
