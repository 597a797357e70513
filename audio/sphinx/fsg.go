package sphinx

import (
	"fmt"
	"math"
)

// FSG is a word finite-state grammar as SetFSG takes it (intents.FSG is
// one): states 0..States()-1, one start and one final state, and
// transitions each with a word ("" for a null transition) and the
// natural log of its probability. The decoder adds silence and filler
// loops and alternative pronunciations itself.
type FSG interface {
	States() int
	Start() int
	Final() int
	EachTransition(fn func(from, to int, word string, logProb float64))
}

// maxFSGStates bounds what SetFSG hands the decoder: its search keeps
// per-state tables, and a grammar this large would not decode in real
// time anyway.
const maxFSGStates = 1 << 20

// checkFSG rejects what the C library would take and then misbehave on:
// states out of range, probabilities above 1 or not numbers.
func checkFSG(g FSG) error {
	n := g.States()
	if n <= 0 || n > maxFSGStates {
		return fmt.Errorf("FSG with %d states: expected 1 to %d", n, maxFSGStates)
	}
	if s := g.Start(); s < 0 || s >= n {
		return fmt.Errorf("start state %d out of range 0..%d", s, n-1)
	}
	if f := g.Final(); f < 0 || f >= n {
		return fmt.Errorf("final state %d out of range 0..%d", f, n-1)
	}
	var err error
	g.EachTransition(func(from, to int, word string, logProb float64) {
		switch {
		case err != nil:
		case from < 0 || from >= n || to < 0 || to >= n:
			err = fmt.Errorf("transition %d -> %d %q: state out of range 0..%d", from, to, word, n-1)
		case math.IsNaN(logProb) || math.IsInf(logProb, -1) || logProb > 0:
			err = fmt.Errorf("transition %d -> %d %q: log probability %v, expected a probability above 0 and at most 1 (log <= 0)", from, to, word, logProb)
		}
	})
	return err
}

// fsgTransition is one transition of an FSG read back from the library.
type fsgTransition struct {
	from, to int
	word     string // "" for a null transition
	logProb  float64
}

// Beams are a search's pruning thresholds, as probabilities relative to
// the best path of the frame: HMMs (PocketSphinx's -beam), phone
// transitions (-pbeam) and word exits (-wbeam). Smaller keeps more. A
// zero field keeps the decoder's own.
type Beams struct{ HMM, Phone, Word float64 }
