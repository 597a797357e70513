package intents

import (
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// grammarFiles are the grammars of the repository the FSG is checked on.
var grammarFiles = []string{"testdata/contract.yaml", "testdata/nested.yaml", "../corpus/intents.yaml", "../../configs/intents.yaml"}

func mustFSG(t testing.TB, g *Grammar) *FSG {
	t.Helper()
	f, err := g.CommandFSG()
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, f)
	return f
}

// checkShape checks what PocketSphinx relies on: one final state with no
// way out, null transitions only into it, and at most one transition per
// word out of a state (the command language is deterministic).
func checkShape(t testing.TB, f *FSG) {
	t.Helper()
	seen := map[[2]any]bool{}
	for _, tr := range f.Transitions() {
		if tr.From < 0 || tr.From >= f.States() || tr.To < 0 || tr.To >= f.States() {
			t.Fatalf("transition %+v out of range 0..%d", tr, f.States()-1)
		}
		if tr.From == f.Final() {
			t.Errorf("transition %+v leaves the final state", tr)
		}
		if tr.Word == "" && tr.To != f.Final() {
			t.Errorf("null transition %+v not into the final state %d", tr, f.Final())
		}
		if tr.LogProb > 0 {
			t.Errorf("transition %+v has probability above 1", tr)
		}
		k := [2]any{tr.From, tr.Word}
		if seen[k] {
			t.Errorf("state %d has two transitions for %q", tr.From, tr.Word)
		}
		seen[k] = true
	}
}

// fsgSentences lists every sentence of an acyclic FSG, up to limit.
func fsgSentences(f *FSG, limit int) map[string]bool {
	out := map[string]bool{}
	out2 := map[int][]Transition{}
	for _, tr := range f.Transitions() {
		out2[tr.From] = append(out2[tr.From], tr)
	}
	var walk func(s int, words []string)
	walk = func(s int, words []string) {
		if len(out) >= limit {
			return
		}
		if s == f.Final() {
			out[strings.Join(words, " ")] = true
			return
		}
		for _, tr := range out2[s] {
			next := words
			if tr.Word != "" {
				next = append(slices.Clone(words), tr.Word)
			}
			walk(tr.To, next)
		}
	}
	walk(f.Start(), nil)
	return out
}

// TestCommandFSGIsTheGrammar compares the FSG's sentences with the
// grammar's, both ways and in full, on every small grammar at hand.
func TestCommandFSGIsTheGrammar(t *testing.T) {
	for _, file := range grammarFiles {
		t.Run(file, func(t *testing.T) {
			g := mustLoad(t, file)
			f := mustFSG(t, g)
			got, want := fsgSentences(f, 100000), sentenceSet(g)
			if !maps.Equal(got, want) {
				for s := range got {
					if !want[s] {
						t.Errorf("FSG says %q, the grammar does not", s)
					}
				}
				for s := range want {
					if !got[s] {
						t.Errorf("the grammar says %q, the FSG does not", s)
					}
				}
			}
			if !slices.Equal(f.Words(), g.Words()) {
				t.Errorf("FSG words %v, grammar words %v", f.Words(), g.Words())
			}
		})
	}
}

// pathCount counts the paths from the start to the final state of an
// acyclic FSG; for a deterministic one that is its number of sentences.
func pathCount(f *FSG) int {
	memo := map[int]int{}
	byFrom := map[int][]Transition{}
	for _, tr := range f.Transitions() {
		byFrom[tr.From] = append(byFrom[tr.From], tr)
	}
	var count func(s int) int
	count = func(s int) int {
		if s == f.Final() {
			return 1
		}
		if n, ok := memo[s]; ok {
			return n
		}
		n := 0
		for _, tr := range byFrom[s] {
			n += count(tr.To)
		}
		memo[s] = n
		return n
	}
	return count(f.Start())
}

// TestCoffeeFSG checks the coffee orders, too many to list (120 million),
// three ways: the FSG has exactly as many sentences as the context spells
// (counted by hand below), every sentence Sentences lists is in it, and
// every sentence of random walks through it means an order to Match.
func TestCoffeeFSG(t *testing.T) {
	g := mustLoad(t, "../corpus/coffee.yaml")
	f := mustFSG(t, g)
	builtins := len(sentenceSet(mustParse(t, "")))
	// Openings 9 x 2; the modifiers in every order of every subset:
	// 1 + (7+3+3) + 2*(7*3 + 7*3 + 3*3) + 6*(7*3*3) = 494; drinks 10;
	// endings 1 + 36 + 18 + 2*36*18 = 1351.
	want := 9*2*494*10*1351 + builtins
	if got := pathCount(f); got != want {
		t.Errorf("FSG has %d sentences, the context %d", got, want)
	}
	for _, s := range g.Sentences(3000) {
		if !f.Accepts(s.Text) {
			t.Errorf("FSG rejects %q (%s)", s.Text, s.Match.Intent)
		}
	}
	rng := rand.New(rand.NewPCG(22, 1))
	for range 2000 {
		s := randomSentence(f, rng)
		if _, ok := g.Match(s); !ok {
			t.Fatalf("FSG says %q, Match does not understand it", s)
		}
	}
}

func mustParse(t testing.TB, src string) *Grammar {
	t.Helper()
	g, err := Parse([]byte(src), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// randomSentence walks from the start to the final state at random.
func randomSentence(f *FSG, rng *rand.Rand) string {
	byFrom := map[int][]Transition{}
	for _, tr := range f.Transitions() {
		byFrom[tr.From] = append(byFrom[tr.From], tr)
	}
	var words []string
	for s := f.Start(); s != f.Final(); {
		out := byFrom[s]
		tr := out[rng.IntN(len(out))]
		if tr.Word != "" {
			words = append(words, tr.Word)
		}
		s = tr.To
	}
	return strings.Join(words, " ")
}

// coffeeCompact is the coffee language spelled by hand in one template
// instead of the context's 80.
const coffeeCompact = `
  orderDrink:
    - "(brew | can I get | can I have | I want | get me | give me | I'd like | make me | may I have) (a | an)
       [{size} [{roast} [{numberOfShots}] | {numberOfShots} [{roast}]]
       | {roast} [{size} [{numberOfShots}] | {numberOfShots} [{size}]]
       | {numberOfShots} [{size} [{roast}] | {roast} [{size}]]]
       {coffeeDrink} [with ({milkAmount} [and {sugarAmount}] | {sugarAmount} [and {milkAmount}])]"
`

// TestFSGDependsOnTheLanguageOnly compiles pairs of differently spelled
// grammars of one language: their FSGs must be identical, state for
// state, which only a minimal automaton numbered canonically guarantees.
func TestFSGDependsOnTheLanguageOnly(t *testing.T) {
	coffee, err := os.ReadFile("../corpus/coffee.yaml")
	if err != nil {
		t.Fatal(err)
	}
	slotsOnly, _, _ := strings.Cut(string(coffee), "\nintents:")
	tests := []struct{ name, a, b string }{
		{"coffee", string(coffee), slotsOnly + "\nintents:" + coffeeCompact},
		{"factored", `
slots: {room: [kitchen, living room]}
intents:
  On: ["turn on the {room} lights", "switch on the {room} lights", "turn on the {room} lights"]`, `
slots: {room: [kitchen, living room]}
intents:
  On: ["(turn | switch) on the (kitchen | living room) lights"]`},
		{"optional", `
intents:
  Stop: ["stop the music", "stop music", "pause the music", "pause music"]`, `
intents:
  Stop: ["(stop | pause) [the] music"]`},
		{"split intents", `
intents:
  A: ["play jazz", "play rock"]
  B: ["play some jazz"]`, `
intents:
  C: ["play [some] jazz | play rock"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa, fb := mustFSG(t, mustParse(t, tt.a)), mustFSG(t, mustParse(t, tt.b))
			if fa.Size() != fb.Size() || fa.String() != fb.String() {
				t.Errorf("same language, different FSGs: %+v vs %+v\n%s\n%s", fa.Size(), fb.Size(), fa, fb)
			}
		})
	}
}

// TestFSGIsMinimal checks minimality without the code that minimises: no
// two states of the FSG may accept the same continuations, which for a
// deterministic automaton is exactly minimality.
func TestFSGIsMinimal(t *testing.T) {
	for _, file := range grammarFiles {
		t.Run(file, func(t *testing.T) {
			f := mustFSG(t, mustLoad(t, file))
			byFrom := map[int][]Transition{}
			for _, tr := range f.Transitions() {
				byFrom[tr.From] = append(byFrom[tr.From], tr)
			}
			var future func(s int) []string
			future = func(s int) []string {
				if s == f.Final() {
					return []string{""}
				}
				var out []string
				for _, tr := range byFrom[s] {
					for _, rest := range future(tr.To) {
						out = append(out, strings.TrimSpace(tr.Word+" "+rest))
					}
				}
				slices.Sort(out)
				return slices.Compact(out)
			}
			seen := map[string]int{}
			for s := range f.States() {
				k := strings.Join(future(s), "|")
				if prev, dup := seen[k]; dup {
					t.Errorf("states %d and %d accept the same continuations: %q", prev, s, k)
				}
				seen[k] = s
			}
		})
	}
}

func TestFSGSizes(t *testing.T) {
	tests := []struct {
		src  string
		want FSGSize
	}{
		// The built-ins alone.
		{"", FSGSize{States: 16, Transitions: 31, Words: 20}},
		// "a (b | c) d" adds two states (after a, after b or c) and four
		// transitions; d ends in the final state the built-ins end in.
		{`intents: {X: ["alpha (bravo | charlie) delta"]}`, FSGSize{States: 18, Transitions: 35, Words: 24}},
	}
	for _, tt := range tests {
		if got := mustFSG(t, mustParse(t, tt.src)).Size(); got != tt.want {
			t.Errorf("%q: size %+v, want %+v", tt.src, got, tt.want)
		}
	}
	for _, tt := range []struct {
		size  FSGSize
		large bool
	}{
		{FSGSize{States: LargeStates, Transitions: LargeTransitions}, false},
		{FSGSize{States: LargeStates + 1}, true},
		{FSGSize{States: 70, Transitions: LargeTransitions + 1}, true},
	} {
		if got := tt.size.Large(); got != tt.large {
			t.Errorf("%+v.Large() = %v", tt.size, got)
		}
	}
}

// TestCommandLanguageTooLarge feeds a finite language whose deterministic
// automaton is exponential in its spelling: the 19th word from the end is
// "a", in sentences of 19 to 36 words, so the automaton must remember the
// last 18 words (2^18 states). It must be refused with an error that names
// the file, not built.
func TestCommandLanguageTooLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString("intents:\n  X:\n")
	for j := range 18 {
		b.WriteString("    - \"" + strings.Repeat("(a | b) ", j) + "a" + strings.Repeat(" (a | b)", 18) + "\"\n")
	}
	g := mustParse(t, b.String())
	if _, err := g.CommandFSG(); err == nil || !strings.Contains(err.Error(), "test.yaml") || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v, want a too-large error naming test.yaml", err)
	}
	if _, err := Compile(Seq(Word("hey", 1), g.Commands())); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("a net around the language: err = %v, want the same error", err)
	}
}
