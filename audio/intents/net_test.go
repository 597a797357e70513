package intents

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// netScore is the reference meaning of a Net, computed from the Net
// itself and never from an automaton: the best log probability with which
// n says exactly words, and false if it cannot. The command language is
// asked of Match.
func netScore(n Net, words []string, g *Grammar) (float64, bool) {
	none := math.Inf(-1)
	var score func(n Net, words []string) float64
	score = func(n Net, words []string) float64 {
		switch n.op {
		case opWordNet:
			if len(words) == 1 && words[0] == n.word {
				return n.logp
			}
		case opEmpty:
			if len(words) == 0 {
				return n.logp
			}
		case opLanguage:
			if _, ok := g.Match(strings.Join(words, " ")); ok && len(words) > 0 {
				return 0
			}
		case opAlt:
			best := none
			for _, p := range n.parts {
				best = math.Max(best, score(p, words))
			}
			return best
		case opSeq:
			// reach[j]: best score of the parts so far saying words[:j].
			reach := make([]float64, len(words)+1)
			for j := range reach {
				reach[j] = none
			}
			reach[0] = 0
			for _, p := range n.parts {
				next := make([]float64, len(words)+1)
				for j := range next {
					next[j] = none
					for i := 0; i <= j; i++ {
						if reach[i] > none {
							next[j] = math.Max(next[j], reach[i]+score(p, words[i:j]))
						}
					}
				}
				reach = next
			}
			return reach[len(words)]
		case opRepeat:
			if len(words) == 0 {
				return score(n.parts[0], nil)
			}
			// reach[j]: best score of one or more repetitions saying words[:j].
			reach := make([]float64, len(words)+1)
			for j := 1; j <= len(words); j++ {
				reach[j] = score(n.parts[0], words[:j])
				for i := 1; i < j; i++ {
					if reach[i] > none {
						reach[j] = math.Max(reach[j], reach[i]+score(n.parts[0], words[i:j]))
					}
				}
			}
			return reach[len(words)]
		}
		return none
	}
	s := score(n, words)
	return s, s > none
}

var garbagePhones = []string{"gbg_aa", "gbg_s", "gbg_t"}

func garbageLoop(prob float64) Net {
	var alts []Net
	for _, p := range garbagePhones {
		alts = append(alts, Word(p, prob))
	}
	return Repeat(Alt(alts...))
}

// wakeWords is how the listener spells its wake phrase: each word against
// a sound-alike at a low price, and the first word may be left out at a
// much lower one.
func wakeWords() Net {
	return Seq(
		Alt(Word("hey", 1), Word("say", 1e-7), Empty(1e-14)),
		Alt(Word("jarvis", 1), Word("marvin", 1e-7)),
	)
}

// TestNetKeepsEveryPathScore compiles the listener's grammars and nets
// with weights and compares the FSG with the Net's own meaning on
// sentences the FSG says, the same sentences changed by a word, and some
// chosen by hand: the FSG must say exactly what the net says, with the
// same score.
func TestNetKeepsEveryPathScore(t *testing.T) {
	g := mustLoad(t, "../corpus/intents.yaml")
	cmd := g.Commands()
	tests := []struct {
		name string
		net  Net
		hand []string
	}{
		{"verify", Alt(Seq(Optional(garbageLoop(1e-3)), wakeWords(), Alt(cmd, garbageLoop(1e-3))), garbageLoop(1e-3)), []string{
			"hey jarvis turn on the kitchen lights", "gbg_s hey jarvis stop the music", "jarvis play jazz",
			"say marvin gbg_t", "gbg_aa", "hey jarvis", "hey jarvis gbg_s gbg_s turn on the kitchen lights",
		}},
		{"command", Seq(wakeWords(), Alt(cmd, garbageLoop(4e-5))), []string{"hey jarvis volume up", "hey jarvis gbg_t gbg_aa"}},
		{"wake then command", Seq(wakeWords(), cmd), []string{"marvin volume up", "say jarvis pause music"}},
		{"weights owed", Alt(Seq(Word("alpha", 0.5), Word("bravo", 1)), Seq(Word("alpha", 1), Word("charlie", 0.25)), Seq(Word("alpha", 0.1), Word("bravo", 1), Word("delta", 1))), []string{
			"alpha bravo", "alpha charlie", "alpha bravo delta", "alpha",
		}},
		{"nested loops", Seq(Repeat(Alt(Word("x", 0.5), Optional(Word("y", 0.25)))), Word("z", 1)), []string{"z", "x z", "y y x z", "x x"}},
		// Loops of different weights on one word cannot be determinised
		// (what is owed to each grows with every turn): Compile must
		// give up on that and still keep every score.
		{"unequal loops", Alt(Seq(Repeat(Word("x", 0.5)), Word("y", 1)), Seq(Repeat(Word("x", 0.25)), Word("z", 1))), []string{"x y", "x x x z", "x x y", "z"}},
	}
	rng := rand.New(rand.NewPCG(22, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(tt.net)
			if err != nil {
				t.Fatal(err)
			}
			checkFinal(t, f)
			sentences := slices.Clone(tt.hand)
			vocab := f.Words()
			for range 300 {
				s := strings.Fields(randomSentence(f, rng))
				sentences = append(sentences, strings.Join(s, " "), strings.Join(mutate(s, vocab, rng), " "))
			}
			for _, s := range sentences {
				want, wantOK := netScore(tt.net, strings.Fields(s), g)
				got, ok := f.Score(s)
				if ok != wantOK || ok && math.Abs(got-want) > 1e-9 {
					t.Errorf("%q: FSG %v %v, net %v %v", s, got, ok, want, wantOK)
				}
			}
		})
	}
}

// checkFinal checks the one property every compiled FSG has, loops or
// not: the final state has no way out and only null transitions lead
// into it from states that also go on.
func checkFinal(t *testing.T, f *FSG) {
	t.Helper()
	for _, tr := range f.Transitions() {
		if tr.From == f.Final() {
			t.Errorf("transition %+v leaves the final state", tr)
		}
		if tr.Word == "" && tr.To != f.Final() {
			t.Errorf("null transition %+v not into the final state", tr)
		}
	}
}

// mutate changes one word of s: drops it, doubles it or replaces it.
func mutate(s, vocab []string, rng *rand.Rand) []string {
	s = slices.Clone(s)
	if len(s) == 0 {
		return []string{vocab[rng.IntN(len(vocab))]}
	}
	i := rng.IntN(len(s))
	switch rng.IntN(3) {
	case 0:
		return slices.Delete(s, i, i+1)
	case 1:
		return slices.Insert(s, i, s[i])
	}
	s[i] = vocab[rng.IntN(len(vocab))]
	return s
}

// TestNetLoopsStaySmall checks that compiling determinises a looping net
// whose loops allow it: the garbage loop before the wake phrase and the
// garbage-only alternative become one state, as do the command's start
// and the state after the wake phrase.
func TestNetLoopsStaySmall(t *testing.T) {
	g := mustLoad(t, "../corpus/intents.yaml")
	cmdFSG := mustFSG(t, g)
	f, err := Compile(Alt(Seq(Optional(garbageLoop(1e-3)), wakeWords(), Alt(g.Commands(), garbageLoop(1e-3))), garbageLoop(1e-3)))
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, f)
	// The command language, whose start state now follows "jarvis"; the
	// start; the one leading garbage loop; the state after "hey"; the
	// trailing garbage loop.
	if got, want := f.States(), cmdFSG.States()+4; got != want {
		t.Errorf("verify grammar has %d states, want %d\n%s", got, want, f)
	}
}

func TestNetErrors(t *testing.T) {
	tests := []struct {
		name string
		net  Net
		want string
	}{
		{"empty word", Word("", 1), "expected one word"},
		{"two words", Seq(Word("a b", 1)), "expected one word"},
		{"zero probability", Alt(Word("a", 0)), "expected 0 < p <= 1"},
		{"probability above one", Word("a", 1.5), "expected 0 < p <= 1"},
		{"not a number", Word("a", math.NaN()), "expected 0 < p <= 1"},
		{"empty of no probability", Seq(Word("a", 1), Empty(0)), "expected 0 < p <= 1"},
		{"silence", Optional(Word("a", 1)), "accepts silence"},
		{"loop of silence", Repeat(Empty(1)), "accepts silence"},
		{"nothing", Alt(), "accepts no sentence"},
		{"nothing after", Seq(Word("a", 1), Alt()), "accepts no sentence"},
	}
	for _, tt := range tests {
		if _, err := Compile(tt.net); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
