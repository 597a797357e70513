package hub

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Home Assistant learns the device's voice commands two ways, both fed by
// the action topic itself, so nothing but the action record crosses the
// bus:
//
//   - an MQTT event entity, "Voice command", whose event types are the
//     intent names and whose attributes are the action's id and slots. It
//     gives the automation editor a dropdown of intents and shows the
//     commands in the device's history; Home Assistant records it, which
//     the receipt blueprint purges (docs/homeassistant.md).
//   - one MQTT device trigger per intent ("LightsOn" voice_command). A
//     device trigger is no entity: Home Assistant keeps no state, history
//     or logbook row of it, so it is the choice that leaves nothing behind.

// eventValueTemplate turns an action record into the event entity's JSON:
// event_type is the intent; action_id and slots become attributes.
const eventValueTemplate = "{{ {'event_type': value_json.intent, 'action_id': value_json.id, 'slots': value_json.slots} | to_json }}"

// triggerValueTemplate selects the intent of an action; each device
// trigger fires when it equals the trigger's payload.
const triggerValueTemplate = "{{ value_json.intent }}"

// triggerType is the device trigger's type, shown after the intent
// ("LightsOn" voice_command) in the automation editor.
const triggerType = "voice_command"

// discoveryIntentPattern is what may stand in a discovery topic level.
var discoveryIntentPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// haDeviceTrigger is an MQTT device trigger discovery config.
type haDeviceTrigger struct {
	AutomationType string    `json:"automation_type"`
	Topic          string    `json:"topic"`
	Type           string    `json:"type"`
	Subtype        string    `json:"subtype"`
	Payload        string    `json:"payload"`
	ValueTemplate  string    `json:"value_template"`
	QoS            int       `json:"qos"`
	Device         *haDevice `json:"device"`
	Origin         *haOrigin `json:"origin"`
}

// SetIntents replaces the intent names announced to Home Assistant (the
// daemon calls it after a reload of the intents file) and republishes the
// discovery configs; device triggers of intents that are gone are removed.
func (l *Link) SetIntents(names []string) {
	l.mu.Lock()
	l.intents = hubIntents(names)
	l.mu.Unlock()
	signal(l.rediscover)
}

// hubIntents keeps the intents whose actions reach the hub, sorted.
func hubIntents(names []string) []string {
	var out []string
	for _, n := range names {
		if !localIntents[n] && discoveryIntentPattern.MatchString(n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// intentDiscovery returns the event entity and the device triggers for the
// current intents; none when there are no intents.
func (l *Link) intentDiscovery(device *haDevice, origin *haOrigin, base func(component, object, name string) haEntity) []discoveryMessage {
	l.mu.Lock()
	names := slices.Clone(l.intents)
	l.mu.Unlock()
	if len(names) == 0 {
		return nil
	}
	dev := l.cfg.DeviceID
	ev := base("event", "voice_command", "Voice command")
	ev.Icon = "mdi:account-voice"
	ev.StateTopic = l.topics.action
	ev.ValueTemplate = eventValueTemplate
	ev.EventTypes = names
	ev.QoS = 1
	out := make([]discoveryMessage, 0, 1+len(names))
	if b, err := json.Marshal(ev); err == nil { // plain strings only; cannot fail
		out = append(out, discoveryMessage{topic: "homeassistant/event/" + dev + "/voice_command/config", payload: b})
	}
	for _, name := range names {
		b, err := json.Marshal(haDeviceTrigger{
			AutomationType: "trigger", Topic: l.topics.action, Type: triggerType, Subtype: name,
			Payload: name, ValueTemplate: triggerValueTemplate, QoS: 1, Device: device, Origin: origin,
		})
		if err != nil {
			continue
		}
		out = append(out, discoveryMessage{topic: triggerTopic(dev, name), payload: b})
	}
	return out
}

func triggerTopic(device, intent string) string {
	return triggerPrefix(device) + "intent_" + intent + "/config"
}

func triggerPrefix(device string) string { return "homeassistant/device_automation/" + device + "/" }

// triggerFilter matches the device trigger configs of this device. The
// link subscribes to it to find, retained on the broker, the triggers an
// earlier run announced for intents that left the intents file while the
// daemon was stopped: no reload told this process about them.
func triggerFilter(device string) string { return triggerPrefix(device) + "+/config" }

// maxFoundTriggers bounds the retained trigger configs remembered between
// their arrival and their removal by sendLoop.
const maxFoundTriggers = 1024

// foundTrigger notes a retained device trigger config of this device that
// the broker delivered. Called from onMessage: it never blocks or publishes.
func (l *Link) foundTrigger(m mqtt.Message) {
	name, ok := strings.CutPrefix(m.Topic(), triggerPrefix(l.cfg.DeviceID)+"intent_")
	if !ok || !strings.HasSuffix(name, "/config") || !m.Retained() || len(m.Payload()) == 0 {
		return // not ours, or our own publish coming back live, or a removal
	}
	l.mu.Lock()
	if len(l.foundTriggers) < maxFoundTriggers {
		l.foundTriggers[m.Topic()] = true
	}
	l.mu.Unlock()
	signal(l.wake)
}

// dropTriggersOfEarlierRuns removes (empty retained payload) the retained
// device triggers found on the broker whose intent this link does not
// announce: every one of them when discovery is off.
func (l *Link) dropTriggersOfEarlierRuns(ctx context.Context) {
	l.mu.Lock()
	if len(l.foundTriggers) == 0 {
		l.mu.Unlock()
		return
	}
	var stale []string
	for topic := range l.foundTriggers {
		announced := l.cfg.Discovery && slices.ContainsFunc(l.intents, func(n string) bool {
			return topic == triggerTopic(l.cfg.DeviceID, n)
		})
		if !announced {
			stale = append(stale, topic)
		}
	}
	clear(l.foundTriggers)
	l.mu.Unlock()
	slices.Sort(stale)
	for _, topic := range stale {
		if err := l.publish(ctx, topic, 1, true, nil, 5*time.Second); err != nil {
			l.log.Warn("hub link: removal of a device trigger not acknowledged", "topic", topic, "err", err)
			continue
		}
		l.log.Info("hub link: removed the device trigger of an intent no longer announced", "topic", topic)
	}
}

// dropStaleTriggers removes the device triggers announced by this process
// that msgs no longer has, and remembers msgs' triggers.
func (l *Link) dropStaleTriggers(ctx context.Context, msgs []discoveryMessage) {
	now := map[string]bool{}
	for _, d := range msgs {
		now[d.topic] = true
	}
	for topic := range l.triggerTopics {
		if now[topic] {
			continue
		}
		if err := l.publish(ctx, topic, 1, true, nil, 5*time.Second); err != nil {
			l.log.Warn("hub link: removal of a device trigger not acknowledged", "topic", topic, "err", err)
		}
	}
	clear(l.triggerTopics)
	for _, d := range msgs {
		if strings.HasPrefix(d.topic, "homeassistant/device_automation/") {
			l.triggerTopics[d.topic] = true
		}
	}
}
