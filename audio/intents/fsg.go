package intents

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// FSG is a compiled word network in the shape PocketSphinx's finite-state
// grammar search takes: states 0..States()-1, one start and one final
// state, word transitions with their probabilities, and null transitions
// only into the final state (from each other state that may end a
// sentence). The decoder adds its own silence and filler self-loops and
// alternative pronunciations to every FSG, so none are here. Numbering is
// canonical (breadth first from the start, words in order), so equal
// languages compile to identical FSGs.
type FSG struct {
	states int
	start  int
	final  int
	trans  []Transition // by From, in state order
	first  []int        // trans[first[s]:first[s+1]] leave state s
	words  []string
}

// Transition is one transition of an FSG.
type Transition struct {
	From, To int
	// Word is "" for a null transition.
	Word string
	// LogProb is the natural log of the transition's probability (<= 0).
	LogProb float64
}

// FSGSize is how large an FSG is; the decoder's memory and time grow with
// its states and transitions.
type FSGSize struct {
	States      int
	Transitions int // word and null transitions
	Words       int // distinct words
}

// A command FSG is large past either of these sizes. Measured with
// BenchmarkGrammarSize (audio/sphinx) on a 2-core x86 machine, decoding
// the coffee orders with their grammar grown: past 500 states the search
// alone costs PocketSphinx more than 0.02 CPU seconds per second of audio
// (issue 22's budget for the whole listener), past 5000 transitions
// twice the coffee grammar's search memory. States cost most: 75 states
// and 291 transitions, cpu-rtf 0.013 and 2.8 MB; 570 and 885: 0.020,
// 5.7 MB; 1570 and 2085: 0.035, 11.5 MB; 5070 and 6285: 0.092, 31 MB.
// Transitions out of the same 70 states cost less: 3285, 0.014 and
// 5.0 MB; 10285, 0.017 and 10.5 MB. A Raspberry Pi is several times
// slower.
const (
	LargeStates      = 500
	LargeTransitions = 5000
)

// Large reports whether the size is past LargeStates or LargeTransitions.
func (s FSGSize) Large() bool { return s.States > LargeStates || s.Transitions > LargeTransitions }

// newFSG numbers the states of a null-free automaton canonically and
// gives it a single final state.
func newFSG(a *wfsa) *FSG {
	// The final state: the one state that ends every sentence reaching
	// it (no arcs out, certain to end) if there is one, else a new one.
	sink := -1
	for s := range a.arcs {
		if len(a.arcs[s]) == 0 && a.final[s] == 0 {
			sink = s
			break
		}
	}
	id := make([]int, len(a.arcs))
	for i := range id {
		id[i] = -1
	}
	order := []int{a.start}
	id[a.start] = 0
	for i := 0; i < len(order); i++ {
		s := order[i]
		arcs := slices.Clone(a.arcs[s])
		slices.SortStableFunc(arcs, func(x, y warc) int {
			return cmp.Or(strings.Compare(a.words[x.word], a.words[y.word]), cmp.Compare(y.logp, x.logp))
		})
		a.arcs[s] = arcs
		for _, arc := range arcs {
			if id[arc.to] < 0 {
				id[arc.to] = len(order)
				order = append(order, int(arc.to))
			}
		}
	}
	f := &FSG{states: len(order), start: 0}
	if sink >= 0 {
		f.final = id[sink]
	} else {
		f.final = f.states
		f.states++
	}
	words := map[string]bool{}
	for _, s := range order {
		for _, arc := range a.arcs[s] {
			w := a.words[arc.word]
			words[w] = true
			f.trans = append(f.trans, Transition{From: id[s], To: id[arc.to], Word: w, LogProb: arc.logp})
		}
		if a.isFinal(s) && s != sink {
			f.trans = append(f.trans, Transition{From: id[s], To: f.final, LogProb: a.final[s]})
		}
	}
	f.words = sortedKeys(words)
	f.first = make([]int, f.states+1)
	for _, t := range f.trans {
		f.first[t.From+1]++
	}
	for s := range f.states {
		f.first[s+1] += f.first[s]
	}
	return f
}

// from returns the transitions leaving state s.
func (f *FSG) from(s int) []Transition { return f.trans[f.first[s]:f.first[s+1]] }

// States returns the number of states.
func (f *FSG) States() int { return f.states }

// Start returns the start state.
func (f *FSG) Start() int { return f.start }

// Final returns the final state, where every sentence ends.
func (f *FSG) Final() int { return f.final }

// Transitions returns the transitions, grouped by state in state order.
func (f *FSG) Transitions() []Transition { return slices.Clone(f.trans) }

// EachTransition calls fn for every transition in order; word is "" for
// a null transition.
func (f *FSG) EachTransition(fn func(from, to int, word string, logProb float64)) {
	for _, t := range f.trans {
		fn(t.From, t.To, t.Word, t.LogProb)
	}
}

// Words returns the distinct words, sorted.
func (f *FSG) Words() []string { return slices.Clone(f.words) }

// Size reports the FSG's states, transitions and words.
func (f *FSG) Size() FSGSize {
	return FSGSize{States: f.states, Transitions: len(f.trans), Words: len(f.words)}
}

// Score returns the log probability of the best path that says sentence
// (words separated by white space) from the start to the final state,
// and false if there is none.
func (f *FSG) Score(sentence string) (float64, bool) {
	cur := map[int]float64{f.start: 0}
	for w := range strings.FieldsSeq(sentence) {
		next := map[int]float64{}
		for s, p := range cur {
			for _, t := range f.from(s) {
				if t.Word != w {
					continue
				}
				if old, seen := next[t.To]; !seen || p+t.LogProb > old {
					next[t.To] = p + t.LogProb
				}
			}
		}
		cur = next
	}
	best, ok := math.Inf(-1), false
	for s, p := range cur {
		if s == f.final {
			best, ok = math.Max(best, p), true
		}
		for _, t := range f.from(s) {
			if t.To == f.final && t.Word == "" {
				best, ok = math.Max(best, p+t.LogProb), true
			}
		}
	}
	return best, ok
}

// Accepts reports whether the FSG can say sentence.
func (f *FSG) Accepts(sentence string) bool {
	_, ok := f.Score(sentence)
	return ok
}

// String renders the FSG in PocketSphinx's FSG file format, for reading
// and for tools; the decoder is given the FSG in memory.
func (f *FSG) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "FSG_BEGIN earshot\nNUM_STATES %d\nSTART_STATE %d\nFINAL_STATE %d\n", f.states, f.start, f.final)
	for _, t := range f.trans {
		fmt.Fprintf(&b, "TRANSITION %d %d %s", t.From, t.To, strconv.FormatFloat(math.Exp(t.LogProb), 'g', -1, 64))
		if t.Word != "" {
			b.WriteString(" " + t.Word)
		}
		b.WriteByte('\n')
	}
	b.WriteString("FSG_END\n")
	return b.String()
}
