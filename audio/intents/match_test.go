package intents

import (
	"maps"
	"testing"
)

func mustLoad(t testing.TB, path string) *Grammar {
	t.Helper()
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestMatchContractExample(t *testing.T) {
	g := mustLoad(t, "testdata/contract.yaml")
	tests := []struct {
		words  string
		intent string // "" means no match
		slots  map[string]string
	}{
		{"turn on the kitchen lights", "LightsOn", map[string]string{"room": "kitchen"}},
		{"switch on the living room lights", "LightsOn", map[string]string{"room": "living room"}},
		{"lights on in the bedroom", "LightsOn", map[string]string{"room": "bedroom"}},
		{"switch off the bedroom lights", "LightsOff", map[string]string{"room": "bedroom"}},
		{"set a timer for five minutes", "SetTimer", map[string]string{"minutes": "5"}},
		{"set a timer for ten minutes", "SetTimer", map[string]string{"minutes": "10"}},
		{"  Turn ON the   Kitchen lights ", "LightsOn", map[string]string{"room": "kitchen"}},
		{"delete what i just said", ForgetLast, map[string]string{}},
		{"forget that", ForgetLast, map[string]string{}},
		{"delete everything i said today", ForgetToday, map[string]string{}},
		{"forget everything i said today", ForgetToday, map[string]string{}},
		{"turn on the lights", "", nil},
		{"turn on the kitchen", "", nil},
		{"turn on the kitchen lights please", "", nil},
		{"turn on the garage lights", "", nil},
		{"set a timer for five", "", nil},
		{"", "", nil},
		{"the", "", nil},
		{"living room", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.words, func(t *testing.T) {
			got, ok := g.Match(tt.words)
			if tt.intent == "" {
				if ok {
					t.Fatalf("Match(%q) = %+v, want no match", tt.words, got)
				}
				return
			}
			if !ok {
				t.Fatalf("Match(%q) found nothing, want %s", tt.words, tt.intent)
			}
			if got.Intent != tt.intent || !maps.Equal(got.Slots, tt.slots) {
				t.Fatalf("Match(%q) = %+v, want %s %v", tt.words, got, tt.intent, tt.slots)
			}
			if got.Slots == nil {
				t.Fatalf("Match(%q).Slots is nil", tt.words)
			}
		})
	}
}
