package hub

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Action is one understood command, as the hub receives it. It carries
// exactly these fields: there is deliberately no place here for a
// transcript, audio, confidence or the words the user said. Slot values are
// the only user-derived content.
type Action struct {
	ID     string            `json:"id"`
	Device string            `json:"device"`
	Time   time.Time         `json:"time"`
	Intent string            `json:"intent"`
	Slots  map[string]string `json:"slots"`
	// KeepUntil is when the device's own record of the action expires under
	// the window in force when it was published: a hub keeps its copy no
	// longer. The device keeps nothing (window 0, a failed store) when it
	// equals Time. Zero means Time plus the store's window at sending.
	KeepUntil time.Time `json:"keep_until"`
}

type actionWire struct {
	ID        string            `json:"id"`
	Device    string            `json:"device"`
	Time      string            `json:"time"`
	Intent    string            `json:"intent"`
	Slots     map[string]string `json:"slots"`
	KeepUntil string            `json:"keep_until"`
}

// encodeAction writes both times in whole seconds, rounded down: a
// keep_until cut short by a fraction of a second errs on forgetting early.
func encodeAction(a Action) ([]byte, error) {
	slots := a.Slots
	if slots == nil {
		slots = map[string]string{}
	}
	return json.Marshal(actionWire{
		ID: a.ID, Device: a.Device, Time: a.Time.UTC().Format(time.RFC3339),
		Intent: a.Intent, Slots: slots, KeepUntil: a.KeepUntil.UTC().Format(time.RFC3339),
	})
}

// State is the retained `state` payload.
type State struct {
	Muted      bool    `json:"muted"`
	MuteSource *string `json:"mute_source"` // button|hub|cli, null when not muted
	Window     string  `json:"window"`
	Records    int     `json:"records"`
	Bytes      int64   `json:"bytes"`
	Oldest     *string `json:"oldest"` // RFC 3339, null when empty
}

func (l *Link) state() State {
	muted, source := l.mute.Muted()
	st := l.store.Stats()
	s := State{Muted: muted, Window: FormatWindow(st.Window), Records: st.Records, Bytes: st.Bytes}
	if muted && source != "" {
		s.MuteSource = &source
	}
	if st.Oldest != nil {
		o := st.Oldest.UTC().Format(time.RFC3339)
		s.Oldest = &o
	}
	return s
}

// Reply answers one command on the `reply` topic.
type Reply struct {
	ID     string `json:"id"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Result any    `json:"result,omitempty"`
}

// Hermes (Snips) intent payload, reduced to what the contract allows: no
// asrTokens, no rawValue, no range, and an empty input.
type hermesIntent struct {
	SessionID string       `json:"sessionId"`
	SiteID    string       `json:"siteId"`
	Input     string       `json:"input"`
	Intent    hermesName   `json:"intent"`
	Slots     []hermesSlot `json:"slots"`
}

type hermesName struct {
	IntentName      string  `json:"intentName"`
	ConfidenceScore float64 `json:"confidenceScore"`
}

type hermesSlot struct {
	SlotName string      `json:"slotName"`
	Entity   string      `json:"entity"`
	Value    hermesValue `json:"value"`
}

type hermesValue struct {
	Kind  string `json:"kind"`
	Value any    `json:"value"`
}

var intentNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// encodeHermes builds hermes/intent/<name>. The grammar-constrained decoder
// either matches an intent or not, so the confidence is reported as 1.
// Numeric slot values are sent as kind "Number", the rest as "Custom".
func encodeHermes(a Action) (topic string, payload []byte, ok bool) {
	if !intentNamePattern.MatchString(a.Intent) {
		return "", nil, false
	}
	h := hermesIntent{
		SessionID: a.ID, SiteID: a.Device, Input: "",
		Intent: hermesName{IntentName: a.Intent, ConfidenceScore: 1},
		Slots:  []hermesSlot{},
	}
	names := make([]string, 0, len(a.Slots))
	for k := range a.Slots {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := hermesValue{Kind: "Custom", Value: a.Slots[k]}
		if f, err := strconv.ParseFloat(a.Slots[k], 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			v = hermesValue{Kind: "Number", Value: f}
		}
		h.Slots = append(h.Slots, hermesSlot{SlotName: k, Entity: k, Value: v})
	}
	b, err := json.Marshal(h)
	if err != nil {
		return "", nil, false
	}
	return "hermes/intent/" + a.Intent, b, true
}
