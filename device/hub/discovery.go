package hub

import (
	"encoding/json"
	"strings"
)

// discoveryMessage is one Home Assistant MQTT discovery config.
type discoveryMessage struct {
	topic   string
	payload []byte
}

type haDevice struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model"`
	SWVersion    string   `json:"sw_version,omitempty"`
}

// haOrigin names the software that published a discovery config, which
// Home Assistant shows in its log and device page.
type haOrigin struct {
	Name       string `json:"name"`
	SWVersion  string `json:"sw_version,omitempty"`
	SupportURL string `json:"support_url"`
}

type haEntity struct {
	Name     string `json:"name"`
	UniqueID string `json:"unique_id"`
	// DefaultEntityID replaced object_id in Home Assistant 2025.10
	// (object_id stops working in 2026.4): the whole entity id.
	DefaultEntityID     string    `json:"default_entity_id"`
	Device              *haDevice `json:"device"`
	Origin              *haOrigin `json:"origin"`
	AvailabilityTopic   string    `json:"availability_topic"`
	PayloadAvailable    string    `json:"payload_available"`
	PayloadNotAvailable string    `json:"payload_not_available"`
	Icon                string    `json:"icon,omitempty"`
	EntityCategory      string    `json:"entity_category,omitempty"`

	StateTopic        string `json:"state_topic,omitempty"`
	ValueTemplate     string `json:"value_template,omitempty"`
	CommandTopic      string `json:"command_topic,omitempty"`
	CommandTemplate   string `json:"command_template,omitempty"`
	UnitOfMeasurement string `json:"unit_of_measurement,omitempty"`
	DeviceClass       string `json:"device_class,omitempty"`
	StateClass        string `json:"state_class,omitempty"`

	EventTypes []string `json:"event_types,omitempty"`
	QoS        int      `json:"qos,omitempty"`
}

// discovery lists the Home Assistant entities of this device: a mute switch,
// a "delete voice history" button and sensors for record count, store bytes
// and the oldest record. Commands from Home Assistant carry a fresh
// correlation id per press (now().timestamp()), so id-based deduplication
// never swallows a second press. The configs name topics only — nothing the
// user said.
func (l *Link) discovery() []discoveryMessage {
	dev := l.cfg.DeviceID
	device := &haDevice{
		Identifiers:  []string{dev},
		Name:         "earshot " + dev,
		Manufacturer: "earshot",
		Model:        "earshot voice daemon",
		SWVersion:    l.cfg.Version,
	}
	origin := &haOrigin{Name: "earshot", SWVersion: l.cfg.Version, SupportURL: supportURL}
	base := func(component, object, name string) haEntity {
		return haEntity{
			Name: name, UniqueID: "earshot_" + dev + "_" + object,
			DefaultEntityID: component + "." + entitySlug("earshot_"+dev+"_"+object),
			Device:          device, Origin: origin, AvailabilityTopic: l.topics.availability,
			PayloadAvailable: "online", PayloadNotAvailable: "offline",
		}
	}
	mute := base("switch", "mute", "Mute")
	mute.Icon = "mdi:microphone-off"
	mute.StateTopic = l.topics.state
	mute.ValueTemplate = "{{ 'ON' if value_json.muted else 'OFF' }}"
	mute.CommandTopic = l.topics.cmdPrefix + CmdMute
	mute.CommandTemplate = `{"id":"ha-{{ now().timestamp() }}","mute":{{ 'true' if value == 'ON' else 'false' }}}`

	del := base("button", "delete_history", "Delete voice history")
	del.Icon = "mdi:delete-forever"
	del.CommandTopic = l.topics.cmdPrefix + CmdDelete
	del.CommandTemplate = `{"id":"ha-{{ now().timestamp() }}","scope":"all"}`

	records := base("sensor", "records", "Voice records")
	records.Icon = "mdi:database"
	records.StateTopic = l.topics.state
	records.ValueTemplate = "{{ value_json.records }}"
	records.StateClass = "measurement"
	records.EntityCategory = "diagnostic"

	size := base("sensor", "store_bytes", "Voice store size")
	size.StateTopic = l.topics.state
	size.ValueTemplate = "{{ value_json.bytes }}"
	size.UnitOfMeasurement = "B"
	size.DeviceClass = "data_size"
	size.StateClass = "measurement"
	size.EntityCategory = "diagnostic"

	oldest := base("sensor", "oldest_record", "Oldest voice record")
	oldest.StateTopic = l.topics.state
	oldest.ValueTemplate = "{{ value_json.oldest if value_json.oldest else None }}"
	oldest.DeviceClass = "timestamp"
	oldest.EntityCategory = "diagnostic"

	entities := []struct {
		component string
		object    string
		e         haEntity
	}{
		{"switch", "mute", mute},
		{"button", "delete_history", del},
		{"sensor", "records", records},
		{"sensor", "store_bytes", size},
		{"sensor", "oldest_record", oldest},
	}
	out := l.intentDiscovery(device, origin, base)
	for _, x := range entities {
		b, err := json.Marshal(x.e)
		if err != nil {
			continue // plain strings only; cannot fail
		}
		out = append(out, discoveryMessage{
			topic:   "homeassistant/" + x.component + "/" + dev + "/" + x.object + "/config",
			payload: b,
		})
	}
	return out
}

// supportURL is where a Home Assistant user finds help for the device.
const supportURL = "https://github.com/earshot/earshot"

// entitySlug makes s a valid object id for Home Assistant: lower-case
// letters, digits and single underscores, none at either end (a device id
// may hold '-', which an entity id may not).
func entitySlug(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			under = false
			continue
		}
		under = true
	}
	return b.String()
}
