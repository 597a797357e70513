package intents

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestSentencesAllOfContract(t *testing.T) {
	g := mustLoad(t, "testdata/contract.yaml")
	all := g.Sentences(10000)
	// ForgetToday 6+6+4, ForgetLast 6+9, LightsOn 6+3, LightsOff 6, SetTimer 4.
	if len(all) != 50 {
		t.Fatalf("Sentences found %d sentences, want 50", len(all))
	}
	seen := map[string]bool{}
	perIntent := map[string]int{}
	for _, s := range all {
		if seen[s.Text] {
			t.Errorf("duplicate sentence %q", s.Text)
		}
		seen[s.Text] = true
		perIntent[s.Match.Intent]++
		got, ok := g.Match(s.Text)
		if !ok || got.Intent != s.Match.Intent || !maps.Equal(got.Slots, s.Match.Slots) {
			t.Errorf("Match(%q) = %+v, %v; Sentences said %+v", s.Text, got, ok, s.Match)
		}
	}
	want := map[string]int{ForgetToday: 16, ForgetLast: 15, "LightsOn": 9, "LightsOff": 6, "SetTimer": 4}
	if !maps.Equal(perIntent, want) {
		t.Errorf("sentences per intent = %v, want %v", perIntent, want)
	}
	for _, s := range []string{"switch on the living room lights", "set a timer for ten minutes", "forget the last recording"} {
		if !seen[s] {
			t.Errorf("Sentences misses %q", s)
		}
	}
}

func TestSentencesSmallLimitCoversEveryIntent(t *testing.T) {
	g := mustLoad(t, "../corpus/intents.yaml")
	for _, limit := range []int{len(g.Intents()) * 2, 20, 50} {
		got := g.Sentences(limit)
		if len(got) != limit {
			t.Fatalf("Sentences(%d) returned %d", limit, len(got))
		}
		intents := map[string]bool{}
		for _, s := range got {
			intents[s.Match.Intent] = true
		}
		if len(intents) != len(g.Intents()) {
			t.Errorf("Sentences(%d) covers intents %v, want all of %v", limit, sortedKeys(intents), g.Intents())
		}
	}
	// The first round of sentences already uses every slot value of the
	// LightsOn room slot and every minute.
	values := map[string]bool{}
	for _, s := range g.Sentences(60) {
		for k, v := range s.Match.Slots {
			values[k+"="+v] = true
		}
	}
	for _, want := range []string{"room=kitchen", "room=bedroom", "room=living room", "minutes=1", "minutes=10", "genre=pop music", "direction=down"} {
		if !values[want] {
			t.Errorf("Sentences(60) never uses %s", want)
		}
	}
}

func TestSentencesDeterministic(t *testing.T) {
	g := mustLoad(t, "../corpus/intents.yaml")
	a, b := g.Sentences(40), g.Sentences(40)
	if !slices.EqualFunc(a, b, func(x, y Sentence) bool { return x.Text == y.Text }) {
		t.Fatal("Sentences differs between calls")
	}
	if g.Sentences(0) != nil || g.Sentences(-1) != nil {
		t.Fatal("Sentences(<=0) returned sentences")
	}
}

func TestSentencesLeavesOutShadowed(t *testing.T) {
	g, err := Parse([]byte("intents:\n  Stop: [stop]\n  Halt: [\"stop | halt\"]\n  Oops: [\"delete that | oops\"]\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range g.Sentences(1000) {
		got[s.Text] = s.Match.Intent
	}
	want := map[string]string{"stop": "Stop", "halt": "Halt", "oops": "Oops"}
	for text, intent := range want {
		if got[text] != intent {
			t.Errorf("sentence %q labelled %q, want %q", text, got[text], intent)
		}
	}
	if got["delete that"] != ForgetLast {
		t.Errorf("sentence \"delete that\" labelled %q, want %s", got["delete that"], ForgetLast)
	}
}

func TestWords(t *testing.T) {
	g := mustLoad(t, "testdata/contract.yaml")
	words := g.Words()
	if !slices.IsSorted(words) {
		t.Error("Words is not sorted")
	}
	for _, w := range []string{"living", "room", "switch", "minutes", "five", "delete", "today"} {
		if _, ok := slices.BinarySearch(words, w); !ok {
			t.Errorf("Words misses %q", w)
		}
	}
	for _, w := range []string{"1", "5", "hey", "jarvis", ""} {
		if _, ok := slices.BinarySearch(words, w); ok {
			t.Errorf("Words has %q, which the grammar never produces", w)
		}
	}
	// Every word of every sentence is in Words, and nothing else is.
	produced := map[string]bool{}
	for _, s := range g.Sentences(10000) {
		for _, w := range strings.Fields(s.Text) {
			produced[w] = true
		}
	}
	if !slices.Equal(sortedKeys(produced), words) {
		t.Errorf("Words = %v\nsentences use %v", words, sortedKeys(produced))
	}
	unused, err := Parse([]byte("slots:\n  room: [garage]\nintents:\n  Stop: [stop]\n"), "u.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := slices.BinarySearch(unused.Words(), "garage"); ok {
		t.Error("Words has a value of a slot no template uses")
	}
}

// TestSentenceGenTerminates counts raw expansions: the covering pass, then
// every expansion exactly once, then done.
func TestSentenceGenTerminates(t *testing.T) {
	tests := []struct {
		template string
		steps    int // covering expansions + all expansions
	}{
		{"stop", 1 + 1},
		{"(a | b) [c]", 2 + 4},
		{"x (a | b (c | d | e)) [f]", 3 + 8},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			root, err := parseTemplate(tt.template)
			if err != nil {
				t.Fatal(err)
			}
			g := &Grammar{}
			gen := &sentenceGen{g: g, it: &intent{name: "X"}, root: root, cover: g.coverage(root)}
			all := map[string]bool{}
			steps := 0
			for ; steps < 1000; steps++ {
				words, _, ok := gen.step()
				if !ok {
					break
				}
				all[joinWords(words)] = true
			}
			if steps != tt.steps || !gen.done {
				t.Fatalf("%d steps (done=%v), want %d", steps, gen.done, tt.steps)
			}
			if want := tt.steps - g.coverage(root); len(all) != want {
				t.Fatalf("%d distinct sentences, want %d: %v", len(all), want, sortedKeys(all))
			}
		})
	}
}
