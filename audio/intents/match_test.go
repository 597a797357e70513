package intents

import (
	"fmt"
	"maps"
	"os"
	"strings"
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

func TestMatchPriority(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		words  string
		intent string
		slots  map[string]string
	}{
		{"first intent in file order wins", "intents:\n  B: [stop]\n  A: [\"stop | halt\"]\n", "stop", "B", map[string]string{}},
		{"later intent still gets its own sentences", "intents:\n  B: [stop]\n  A: [\"stop | halt\"]\n", "halt", "A", map[string]string{}},
		{"built-in wins over user intent", "intents:\n  Oops: [\"delete that\"]\n", "delete that", ForgetLast, map[string]string{}},
		{"built-in ForgetToday beats ForgetLast", "", "delete everything i said today", ForgetToday, map[string]string{}},
		{"slot values tried in list order", "slots:\n  room: [living, living room]\nintents:\n  On: [\"{room} [room] lights\"]\n", "living room lights", "On", map[string]string{"room": "living"}},
		{"backtracks into a longer slot value", "slots:\n  room: [living, living room]\nintents:\n  On: [\"{room} lights\"]\n", "living room lights", "On", map[string]string{"room": "living room"}},
		{"optional words preferred", "slots:\n  x: [the kitchen, kitchen]\nintents:\n  On: [\"on [the] {x}\"]\n", "on the kitchen", "On", map[string]string{"x": "kitchen"}},
		{"slot from the branch that matched", "slots:\n  a: [red]\n  b: [red, blue]\nintents:\n  C: [\"paint ({a} now | {b} later)\"]\n", "paint red later", "C", map[string]string{"b": "red"}},
		{"two slots", "slots:\n  room: [kitchen, hall]\n  level: {half: 50, full: 100}\nintents:\n  Dim: [\"dim [the] {room} to {level}\"]\n", "dim hall to half", "Dim", map[string]string{"room": "hall", "level": "50"}},
		{"slot map value rendered as written", "slots:\n  level: {low: 0.25}\nintents:\n  Dim: [\"dim {level}\"]\n", "dim low", "Dim", map[string]string{"level": "0.25"}},
		{"upper-case in the file is lower-cased", "slots:\n  room: [Living Room]\nintents:\n  On: [\"Lights ON in the {room}\"]\n", "lights on in the living room", "On", map[string]string{"room": "living room"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Parse([]byte(tt.yaml), "t.yaml")
			if err != nil {
				t.Fatal(err)
			}
			got, ok := g.Match(tt.words)
			if !ok || got.Intent != tt.intent || !maps.Equal(got.Slots, tt.slots) {
				t.Fatalf("Match(%q) = %+v, %v; want %s %v", tt.words, got, ok, tt.intent, tt.slots)
			}
		})
	}
}

func TestMatchLongInput(t *testing.T) {
	g := mustLoad(t, "testdata/contract.yaml")
	long := strings.Repeat("the ", maxWords+1) + "lights"
	if got, ok := g.Match(long); ok {
		t.Fatalf("Match(%d words) = %+v, want no match", maxWords+2, got)
	}
}

func TestMatchConcurrent(t *testing.T) {
	g := mustLoad(t, "testdata/contract.yaml")
	sentences := g.Sentences(100)
	done := make(chan error)
	for w := range 4 {
		go func() {
			for i := range 200 {
				s := sentences[(i+w)%len(sentences)]
				got, ok := g.Match(s.Text)
				if !ok || got.Intent != s.Match.Intent || !maps.Equal(got.Slots, s.Match.Slots) {
					done <- fmt.Errorf("Match(%q) = %+v, want %+v", s.Text, got, s.Match)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	g := mustLoad(b, "../corpus/intents.yaml")
	inputs := []string{
		"turn on the living room lights",
		"set a timer for ten minutes",
		"delete what i just said",
		"turn on the living room", // no match, fails late
		"what a lovely day",       // no match, unknown word
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		g.Match(inputs[i%len(inputs)])
	}
	b.ReportMetric(float64(len(g.matcher.prog)), "insts")
}

// TestMatchLargeSlot checks that a long slot list is matched in place:
// the program does not grow with the number of values times the number of
// templates using it, and the last value still matches.
func TestMatchLargeSlot(t *testing.T) {
	var b strings.Builder
	b.WriteString("slots:\n  song:\n")
	const values, templates = 5000, 100
	for i := range values {
		fmt.Fprintf(&b, "    - %s song\n", spell(i))
	}
	b.WriteString("intents:\n")
	for i := range templates {
		fmt.Fprintf(&b, "  Play%d: [\"play %s {song}\"]\n", i, spell(i))
	}
	g, err := Parse([]byte(b.String()), "big.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.matcher.prog); n > 10*templates+100 {
		t.Fatalf("program has %d instructions for %d templates", n, templates)
	}
	words := "play " + spell(templates-1) + " " + spell(values-1) + " song"
	got, ok := g.Match(words)
	want := Match{Intent: fmt.Sprintf("Play%d", templates-1), Slots: map[string]string{"song": spell(values-1) + " song"}}
	if !ok || got.Intent != want.Intent || !maps.Equal(got.Slots, want.Slots) {
		t.Fatalf("Match(%q) = %+v, %v; want %+v", words, got, ok, want)
	}
}

// spell writes i as letters ("ba", "bb", ...) so it is a valid word.
func spell(i int) string {
	s := []byte{'x'}
	for {
		s = append(s, byte('a'+i%26))
		i /= 26
		if i == 0 {
			return string(s)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("../corpus/intents.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "intents.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestContinues(t *testing.T) {
	g, err := Parse([]byte(`
slots:
  room: [kitchen, living room, living room annex]
  minutes: {five: 5, ten: 10}
intents:
  LightsOn:
    - "(turn | switch) on the {room} lights"
    - "lights on in the {room}"
  SetTimer:
    - "set a timer for {minutes} minutes"
    - "set a timer"
  Pause:
    - "pause [the] [music]"
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		words string
		want  bool
	}{
		{"", true},
		{"turn", true},
		{"turn on the", true},
		{"turn on the living", true},          // inside a slot value
		{"turn on the kitchen lights", false}, // complete, nothing extends it
		{"lights on in the kitchen", false},
		{"lights on in the living room", true}, // "living room annex" extends it
		{"lights on in the living room annex", false},
		{"set a timer", true}, // complete, but "for five minutes" may follow
		{"set a timer for ten minutes", false},
		{"pause", true},
		{"pause the", true},
		{"pause the music", false},
		{"PAUSE THE", true},
		{"turn off", false}, // no sentence begins so
		{"banana", false},
		{"turn on the kitchen lights please", false},
	}
	for _, tt := range tests {
		if got := g.Continues(tt.words); got != tt.want {
			t.Errorf("Continues(%q) = %v, want %v", tt.words, got, tt.want)
		}
	}
}
