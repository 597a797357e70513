package intents

import (
	"fmt"
	"math"
	"strings"
	"sync"
)

// Net is a word network for the recogniser to search: the command
// language of a Grammar, single words with their probabilities, and
// sequences, choices, optional parts and loops of them. A Net is a
// value; nothing is built until Compile, so one Net (a garbage loop, say)
// may appear in several places of a larger one.
//
// Probabilities are per word, as JSGF weights are to PocketSphinx: a path
// scores the product of the probabilities along it, choices are not
// normalised, and an unweighted word has probability 1.
type Net struct {
	op    netOp
	word  string
	logp  float64
	parts []Net
	lang  *wfsa // opLanguage
	err   error
}

type netOp uint8

const (
	opWordNet netOp = iota
	opEmpty
	opSeq
	opAlt
	opRepeat
	opLanguage
)

// Word is one word said with probability prob (0 < prob <= 1). The word
// is passed to the recogniser as it is, so it may be a pseudo-word such as
// a garbage phone; it must not be empty or contain white space.
func Word(w string, prob float64) Net {
	n := Net{op: opWordNet, word: w, logp: math.Log(prob)}
	switch {
	case w == "" || strings.ContainsAny(w, " \t\r\n"):
		n.err = fmt.Errorf("intents: net word %q: expected one word without white space", w)
	case !validProb(prob):
		n.err = fmt.Errorf("intents: net word %q: probability %v, expected 0 < p <= 1", w, prob)
	}
	return n
}

// Empty is the way round a part: no word, taken with probability prob
// (0 < prob <= 1). Alt(Word("hey", 1), Empty(1e-14)) lets a phrase go
// without its first word at a high price, as JSGF's /1e-14/ <NULL> does.
func Empty(prob float64) Net {
	n := Net{op: opEmpty, logp: math.Log(prob)}
	if !validProb(prob) {
		n.err = fmt.Errorf("intents: net empty alternative: probability %v, expected 0 < p <= 1", prob)
	}
	return n
}

func validProb(p float64) bool { return p > 0 && p <= 1 }

// Seq is parts said one after the other.
func Seq(parts ...Net) Net { return Net{op: opSeq, parts: parts} }

// Alt is one of parts. Alt() with no parts accepts nothing.
func Alt(parts ...Net) Net { return Net{op: opAlt, parts: parts} }

// Optional is part or nothing, as [part] in a template or in JSGF.
func Optional(part Net) Net { return Alt(part, Empty(1)) }

// Repeat is part said once or more, as part+ in JSGF.
func Repeat(part Net) Net { return Net{op: opRepeat, parts: []Net{part}} }

// Commands is the grammar's command language, built-in intents included:
// every sentence Match understands and nothing else, as a minimal
// deterministic automaton (so its size depends on the language, not on
// how many templates spell it). It is built on first use and shared.
func (g *Grammar) Commands() Net {
	lang, err := g.commandLanguage()
	return Net{op: opLanguage, lang: lang, err: err}
}

// CommandFSG compiles the command language alone.
func (g *Grammar) CommandFSG() (*FSG, error) { return Compile(g.Commands()) }

// commandAutomaton is the grammar's minimal command automaton, built once.
type commandAutomaton struct {
	once sync.Once
	lang *wfsa
	err  error
}

func (g *Grammar) commandLanguage() (*wfsa, error) {
	c := &g.command
	c.once.Do(func() {
		b := newNetBuilder()
		start := b.a.addState()
		b.a.start = start
		for _, it := range g.intents {
			for _, t := range it.templates {
				end := b.template(g, t.root, start)
				b.a.final[end] = 0
			}
		}
		c.lang, c.err = b.a.removeNulls().trim().determinise(maxDetStates)
		if c.err != nil {
			c.err = fmt.Errorf("intents: %s: command language: %w", g.file, c.err)
			return
		}
		c.lang = c.lang.minimise()
	})
	return c.lang, c.err
}

// netBuilder builds automata with null arcs (Thompson's construction):
// each part is built from a given state and returns the state it ends in.
type netBuilder struct {
	a     *wfsa
	vocab map[string]int32
}

func newNetBuilder() *netBuilder {
	return &netBuilder{a: &wfsa{}, vocab: map[string]int32{}}
}

func (b *netBuilder) wordID(w string) int32 {
	id, ok := b.vocab[w]
	if !ok {
		id = int32(len(b.a.words))
		b.vocab[w] = id
		b.a.words = append(b.a.words, w)
	}
	return id
}

func (b *netBuilder) arc(from int, word string, logp float64) int {
	to := b.a.addState()
	id := int32(noWord)
	if word != "" {
		id = b.wordID(word)
	}
	b.a.addArc(from, to, id, logp)
	return to
}

// join ends every branch in one new state.
func (b *netBuilder) join(ends []int) int {
	end := b.a.addState()
	for _, e := range ends {
		b.a.addArc(e, end, noWord, 0)
	}
	return end
}

// template builds a template from state from. Templates never loop, so a
// part may start right at from: nothing leads back into it.
func (b *netBuilder) template(g *Grammar, n *node, from int) int {
	switch n.kind {
	case kindWord:
		return b.arc(from, n.text, 0)
	case kindSeq:
		for _, c := range n.children {
			from = b.template(g, c, from)
		}
		return from
	case kindAlt:
		ends := make([]int, len(n.children))
		for i, c := range n.children {
			ends[i] = b.template(g, c, from)
		}
		return b.join(ends)
	case kindOpt:
		return b.join([]int{b.template(g, n.children[0], from), from})
	case kindSlot:
		s := g.slot(n.text)
		ends := make([]int, len(s.values))
		for i, v := range s.values {
			end := from
			for _, w := range v.words {
				end = b.arc(end, w, 0)
			}
			ends[i] = end
		}
		return b.join(ends)
	}
	panic("intents: unknown template node")
}

// net builds n from a fresh state reached from from by a null arc, so
// that a loop inside n can never lead back into what came before it.
func (b *netBuilder) net(n Net, from int) int {
	entry := b.arc(from, "", 0)
	switch n.op {
	case opWordNet:
		return b.arc(entry, n.word, n.logp)
	case opEmpty:
		return b.arc(entry, "", n.logp)
	case opSeq:
		for _, p := range n.parts {
			entry = b.net(p, entry)
		}
		return entry
	case opAlt:
		ends := make([]int, len(n.parts))
		for i, p := range n.parts {
			ends[i] = b.net(p, entry)
		}
		return b.join(ends)
	case opRepeat:
		end := b.net(n.parts[0], entry)
		b.a.addArc(end, entry, noWord, 0)
		return b.join([]int{end})
	case opLanguage:
		off := len(b.a.arcs)
		for range n.lang.arcs {
			b.a.addState()
		}
		for s, arcs := range n.lang.arcs {
			for _, arc := range arcs {
				b.a.addArc(off+s, off+int(arc.to), b.wordID(n.lang.words[arc.word]), arc.logp)
			}
		}
		b.a.addArc(entry, off+n.lang.start, noWord, 0)
		ends := []int{}
		for s, f := range n.lang.final {
			if f != notFinal {
				e := b.arc(off+s, "", f)
				ends = append(ends, e)
			}
		}
		return b.join(ends)
	}
	panic("intents: unknown net")
}

// netErr returns the first error among n and its parts.
func netErr(n Net) error {
	if n.err != nil {
		return n.err
	}
	for _, p := range n.parts {
		if err := netErr(p); err != nil {
			return err
		}
	}
	return nil
}

// Compile turns n into the word FSG the recogniser searches, determinised
// and minimised: a net without loops (a command language, a wake phrase
// before it) always, one with loops (a garbage loop) when its loops allow
// it, and otherwise with only its equivalent states merged. The result
// has one start and one final state, null transitions only into the final
// state, and every sentence's best path probability as n gives it.
func Compile(n Net) (*FSG, error) {
	if err := netErr(n); err != nil {
		return nil, err
	}
	b := newNetBuilder()
	start := b.a.addState()
	b.a.start = start
	end := b.net(n, start)
	b.a.final[end] = 0
	a := b.a.removeNulls().trim()
	if a.acyclic() {
		det, err := a.determinise(maxDetStates)
		if err != nil {
			return nil, fmt.Errorf("intents: %w", err)
		}
		a = det
	} else if det, err := a.determinise(loopDetStates(len(a.arcs))); err == nil {
		a = det
	}
	a = a.minimise()
	switch {
	case len(a.arcs[a.start]) == 0 && !a.isFinal(a.start):
		return nil, fmt.Errorf("intents: the net accepts no sentence")
	case a.isFinal(a.start):
		return nil, fmt.Errorf("intents: the net accepts silence (no words at all): expected at least one word on every path")
	}
	return newFSG(a), nil
}

// loopDetStates is how far determinising a net with loops may grow
// before Compile settles for merging equivalent states: a few times its
// size, which the listener's garbage loops stay well under.
func loopDetStates(states int) int { return max(1000, 4*states) }
