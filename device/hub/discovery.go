package hub

import "encoding/json"

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
}

type haEntity struct {
	Name                string    `json:"name"`
	UniqueID            string    `json:"unique_id"`
	ObjectID            string    `json:"object_id"`
	Device              *haDevice `json:"device"`
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
	}
	base := func(object, name string) haEntity {
		return haEntity{
			Name: name, UniqueID: "earshot_" + dev + "_" + object, ObjectID: "earshot_" + dev + "_" + object,
			Device: device, AvailabilityTopic: l.topics.availability,
			PayloadAvailable: "online", PayloadNotAvailable: "offline",
		}
	}
	mute := base("mute", "Mute")
	mute.Icon = "mdi:microphone-off"
	mute.StateTopic = l.topics.state
	mute.ValueTemplate = "{{ 'ON' if value_json.muted else 'OFF' }}"
	mute.CommandTopic = l.topics.cmdPrefix + CmdMute
	mute.CommandTemplate = `{"id":"ha-{{ now().timestamp() }}","mute":{{ 'true' if value == 'ON' else 'false' }}}`

	del := base("delete_history", "Delete voice history")
	del.Icon = "mdi:delete-forever"
	del.CommandTopic = l.topics.cmdPrefix + CmdDelete
	del.CommandTemplate = `{"id":"ha-{{ now().timestamp() }}","scope":"all"}`

	records := base("records", "Voice records")
	records.Icon = "mdi:database"
	records.StateTopic = l.topics.state
	records.ValueTemplate = "{{ value_json.records }}"
	records.StateClass = "measurement"
	records.EntityCategory = "diagnostic"

	size := base("store_bytes", "Voice store size")
	size.StateTopic = l.topics.state
	size.ValueTemplate = "{{ value_json.bytes }}"
	size.UnitOfMeasurement = "B"
	size.DeviceClass = "data_size"
	size.StateClass = "measurement"
	size.EntityCategory = "diagnostic"

	oldest := base("oldest_record", "Oldest voice record")
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
	out := l.intentDiscovery(device, base)
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
