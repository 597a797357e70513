package hub

// The Home Assistant side of the hub link, checked against what Home
// Assistant's own code and documentation require (homeassistant/core:
// components/mqtt/event.py and device_trigger.py, blueprint/schemas.py,
// recorder/services.py, helpers/selector.py; home-assistant.io:
// integrations/event.mqtt, device_trigger.mqtt, event), and run: the
// templates and the blueprints' logic are rendered by Jinja2, the engine
// Home Assistant's templates are (testdata/hass_render.py). What needs a
// running Home Assistant is listed in docs/homeassistant.md.

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// hass runs testdata/hass_render.py on req and decodes its answer.
func hass(t *testing.T, req, resp any) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import jinja2").Run()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3 with jinja2 is missing (%v); `make deps` installs python3-jinja2", err)
		}
		t.Skipf("python3 with jinja2 not installed (make deps): %v", err)
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "testdata/hass_render.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hass_render.py: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(out, resp); err != nil {
		t.Fatalf("hass_render.py answered %q: %v", out, err)
	}
}

func renderMQTT(t *testing.T, template string, payloads ...[]byte) []string {
	t.Helper()
	type item struct {
		Template string `json:"template"`
		Value    string `json:"value"`
	}
	var req struct {
		Render []item `json:"render"`
	}
	for _, p := range payloads {
		req.Render = append(req.Render, item{template, string(p)})
	}
	var resp struct{ Rendered []string }
	hass(t, req, &resp)
	return resp.Rendered
}

// Keys Home Assistant's MQTT event discovery schema knows (MQTT_RO_SCHEMA,
// MQTT_ENTITY_COMMON_SCHEMA, event.py). It drops unknown keys silently
// (REMOVE_EXTRA), so a misspelt one would be lost without a word.
var eventSchemaKeys = []string{
	"availability", "availability_mode", "availability_template", "availability_topic",
	"default_entity_id", "device", "device_class", "enabled_by_default", "encoding", "entity_category",
	"entity_picture", "event_types", "icon", "json_attributes_template", "json_attributes_topic",
	"name", "object_id", "origin", "payload_available", "payload_not_available", "platform", "qos",
	"state_topic", "unique_id", "value_template",
}

// Keys of TRIGGER_DISCOVERY_SCHEMA (device_trigger.py, plus MQTT_BASE_SCHEMA).
var triggerSchemaKeys = []string{
	"automation_type", "device", "encoding", "origin", "payload", "platform", "qos", "subtype", "topic", "type", "value_template",
}

var discoveryTopic = regexp.MustCompile(`^homeassistant/([a-z_]+)/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)/config$`)

func keysOf(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

func TestHomeAssistantVoiceCommandSchemas(t *testing.T) {
	cfg := testConfig("127.0.0.1:1")
	cfg.Discovery = true
	cfg.Intents = []string{"LightsOn", "LightsOff", "SetTimer", "StopTimer", "ForgetLast"}
	l, err := New(cfg, newFakeStore(), &fakeMuter{})
	if err != nil {
		t.Fatal(err)
	}
	var event map[string]any
	triggers := map[string]map[string]any{}
	typeSubtype := map[string]bool{}
	for _, d := range l.discovery() {
		m := discoveryTopic.FindStringSubmatch(d.topic)
		if m == nil {
			t.Errorf("discovery topic %s: want homeassistant/<component>/<node_id>/<object_id>/config", d.topic)
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(d.payload, &p); err != nil {
			t.Fatalf("%s: %v", d.topic, err)
		}
		dev, _ := p["device"].(map[string]any)
		if ids, _ := dev["identifiers"].([]any); len(ids) != 1 || ids[0] != "kitchen-speaker" {
			t.Errorf("%s: device %v, want identifiers [kitchen-speaker]", d.topic, p["device"])
		}
		switch m[1] {
		case "event":
			event = p
			for _, k := range keysOf(p) {
				if !slices.Contains(eventSchemaKeys, k) {
					t.Errorf("event config key %q is not in Home Assistant's MQTT event schema", k)
				}
			}
		case "device_automation":
			for _, k := range keysOf(p) {
				if !slices.Contains(triggerSchemaKeys, k) {
					t.Errorf("%s: key %q is not in Home Assistant's device trigger schema", d.topic, k)
				}
			}
			for _, k := range []string{"automation_type", "topic", "type", "subtype"} { // vol.Required
				if s, _ := p[k].(string); s == "" {
					t.Errorf("%s: required %q missing", d.topic, k)
				}
			}
			if p["automation_type"] != "trigger" {
				t.Errorf("%s: automation_type %v", d.topic, p["automation_type"])
			}
			// "the combination of type and subtype should be unique for a device"
			key := p["type"].(string) + "/" + p["subtype"].(string)
			if typeSubtype[key] {
				t.Errorf("type/subtype %s twice", key)
			}
			typeSubtype[key] = true
			triggers[p["subtype"].(string)] = p
		}
	}
	if event == nil {
		t.Fatal("no event entity")
	}
	// vol.Required(CONF_EVENT_TYPES): [cv.string]; the state topic is required.
	types, _ := event["event_types"].([]any)
	if !reflect.DeepEqual(types, []any{"LightsOff", "LightsOn", "SetTimer", "StopTimer"}) || event["state_topic"] != topicAction {
		t.Fatalf("event entity: event_types %v, state_topic %v", event["event_types"], event["state_topic"])
	}
	if event["unique_id"] == "" || event["availability_topic"] != topicAvail || event["qos"] != 1.0 {
		t.Errorf("event entity: unique_id %v, availability %v, qos %v", event["unique_id"], event["availability_topic"], event["qos"])
	}
	if len(triggers) != 4 || triggers["ForgetLast"] != nil {
		t.Errorf("device triggers for %v, want the four hub intents", slices.Sorted(maps.Keys(triggers)))
	}

	// The templates, on real action records: the event entity reads
	// {"event_type": ..., attributes...} (event.py pops event_type and
	// refuses one not in event_types); a device trigger fires when its
	// template renders its payload.
	var payloads [][]byte
	actions := []Action{
		{ID: "01J000", Device: "kitchen-speaker", Intent: "LightsOn", Slots: map[string]string{"room": "living room"}},
		{ID: "01J001", Device: "kitchen-speaker", Intent: "SetTimer", Slots: map[string]string{"minutes": "5"}},
		{ID: "01J002", Device: "kitchen-speaker", Intent: "StopTimer"},
	}
	for _, a := range actions {
		a.Time = time.Now()
		b, err := encodeAction(a)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, b)
	}
	for i, out := range renderMQTT(t, event["value_template"].(string), payloads...) {
		var ev map[string]any
		if err := json.Unmarshal([]byte(out), &ev); err != nil {
			t.Fatalf("event template rendered %q: not a JSON object: %v", out, err)
		}
		a := actions[i]
		slots := map[string]any{}
		for k, v := range a.Slots {
			slots[k] = v
		}
		want := map[string]any{"event_type": a.Intent, "action_id": a.ID, "slots": slots}
		if !reflect.DeepEqual(ev, want) || !slices.Contains(types, any(ev["event_type"])) {
			t.Errorf("event from %s = %v, want %v", payloads[i], ev, want)
		}
	}
	for i, out := range renderMQTT(t, triggers["LightsOn"]["value_template"].(string), payloads...) {
		if fires := out == triggers["LightsOn"]["payload"]; fires != (actions[i].Intent == "LightsOn") {
			t.Errorf("the LightsOn trigger on %s: rendered %q, fires %v", actions[i].Intent, out, fires)
		}
	}
}

// blueprint is a blueprint file with its !input tags resolved.
type blueprint struct {
	meta   map[string]any // the blueprint: section
	inputs map[string]map[string]any
	used   map[string]bool // inputs referenced by !input
	auto   map[string]any  // the automation, inputs substituted
	// ordered is auto as JSON in the file's order, which matters:
	// variables are rendered one after another.
	ordered json.RawMessage
}

// loadBlueprint reads docs/homeassistant/<name> and substitutes each
// !input with values[name], or the input's default.
func loadBlueprint(t *testing.T, name string, values map[string]any) blueprint {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "homeassistant", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var plain struct {
		Blueprint struct {
			Input map[string]map[string]any `yaml:"input"`
		} `yaml:"blueprint"`
	}
	if err := doc.Decode(&plain); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	bp := blueprint{inputs: plain.Blueprint.Input, used: map[string]bool{}}
	var resolve func(n *yaml.Node)
	resolve = func(n *yaml.Node) {
		if n.Tag == "!input" {
			in, ok := bp.inputs[n.Value]
			if !ok {
				t.Errorf("%s line %d: !input %s is not declared", name, n.Line, n.Value)
				return
			}
			bp.used[n.Value] = true
			v, given := values[n.Value]
			if !given {
				v = in["default"]
			}
			if err := n.Encode(v); err != nil {
				t.Fatal(err)
			}
			return
		}
		for _, c := range n.Content {
			resolve(c)
		}
	}
	resolve(&doc)
	var all map[string]any
	if err := doc.Decode(&all); err != nil {
		t.Fatal(err)
	}
	bp.meta, _ = all["blueprint"].(map[string]any)
	delete(all, "blueprint")
	bp.auto = all
	bp.ordered = orderedJSON(t, doc.Content[0], "blueprint")
	return bp
}

// orderedJSON encodes a YAML node as JSON with mappings in their order,
// leaving out the top-level keys in skip.
func orderedJSON(t *testing.T, n *yaml.Node, skip ...string) json.RawMessage {
	t.Helper()
	var b bytes.Buffer
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		first := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			if slices.Contains(skip, n.Content[i].Value) {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			b.Write(orderedJSON(t, n.Content[i+1]))
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(orderedJSON(t, c))
		}
		b.WriteByte(']')
	case yaml.AliasNode:
		return orderedJSON(t, n.Alias)
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	return b.Bytes()
}

// selectorKeys are the config keys of the selectors the blueprints use
// (helpers/selector.py).
var selectorKeys = map[string][]string{
	"entity": {"filter", "multiple", "include_entities", "exclude_entities", "reorder"},
	"object": {},
	"text":   {"multiline", "type", "prefix", "suffix", "autocomplete", "multiple"},
	"number": {"min", "max", "step", "mode", "unit_of_measurement", "translation_key"},
}

// serviceFields are the data fields of the actions the blueprints call.
var serviceFields = map[string][]string{
	"light.turn_on":           {},
	"light.turn_off":          {},
	"timer.start":             {"duration"},
	"timer.cancel":            {},
	"recorder.purge_entities": {"entity_id", "domains", "entity_globs", "keep_days"},
}

var triggerRequired = map[string][]string{"state": {"entity_id"}, "mqtt": {"topic"}, "time_pattern": {}}

// checkBlueprintSchema checks what BLUEPRINT_SCHEMA and the automation
// schema require of the fields the blueprints use.
func checkBlueprintSchema(t *testing.T, name string, bp blueprint) {
	t.Helper()
	if s, _ := bp.meta["name"].(string); s == "" || bp.meta["domain"] != "automation" {
		t.Errorf("%s: blueprint name %v, domain %v", name, bp.meta["name"], bp.meta["domain"])
	}
	ha, _ := bp.meta["homeassistant"].(map[string]any)
	if v, _ := ha["min_version"].(string); !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Errorf("%s: homeassistant.min_version %v, want major.minor.patch", name, ha["min_version"])
	}
	if u, _ := bp.meta["source_url"].(string); !strings.HasPrefix(u, "https://") || !strings.HasSuffix(u, "/"+name) {
		t.Errorf("%s: source_url %q", name, u)
	}
	for in, spec := range bp.inputs {
		for k := range spec {
			if !slices.Contains([]string{"name", "description", "default", "selector"}, k) {
				t.Errorf("%s: input %s: key %q not in BLUEPRINT_INPUT_SCHEMA", name, in, k)
			}
		}
		sel, _ := spec["selector"].(map[string]any)
		if len(sel) != 1 {
			t.Errorf("%s: input %s: want one selector, got %v", name, in, spec["selector"])
		}
		for kind, conf := range sel {
			allowed, known := selectorKeys[kind]
			if !known {
				t.Errorf("%s: input %s: selector %q not checked here", name, in, kind)
			}
			c, _ := conf.(map[string]any)
			for k := range c {
				if !slices.Contains(allowed, k) {
					t.Errorf("%s: input %s: %s selector has no %q", name, in, kind, k)
				}
			}
		}
		if !bp.used[in] {
			t.Errorf("%s: input %s is never used", name, in)
		}
	}
	for k := range bp.auto {
		if !slices.Contains([]string{"triggers", "conditions", "actions", "variables", "mode", "max", "trace"}, k) {
			t.Errorf("%s: top-level key %q is not an automation option", name, k)
		}
	}
	if !slices.Contains([]any{"single", "restart", "queued", "parallel"}, bp.auto["mode"]) {
		t.Errorf("%s: mode %v", name, bp.auto["mode"])
	}
	triggers, _ := bp.auto["triggers"].([]any)
	for _, tr := range triggers {
		m, _ := tr.(map[string]any)
		kind, _ := m["trigger"].(string)
		req, known := triggerRequired[kind]
		if !known {
			t.Errorf("%s: trigger %v not checked here", name, m)
		}
		for _, k := range req {
			if m[k] == nil || m[k] == "" {
				t.Errorf("%s: %s trigger without %s", name, kind, k)
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if action, ok := x["action"].(string); ok {
				fields, known := serviceFields[action]
				if !known {
					t.Errorf("%s: action %s not checked here", name, action)
				}
				data, _ := x["data"].(map[string]any)
				for k := range data {
					if !slices.Contains(fields, k) {
						t.Errorf("%s: %s has no field %q", name, action, k)
					}
				}
				target, _ := x["target"].(map[string]any)
				for k := range target {
					if !slices.Contains([]string{"entity_id", "device_id", "area_id", "floor_id", "label_id"}, k) {
						t.Errorf("%s: %s target %q", name, action, k)
					}
				}
			}
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(bp.auto["actions"])
}

type call struct {
	Action string         `json:"action"`
	Target map[string]any `json:"target"`
	Data   map[string]any `json:"data"`
}

func runAutomation(t *testing.T, bp blueprint, trigger map[string]any) (bool, []call) {
	t.Helper()
	var resp struct {
		Passed bool
		Calls  []call
	}
	hass(t, map[string]any{"automation": bp.ordered, "trigger": trigger}, &resp)
	return resp.Passed, resp.Calls
}

// eventTrigger is the state trigger Home Assistant fires when the event
// entity receives the action: its attributes are what the entity's value
// template made of the action record.
func eventTrigger(t *testing.T, a Action, from any) map[string]any {
	t.Helper()
	a.Time = time.Now()
	b, err := encodeAction(a)
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]any
	if err := json.Unmarshal([]byte(renderMQTT(t, eventValueTemplate, b)[0]), &attrs); err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"platform": "state", "entity_id": "event.kitchen_speaker_voice_command",
		"from_state": from,
		"to_state":   map[string]any{"state": a.Time.UTC().Format(time.RFC3339Nano), "attributes": attrs},
	}
}

func TestHomeAssistantVoiceCommandsBlueprint(t *testing.T) {
	const name = "earshot_voice_commands.yaml"
	bp := loadBlueprint(t, name, map[string]any{"voice_command": "event.kitchen_speaker_voice_command", "timer": "timer.kitchen"})
	checkBlueprintSchema(t, name, bp)
	noTimer := loadBlueprint(t, name, map[string]any{"voice_command": "event.kitchen_speaker_voice_command"})
	earlier := map[string]any{"state": "2026-11-27T10:00:00.000+00:00", "attributes": map[string]any{}}
	tests := []struct {
		name   string
		bp     blueprint
		action Action
		from   any
		passed bool
		want   []call
	}{
		{"lights on", bp, Action{Intent: "LightsOn", Slots: map[string]string{"room": "kitchen"}}, earlier, true,
			[]call{{"light.turn_on", map[string]any{"area_id": "kitchen"}, map[string]any{}}}},
		{"lights off, a room of two words", bp, Action{Intent: "LightsOff", Slots: map[string]string{"room": "living room"}}, earlier, true,
			[]call{{"light.turn_off", map[string]any{"area_id": "living_room"}, map[string]any{}}}},
		{"a room with no area", bp, Action{Intent: "LightsOn", Slots: map[string]string{"room": "garage"}}, earlier, true, nil},
		{"timer", bp, Action{Intent: "SetTimer", Slots: map[string]string{"minutes": "5"}}, earlier, true,
			[]call{{"timer.start", map[string]any{"entity_id": "timer.kitchen"}, map[string]any{"duration": 300.0}}}},
		{"timer without a helper", noTimer, Action{Intent: "SetTimer", Slots: map[string]string{"minutes": "5"}}, earlier, true, nil},
		{"stop timer", bp, Action{Intent: "StopTimer"}, earlier, true,
			[]call{{"timer.cancel", map[string]any{"entity_id": "timer.kitchen"}, map[string]any{}}}},
		{"restored at Home Assistant's start", bp, Action{Intent: "LightsOn", Slots: map[string]string{"room": "kitchen"}}, nil, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			passed, calls := runAutomation(t, tc.bp, eventTrigger(t, tc.action, tc.from))
			if passed != tc.passed || !reflect.DeepEqual(calls, tc.want) && len(calls)+len(tc.want) > 0 {
				t.Errorf("passed %v, calls %+v; want %v, %+v", passed, calls, tc.passed, tc.want)
			}
		})
	}
	trigger, _ := bp.auto["triggers"].([]any)[0].(map[string]any)
	if notFrom, _ := trigger["not_from"].([]any); !slices.Contains(notFrom, any("unavailable")) {
		t.Error("the state trigger fires when the speaker comes back online")
	}
}

func TestHomeAssistantForgetBlueprint(t *testing.T) {
	const name = "earshot_forget.yaml"
	entities := []any{"event.kitchen_speaker_voice_command", "event.den_speaker_voice_command"}
	bp := loadBlueprint(t, name, map[string]any{"voice_command": entities})
	checkBlueprintSchema(t, name, bp)
	receipt := func(t *testing.T, records, part int) map[string]any {
		r := receiptPart{Part: part, Parts: 2}
		r.ID, r.Scope, r.Records, r.IDs = "01J9", "all", records, recordIDs(records)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var parsed any
		json.Unmarshal(b, &parsed)
		return map[string]any{"platform": "mqtt", "id": "receipt", "topic": topicReceipt, "payload": string(b), "payload_json": parsed}
	}
	purge := func(days float64) []call {
		return []call{{"recorder.purge_entities", map[string]any{"entity_id": entities}, map[string]any{"keep_days": days}}}
	}
	tests := []struct {
		name    string
		trigger map[string]any
		want    []call
	}{
		{"a receipt", receipt(t, 3, 1), purge(0)},
		{"its second part", receipt(t, 3, 2), nil},
		{"a receipt of nothing", receipt(t, 0, 1), nil},
		{"not JSON", map[string]any{"platform": "mqtt", "id": "receipt", "payload": "x"}, nil},
		{"every hour", map[string]any{"platform": "time_pattern", "id": "hourly"}, purge(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, calls := runAutomation(t, bp, tc.trigger); !reflect.DeepEqual(calls, tc.want) && len(calls)+len(tc.want) > 0 {
				t.Errorf("calls %+v, want %+v", calls, tc.want)
			}
		})
	}
	// keep_days is cv.positive_int: a whole number of days from 0.
	days, _ := bp.inputs["keep_days"]["default"].(int)
	if days < 0 {
		t.Errorf("keep_days default %v", bp.inputs["keep_days"]["default"])
	}
}
