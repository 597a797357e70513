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
	g, err := intents.Parse([]byte(`slots:
  size: [small, medium, large]
  drink: [latte, cappuccino, americano, espresso]
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
	if got := intents.TranscriptWords("Hey, Jarvis! I’d like 2 shots—large."); !slices.Equal(got, []string{"hey", "jarvis", "i'd", "like", "two", "shots", "large"}) {
		t.Errorf("TranscriptWords: %q", got)
	}
}
