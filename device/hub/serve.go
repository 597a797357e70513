package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/time/rate"

	"github.com/earshot/earshot/retention"
)

// inbound is a command as received, before validation. Oversized payloads
// are not copied: only their size is kept for the reply.
type inbound struct {
	name    string
	payload []byte
	size    int
}

// onMessage runs on paho's router goroutine and must not block or publish:
// it copies the command into a bounded queue and returns. When the queue is
// full the command is dropped and counted, so a flood costs neither memory
// nor the broker connection (nor, further away, the audio path).
func (l *Link) onMessage(_ mqtt.Client, m mqtt.Message) {
	if m.Topic() == haStatusTopic {
		// A retained "online" is Home Assistant's state, not news of a start.
		if !m.Retained() && string(m.Payload()) == "online" {
			signal(l.haOnline)
		}
		return
	}
	if strings.HasPrefix(m.Topic(), "homeassistant/") {
		l.foundTrigger(m)
		return
	}
	name, ok := strings.CutPrefix(m.Topic(), l.topics.cmdPrefix)
	if !ok || strings.Contains(name, "/") {
		return
	}
	if m.Retained() {
		// A command is an event. One left retained on the broker
		// (mosquitto_pub -r) would run again at every start.
		if l.warnedRetained.CompareAndSwap(false, true) {
			l.log.Warn("hub link: ignoring a retained command; clear it on the broker with an empty retained message",
				"topic", m.Topic())
		} else {
			l.log.Debug("hub link: ignoring a retained command", "topic", m.Topic())
		}
		return
	}
	in := inbound{name: truncate(name, 64), size: len(m.Payload())}
	if size, cut := cutSize(m.Payload()); cut {
		in.size = size // boundedConn kept the payload from paho
	} else if in.size <= MaxCommandSize {
		in.payload = bytes.Clone(m.Payload())
	}
	select {
	case l.cmds <- in:
	default:
		l.droppedCmds.Add(1)
	}
}

// commandLoop handles commands one at a time, so store and mute calls from
// the hub never race each other, and paces them by the reply rate.
func (l *Link) commandLoop(ctx context.Context) {
	lim := rate.NewLimiter(rate.Limit(l.cfg.ReplyRate), l.cfg.ReplyBurst)
	cache := newReplyCache(512)
	report := time.NewTicker(5 * time.Second)
	defer report.Stop()
	var reported uint64 // droppedCmds already logged
	for {
		select {
		case <-ctx.Done():
			return
		case <-report.C:
			if n := l.droppedCmds.Load(); n > reported {
				l.log.Warn("hub command flood: commands dropped, queue full", "dropped", n-reported, "queue", l.cfg.CommandQueue)
				reported = n
			}
		case in := <-l.cmds:
			if lim.Wait(ctx) != nil {
				return
			}
			reply := l.handle(in, cache)
			l.handledCmds.Add(1)
			l.awaitResume(ctx)
			// A deletion's receipt goes out before its reply: a hub (or a
			// power cut) acting on the reply must not find it missing.
			if l.canSend() {
				l.sendReceipts(ctx)
			}
			if err := l.publish(ctx, l.topics.reply, 1, false, reply, 5*time.Second); err != nil {
				// The hub retries with the same id and gets the cached reply.
				l.log.Warn("hub link: reply not sent", "command", in.name, "err", err)
			}
		}
	}
}

// handle validates and executes one command and returns its encoded reply.
// A command seen before (same correlation id, same command and arguments: a
// QoS1 duplicate or a retry) is not executed again; its first reply is sent
// again. The same id with anything else is refused: one of the two
// commands would otherwise be silently lost.
func (l *Link) handle(in inbound, cache *replyCache) []byte {
	if in.payload == nil && in.size > MaxCommandSize {
		return encodeReply(Reply{Error: fmt.Sprintf("cmd/%s: payload of %d bytes exceeds %d", in.name, in.size, MaxCommandSize)})
	}
	cmd, err := DecodeCommand(in.name, in.payload)
	if err != nil {
		l.log.Debug("hub command refused", "command", in.name, "reason", err)
		return encodeReply(Reply{ID: correlationID(in.payload), Error: "cmd/" + in.name + ": " + err.Error()})
	}
	if seen, ok := cache.get(cmd.ID); ok {
		if seen.command != cmd.fingerprint() {
			l.log.Info("hub command refused: correlation id reused", "command", cmd.Name, "id", cmd.ID)
			return encodeReply(Reply{ID: cmd.ID, Error: fmt.Sprintf("cmd/%s: correlation id %q was already used for a different command; use a new id", cmd.Name, cmd.ID)})
		}
		l.log.Debug("hub command repeated; sending first reply again", "command", cmd.Name, "id", cmd.ID)
		return seen.reply
	}
	r, transient := l.execute(cmd)
	r.ID = cmd.ID
	b := encodeReply(r)
	if !transient {
		cache.put(cmd.ID, handled{command: cmd.fingerprint(), reply: b})
	}
	l.log.Info("hub command handled", "command", cmd.Name, "id", cmd.ID, "ok", r.OK, "error", r.Error)
	return b
}

// execute runs a valid command. transient marks failures worth retrying with
// the same id (store or mute errors), which are therefore not cached.
func (l *Link) execute(cmd Command) (r Reply, transient bool) {
	switch cmd.Name {
	case CmdMute:
		if !cmd.Mute {
			return l.unmute()
		}
		if err := l.mute.Mute(SourceHub); err != nil {
			return Reply{Error: "mute failed: " + err.Error()}, true
		}
		l.PublishState()
		return Reply{OK: true, Result: l.state()}, false
	case CmdUnmute:
		return l.unmute()
	case CmdState:
		l.PublishState()
		return Reply{OK: true, Result: l.state()}, false
	case CmdDelete:
		return l.delete(cmd)
	case CmdRetention:
		if ceiling := l.ceiling(); cmd.Window > ceiling {
			return Reply{Error: fmt.Sprintf("window %s exceeds the configured ceiling %s", FormatWindow(cmd.Window), FormatWindow(ceiling))}, false
		}
		if err := l.store.SetWindow(cmd.Window); err != nil {
			return Reply{Error: "set window failed: " + err.Error()}, true
		}
		l.PublishState()
		return Reply{OK: true, Result: map[string]string{"window": FormatWindow(cmd.Window)}}, false
	}
	return Reply{Error: "unknown command " + cmd.Name}, false
}

// ceiling is the longest window the hub may set: the configured window, or
// the store's ceiling if that is shorter. Never longer than either.
func (l *Link) ceiling() time.Duration {
	c := l.cfg.Window
	if sc := l.store.Stats().Ceiling; sc > 0 && sc < c {
		c = sc
	}
	return c
}

func (l *Link) unmute() (Reply, bool) {
	err := l.mute.Unmute(SourceHub)
	switch {
	case err == nil:
		l.PublishState()
		return Reply{OK: true, Result: l.state()}, false
	case errors.Is(err, ErrMutedAtDevice) || err.Error() == ErrMutedAtDevice.Error():
		return Reply{Error: ErrMutedAtDevice.Error()}, false
	default:
		return Reply{Error: "unmute failed: " + err.Error()}, true
	}
}

// delete returns after the store reports the data gone from disk, so the
// reply (and the receipt) never precede the deletion.
func (l *Link) delete(cmd Command) (Reply, bool) {
	var receipt retention.Receipt
	var err error
	switch cmd.Scope {
	case "all":
		receipt, err = l.store.DeleteAll()
	case "record":
		receipt, err = l.store.Delete(cmd.Record)
	default:
		receipt, err = l.store.DeleteBefore(cmd.Before)
	}
	if receipt.Records > 0 {
		// Also after an error: what did go is gone, and the hub is told.
		l.PublishReceipt(receipt)
		l.PublishState()
	}
	if err != nil {
		return Reply{Error: "delete failed: " + err.Error()}, true
	}
	if receipt.Records == 0 {
		l.PublishReceipt(receipt) // a deletion asked for is answered with a receipt, even of nothing
	}
	return Reply{OK: true, Result: replyReceipt(receipt)}, false
}

func encodeReply(r Reply) []byte {
	b, err := json.Marshal(r)
	if err != nil { // a Result that does not encode is a bug; say so without it
		b, _ = json.Marshal(Reply{ID: r.ID, Error: "internal error: reply not encodable"})
	}
	return b
}
