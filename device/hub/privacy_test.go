package hub

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// Utterances as the speech engine would hear them, with the slot values the
// intent parser extracts. Only the slot values may reach the hub.
var utterances = []struct {
	transcript string
	intent     string
	slots      map[string]string
}{
	{"hey jarvis kindly brighten my bedroom immediately", "LightsOn", map[string]string{"room": "bedroom"}},
	{"jarvis could you darken the kitchen sweetheart", "LightsOff", map[string]string{"room": "kitchen"}},
	{"jarvis remind grandma about five", "SetTimer", map[string]string{"minutes": "5"}},
	{"jarvis forget everything whispered yesterday", "ForgetToday", nil},
}

// TestNothingTheUserSaidReachesTheHub runs every outgoing path — actions,
// hermes, discovery, state, receipts, replies — with a subscriber on "#" and
// logs captured at INFO, and checks no transcript word shows up anywhere.
func TestNothingTheUserSaidReachesTheHub(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "#")
	var logs bytes.Buffer
	cfg := testConfig(addr)
	cfg.Discovery, cfg.Hermes = true, true
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	store := newFakeStore()
	l := runLink(t, cfg, store, &fakeMuter{})
	obs.waitFor("online", hasPayload(topicAvail, "online"))

	for i, u := range utterances {
		l.PublishAction(Action{ID: fmt.Sprint("act-", i), Intent: u.intent, Slots: u.slots})
	}
	// Actions go out in order: once the sentinel is in, every earlier one is.
	l.PublishAction(Action{ID: "sentinel", Intent: "LightsOn"})
	obs.publish(topicCmd+"delete", `{"id":"p1","scope":"all"}`)
	obs.publish(topicCmd+"state", `{"id":"p2"}`)
	obs.publish(topicCmd+"mute", `{"id":"p3"}`)
	l.PublishState()
	msgs := obs.waitFor("all traffic", func(m []message) bool {
		_, ok := findReply(m, "p3")
		return ok && slices.Contains(actionIDs(m, topicAction), "sentinel") && len(onTopic(m, "hermes/intent/SetTimer")) == 1
	})

	for _, m := range msgs {
		if strings.Contains(string(m.Payload), "ForgetToday") || strings.Contains(m.Topic, "ForgetToday") {
			t.Errorf("local privacy intent left the device: %s %s", m.Topic, m.Payload)
		}
	}
	allowed := map[string]bool{}
	for _, u := range utterances {
		for _, v := range u.slots {
			allowed[v] = true
		}
	}
	for _, u := range utterances {
		for _, w := range strings.Fields(u.transcript) {
			if allowed[w] || len(w) < 4 {
				continue // slot values are the action; short words match too much by chance
			}
			for _, m := range msgs {
				if strings.Contains(strings.ToLower(string(m.Payload)), w) || strings.Contains(m.Topic, w) {
					t.Errorf("transcript word %q in %s: %s", w, m.Topic, m.Payload)
				}
			}
			if strings.Contains(logs.String(), w) {
				t.Errorf("transcript word %q in logs at INFO", w)
			}
		}
	}
	// Not even the extracted slot values are logged at INFO or above.
	for v := range allowed {
		if strings.Contains(logs.String(), "="+v) {
			t.Errorf("slot value %q in logs at INFO: %s", v, logs.String())
		}
	}
}
