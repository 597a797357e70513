package hub

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"
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

// TestTriggersLeftByAnEarlierRunAreRemoved: an intent removed from the
// intents file while the daemon was stopped left its device trigger
// retained on the broker, and no reload told the new process about it. At
// its start the link finds it there and removes it; the triggers it
// announces, and other devices' triggers, stay. With discovery off, all of
// this device's triggers go.
func TestTriggersLeftByAnEarlierRunAreRemoved(t *testing.T) {
	for _, discovery := range []bool{true, false} {
		t.Run(fmt.Sprint("discovery ", discovery), func(t *testing.T) {
			addr, _ := startBroker(t, "")
			obs := newObserver(t, "tcp://"+addr, "homeassistant/device_automation/#")
			old, kept := triggerTopic("kitchen-speaker", "OldIntent"), triggerTopic("kitchen-speaker", "LightsOn")
			other := triggerTopic("bedroom-speaker", "OldIntent")
			for _, topic := range []string{old, kept, other} {
				if tok := obs.client.Publish(topic, 1, true, `{"automation_type":"trigger"}`); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
					t.Fatalf("publish retained: %v", tok.Error())
				}
			}
			// mochi acks before it fans out: once the observer has its
			// copies, the link subscribing later gets them as retained.
			obs.waitFor("the earlier run's triggers", func(m []message) bool {
				return len(onTopic(m, old)) == 1 && len(onTopic(m, kept)) == 1 && len(onTopic(m, other)) == 1
			})
			cfg := testConfig(addr)
			cfg.Discovery = discovery
			cfg.Intents = []string{"LightsOn"}
			runLink(t, cfg, newFakeStore(), &fakeMuter{})
			removed := func(topic string) func([]message) bool {
				return func(m []message) bool {
					got := onTopic(m, topic)
					return len(got) > 1 && len(got[len(got)-1].Payload) == 0
				}
			}
			obs.waitFor("the stale trigger removed", removed(old))
			if !discovery {
				obs.waitFor("the announced trigger removed too", removed(kept))
			}

			// What the broker keeps now is what a new subscriber gets, as
			// retained messages, before its own message comes back (the
			// broker sends the retained ones while handling the subscribe).
			late := newObserver(t, "tcp://"+addr, "homeassistant/device_automation/#")
			const barrier = "homeassistant/device_automation/barrier"
			late.publish(barrier, "b")
			var retained []string
			for _, x := range late.waitFor("the barrier", func(m []message) bool { return len(onTopic(m, barrier)) == 1 }) {
				if x.Retained {
					retained = append(retained, x.Topic)
				}
			}
			want := []string{kept, other}
			if !discovery {
				want = []string{other}
			}
			slices.Sort(retained)
			slices.Sort(want)
			if !slices.Equal(retained, want) {
				t.Errorf("retained after the start: %q, want %q", retained, want)
			}
		})
	}
}
