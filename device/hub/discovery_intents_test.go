package hub

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestVoiceCommandDiscovery: the event entity lists the intents that reach
// the hub (never the local privacy intents), each such intent has a device
// trigger, and a reload republishes the event types and removes the
// triggers of intents that went.
func TestVoiceCommandDiscovery(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "homeassistant/#")
	cfg := testConfig(addr)
	cfg.Discovery = true
	cfg.Intents = []string{"SetTimer", "LightsOn", "ForgetLast", "LightsOff", "ForgetToday"}
	l := runLink(t, cfg, newFakeStore(), &fakeMuter{})

	const eventTopic = "homeassistant/event/kitchen-speaker/voice_command/config"
	eventTypes := func(m []message) []string {
		var last []string
		for _, x := range onTopic(m, eventTopic) {
			var e struct {
				EventTypes []string `json:"event_types"`
			}
			if json.Unmarshal(x.Payload, &e) == nil {
				last = e.EventTypes
			}
		}
		return last
	}
	want := []string{"LightsOff", "LightsOn", "SetTimer"}
	msgs := obs.waitFor("event entity and triggers", func(m []message) bool {
		return slices.Equal(eventTypes(m), want) && len(onTopic(m, triggerTopic("kitchen-speaker", "SetTimer"))) > 0
	})
	for _, name := range want {
		got := onTopic(msgs, triggerTopic("kitchen-speaker", name))
		if len(got) == 0 {
			t.Fatalf("no device trigger for %s", name)
		}
		var tr haDeviceTrigger
		if err := json.Unmarshal(got[len(got)-1].Payload, &tr); err != nil {
			t.Fatal(err)
		}
		if tr.Subtype != name || tr.Payload != name || tr.Topic != topicAction || tr.Type != triggerType {
			t.Errorf("trigger %s = %+v", name, tr)
		}
	}
	for _, local := range []string{"ForgetLast", "ForgetToday"} {
		if len(onTopic(msgs, triggerTopic("kitchen-speaker", local))) != 0 {
			t.Errorf("a device trigger for the local intent %s", local)
		}
	}

	// Reload: LightsOff and SetTimer gone, StopTimer new.
	seen := len(msgs)
	l.SetIntents([]string{"LightsOn", "StopTimer", "ForgetLast"})
	obs.waitFor("republished event types and removed triggers", func(m []message) bool {
		removed := 0
		for _, x := range m[seen:] {
			if len(x.Payload) == 0 && (x.Topic == triggerTopic("kitchen-speaker", "LightsOff") || x.Topic == triggerTopic("kitchen-speaker", "SetTimer")) {
				removed++
			}
		}
		return removed == 2 && slices.Equal(eventTypes(m), []string{"LightsOn", "StopTimer"}) &&
			len(onTopic(m[seen:], triggerTopic("kitchen-speaker", "StopTimer"))) > 0
	})
}
