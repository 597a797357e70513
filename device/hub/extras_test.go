package hub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/earshot/earshot/device/localbroker"
)

func TestHermesIntent(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "hermes/#")
	cfg := testConfig(addr)
	cfg.Hermes = true
	l := runLink(t, cfg, newFakeStore(), &fakeMuter{})
	waitUntil(t, "connected", l.Connected)
	l.PublishAction(Action{ID: "s1", Intent: "SetTimer", Slots: map[string]string{"minutes": "5", "label": "tea"}})
	msgs := obs.waitFor("hermes intent", func(m []message) bool { return len(onTopic(m, "hermes/intent/SetTimer")) == 1 })

	var got map[string]any
	if err := json.Unmarshal(onTopic(msgs, "hermes/intent/SetTimer")[0].Payload, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sessionId": "s1", "siteId": "kitchen-speaker", "input": "",
		"intent": map[string]any{"intentName": "SetTimer", "confidenceScore": 1.0},
		"slots": []any{
			map[string]any{"slotName": "label", "entity": "label", "value": map[string]any{"kind": "Custom", "value": "tea"}},
			map[string]any{"slotName": "minutes", "entity": "minutes", "value": map[string]any{"kind": "Number", "value": 5.0}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hermes payload\n got %v\nwant %v", got, want)
	}
	for _, banned := range []string{"asrTokens", "rawValue", "raw_value", "range"} {
		if strings.Contains(string(onTopic(msgs, "hermes/intent/SetTimer")[0].Payload), banned) {
			t.Errorf("hermes payload contains %q", banned)
		}
	}
}

func TestDiscoveryPublishedAndRemoved(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "homeassistant/#")
	cfg := testConfig(addr)
	cfg.Discovery = true
	wantTopics := []string{
		"homeassistant/switch/kitchen-speaker/mute/config",
		"homeassistant/button/kitchen-speaker/delete_history/config",
		"homeassistant/sensor/kitchen-speaker/records/config",
		"homeassistant/sensor/kitchen-speaker/store_bytes/config",
		"homeassistant/sensor/kitchen-speaker/oldest_record/config",
	}
	// latest returns the last payload per topic: a broker may deliver a
	// retained message twice to a subscription made just before it.
	latest := func(m []message) map[string][]byte {
		out := map[string][]byte{}
		for _, x := range m {
			out[x.Topic] = x.Payload
		}
		return out
	}
	t.Run("on", func(t *testing.T) {
		runLink(t, cfg, newFakeStore(), &fakeMuter{})
		obs.waitFor("5 configs", func(m []message) bool { return len(latest(m)) == len(wantTopics) })
	})
	configs := latest(obs.messages())
	seen := len(obs.messages())
	uniq := map[string]bool{}
	for _, topic := range wantTopics {
		m := message{Topic: topic, Payload: configs[topic]}
		var e struct {
			UniqueID          string `json:"unique_id"`
			AvailabilityTopic string `json:"availability_topic"`
			Device            struct{ Identifiers []string }
			CommandTopic      string `json:"command_topic"`
			CommandTemplate   string `json:"command_template"`
		}
		if err := json.Unmarshal(m.Payload, &e); err != nil {
			t.Fatalf("%s: %v", m.Topic, err)
		}
		if e.UniqueID == "" || uniq[e.UniqueID] {
			t.Errorf("%s: unique_id %q missing or repeated", m.Topic, e.UniqueID)
		}
		uniq[e.UniqueID] = true
		if e.AvailabilityTopic != topicAvail || !slices.Equal(e.Device.Identifiers, []string{"kitchen-speaker"}) {
			t.Errorf("%s: availability %q, device %v", m.Topic, e.AvailabilityTopic, e.Device.Identifiers)
		}
		if e.CommandTopic != "" && !strings.HasPrefix(e.CommandTopic, topicCmd) {
			t.Errorf("%s: command topic %s outside the device's cmd/", m.Topic, e.CommandTopic)
		}
	}

	cfg.Discovery = false
	runLink(t, cfg, newFakeStore(), &fakeMuter{})
	obs.waitFor("5 removals", func(m []message) bool {
		removed := map[string]bool{}
		for _, x := range m[seen:] {
			if len(x.Payload) == 0 && slices.Contains(wantTopics, x.Topic) {
				removed[x.Topic] = true
			}
		}
		return len(removed) == len(wantTopics)
	})
}

// TestHomeAssistantCommandTemplates renders the discovery command templates
// the way Home Assistant would for one press and checks the link accepts
// the result.
func TestHomeAssistantCommandTemplates(t *testing.T) {
	l, err := New(testConfig("127.0.0.1:1883"), newFakeStore(), &fakeMuter{})
	if err != nil {
		t.Fatal(err)
	}
	render := strings.NewReplacer(
		"{{ now().timestamp() }}", "1764270000.123456",
		"{{ 'true' if value == 'ON' else 'false' }}", "false",
	)
	for _, d := range l.discovery() {
		var e haEntity
		if err := json.Unmarshal(d.payload, &e); err != nil {
			t.Fatal(err)
		}
		if e.CommandTemplate == "" {
			continue
		}
		name := strings.TrimPrefix(e.CommandTopic, l.topics.cmdPrefix)
		if _, err := DecodeCommand(name, []byte(render.Replace(e.CommandTemplate))); err != nil {
			t.Errorf("%s: rendered template refused: %v", d.topic, err)
		}
	}
}

func TestCommandFloodIsBounded(t *testing.T) {
	addr, _ := startBroker(t, "")
	// The observer floods cmd/ but does not listen to it: reading its own
	// 10000 messages back made it too slow to see the action on a loaded
	// machine (under -race, beside a training run).
	obs := newObserver(t, "tcp://"+addr, "earshot/kitchen-speaker/+")
	cfg := testConfig(addr)
	cfg.CommandQueue, cfg.ReplyRate, cfg.ReplyBurst = 16, 500, 16
	store := newFakeStore()
	l := runLink(t, cfg, store, &fakeMuter{})
	obs.waitFor("online", hasPayload(topicAvail, "online"))

	const flood = 10000
	payload := []byte(`{"id":"flood","scope":"all"}`)
	for range flood {
		obs.client.Publish(topicCmd+"delete", 0, false, payload) // QoS0: a burst, no flow control
	}
	// The audio path keeps working during the flood.
	l.PublishAction(Action{ID: "during-flood", Intent: "LightsOn"})
	obs.waitFor("action during flood", func(m []message) bool { return slices.Contains(actionIDs(m, topicAction), "during-flood") })

	// The link still answers: a hub retries with the same id until it gets
	// a reply, since a command may have been dropped at the full queue.
	deadline := time.Now().Add(15 * time.Second)
	for {
		obs.publish(topicCmd+"state", `{"id":"after-flood"}`)
		if obs.seenWithin(time.Second, replyTo("after-flood")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no reply after the flood")
		}
	}

	if l.droppedCmds.Load() == 0 {
		t.Error("no command dropped: the queue bound never engaged")
	}
	if calls := store.Calls(); len(calls) != 1 {
		t.Errorf("store calls = %d, want 1: one correlation id runs once", len(calls))
	}
	if !l.Connected() {
		t.Error("flood cost the broker connection")
	}
}

// TestRouteLogs: TestMain routed paho's globals (before any client ran, as
// the daemon must); here their output is checked, and the level mapping.
func TestRouteLogs(t *testing.T) {
	// paho logs every failed connection attempt at ERROR and retries; a
	// broker that is down for a while is worth a warning, not an error
	// (journalctl -p err is for what needs someone to act).
	mqtt.ERROR.Println("[client]", "boom-route-test")
	if out := pahoLogs.String(); !strings.Contains(out, `level=WARN msg="[client] boom-route-test"`) || !strings.Contains(out, "component=paho") {
		t.Errorf("paho ERROR not routed into slog at WARN:\n%s", out)
	}
	mqtt.CRITICAL.Println("[client]", "crit-route-test")
	if out := pahoLogs.String(); !strings.Contains(out, `level=ERROR msg="[client] crit-route-test"`) {
		t.Errorf("paho CRITICAL not routed into slog at ERROR:\n%s", out)
	}

	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pahoLogger{logger, slog.LevelError}.Println("[net]", "down")
	pahoLogger{logger, slog.LevelWarn}.Printf("careful %d", 7)
	pahoLogger{logger, slog.LevelDebug}.Println("chatter")
	out := buf.String()
	for _, want := range []string{`level=ERROR msg="[net] down"`, `level=WARN msg="careful 7"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "chatter") {
		t.Errorf("debug line logged at WARN level:\n%s", out)
	}
}

func TestWebSocketBroker(t *testing.T) {
	b, err := localbroker.Open(localbroker.Options{WebSocket: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	wsAddr := b.WebSocketAddr()

	obs := newObserver(t, b.URL(), topicAction)
	cfg := testConfig(wsAddr)
	cfg.Broker = "ws://" + wsAddr + "/mqtt"
	l := runLink(t, cfg, newFakeStore(), &fakeMuter{})
	l.PublishAction(Action{ID: "over-ws", Intent: "LightsOn"})
	obs.waitFor("action over websocket", func(m []message) bool { return slices.Contains(actionIDs(m, topicAction), "over-ws") })
}

func TestRetentionCeilingNeverLengthens(t *testing.T) {
	tests := []struct{ config, store, want time.Duration }{
		{24 * time.Hour, 12 * time.Hour, 12 * time.Hour},
		{24 * time.Hour, 0, 24 * time.Hour},
		{2 * time.Hour, 24 * time.Hour, 2 * time.Hour},
		{0, 24 * time.Hour, 0},
	}
	for _, tc := range tests {
		cfg := testConfig("127.0.0.1:1883")
		cfg.Window = tc.config
		store := newFakeStore()
		store.stats.Ceiling = tc.store
		l, err := New(cfg, store, &fakeMuter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := l.ceiling(); got != tc.want {
			t.Errorf("ceiling(config %v, store %v) = %v, want %v", tc.config, tc.store, got, tc.want)
		}
		r, _ := l.execute(Command{Name: CmdRetention, ID: "x", Window: tc.want + time.Second})
		if r.OK || len(store.Calls()) != 0 {
			t.Errorf("window %v past ceiling %v accepted", tc.want+time.Second, tc.want)
		}
	}
}

func TestStatus(t *testing.T) {
	cfg := testConfig("127.0.0.1:1")
	l, err := New(cfg, newFakeStore(), &fakeMuter{})
	if err != nil {
		t.Fatal(err)
	}
	l.PublishAction(Action{ID: "a", Intent: "LightsOn"})
	l.PublishAction(Action{ID: "b", Intent: "ForgetToday"}) // stays on the device
	l.PublishReceipt(retentionReceipt("r1"))
	l.PublishReceipt(retentionReceipt("r1")) // the same deletion reported twice
	want := Status{QueuedActions: 1, QueuedReceipts: 1}
	if got := l.Status(); got != want {
		t.Errorf("Status() = %+v, want %+v", got, want)
	}
}

// Home Assistant's MQTT discovery conventions as of 2025.10: object_id is
// deprecated (removed in 2026.4) in favour of default_entity_id, a full
// entity id; every config names its origin; the device its sw_version.
func TestDiscoveryFollowsHomeAssistantConventions(t *testing.T) {
	cfg := testConfig("127.0.0.1:1883")
	cfg.DeviceID = "kitchen-speaker-2"
	cfg.Version = "0~git20261204.7412d3d"
	l, err := New(cfg, newFakeStore(), &fakeMuter{})
	if err != nil {
		t.Fatal(err)
	}
	// homeassistant/helpers/config_validation.py: valid_entity_id.
	entityID := regexp.MustCompile(`^(?:[a-z0-9]+_?)*[a-z0-9]\.(?:[a-z0-9]+_?)*[a-z0-9]$`)
	ids := map[string]bool{}
	for _, d := range l.discovery() {
		var e map[string]any
		if err := json.Unmarshal(d.payload, &e); err != nil {
			t.Fatal(err)
		}
		component := strings.Split(d.topic, "/")[1]
		id, _ := e["default_entity_id"].(string)
		if !entityID.MatchString(id) || !strings.HasPrefix(id, component+".") || ids[id] {
			t.Errorf("%s: default_entity_id %q: want a unique, valid %s.* entity id", d.topic, id, component)
		}
		ids[id] = true
		if _, ok := e["object_id"]; ok {
			t.Errorf("%s: carries the deprecated object_id", d.topic)
		}
		origin, _ := e["origin"].(map[string]any)
		if origin["name"] != "earshot" || origin["sw_version"] != cfg.Version || !strings.HasPrefix(fmt.Sprint(origin["support_url"]), "https://") {
			t.Errorf("%s: origin %v", d.topic, origin)
		}
		if dev, _ := e["device"].(map[string]any); dev["sw_version"] != cfg.Version {
			t.Errorf("%s: device %v lacks sw_version", d.topic, dev)
		}
	}
	if len(ids) != 5 {
		t.Errorf("%d entities", len(ids))
	}
}

// When Home Assistant restarts it announces "online" on homeassistant/status
// and expects every device to send its discovery configs and state again.
func TestHomeAssistantBirthRepublishesDiscoveryAndState(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "#")
	cfg := testConfig(addr)
	cfg.Discovery = true
	l := runLink(t, cfg, newFakeStore(), &fakeMuter{})
	const mute = "homeassistant/switch/kitchen-speaker/mute/config"
	count := func(m []message, topic string) int { return len(onTopic(m, topic)) }
	obs.waitFor("discovery and state", func(m []message) bool { return count(m, mute) == 1 && count(m, topicState) == 1 })
	waitUntil(t, "subscribed", l.Connected)
	obs.publish("homeassistant/status", "offline")
	obs.publish("homeassistant/status", "online")
	obs.waitFor("discovery and state again", func(m []message) bool { return count(m, mute) == 2 && count(m, topicState) == 2 })
}

// A change of state is published once, though the link and the daemon
// both ask for it (a hub mute: the command and the mute gate).
func TestStateIsPublishedOncePerChange(t *testing.T) {
	addr, _ := startBroker(t, "")
	obs := newObserver(t, "tcp://"+addr, "earshot/#")
	store, mute := newFakeStore(), &fakeMuter{}
	l := runLink(t, testConfig(addr), store, mute)
	obs.waitFor("first state", func(m []message) bool { return len(onTopic(m, topicState)) == 1 })
	for i := range 5 {
		obs.publish(topicCmd+"mute", fmt.Sprintf(`{"id":"m%d","mute":%t}`, i, i%2 == 0))
		obs.waitFor(fmt.Sprintf("reply m%d", i), replyTo(fmt.Sprintf("m%d", i)))
		l.PublishState() // as the daemon does when the mute gate changes
	}
	// A last, different change: every state asked for before it is out
	// by the time it is.
	store.mu.Lock()
	store.stats.Records = 7
	store.mu.Unlock()
	l.PublishState()
	msgs := obs.waitFor("the last state", func(m []message) bool {
		s := onTopic(m, topicState)
		return len(s) > 0 && strings.Contains(string(s[len(s)-1].Payload), `"records":7`)
	})
	var got []string
	for _, m := range onTopic(msgs, topicState) {
		got = append(got, string(m.Payload))
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Errorf("state %d published twice in a row: %s", i, got[i])
		}
	}
	if len(got) > 7 {
		t.Errorf("%d state messages for 6 changes:\n%s", len(got), strings.Join(got, "\n"))
	}
}
