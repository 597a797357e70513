package intents

import "maps"

// maxSkips bounds how many duplicate or shadowed expansions one template
// may produce in a row before Sentences gives up on it.
const maxSkips = 1000

// Sentences returns up to limit example sentences with what Match returns
// for each. Templates take turns, so a small limit still covers every
// intent; each template first varies all its choice points at once
// (alternatives, optional parts, slot values), then lists the remaining
// expansions in order. Sentences that a higher-priority intent would claim are left out.
// The result is deterministic. limit <= 0 returns nothing.
func (g *Grammar) Sentences(limit int) []Sentence {
	if limit <= 0 {
		return nil
	}
	var gens []*sentenceGen
	for _, it := range g.intents {
		for _, t := range it.templates {
			gens = append(gens, &sentenceGen{g: g, it: it, root: t.root, cover: g.coverage(t.root)})
		}
	}
	seen := map[string]bool{}
	var out []Sentence
	for live := len(gens); live > 0 && len(out) < limit; {
		live = 0
		for _, gen := range gens {
			if len(out) == limit {
				break
			}
			if s, ok := gen.next(seen); ok {
				out = append(out, s)
				live++
			}
		}
	}
	return out
}

// sentenceGen walks the expansions of one template: first a covering pass
// (expansion k takes option k mod n at every choice point), then every
// expansion in odometer order.
type sentenceGen struct {
	g       *Grammar
	it      *intent
	root    *node
	cover   int   // number of covering expansions
	k       int   // next covering expansion
	odo     []int // current odometer choice per choice point
	sizes   []int // choice point sizes seen on the last walk
	started bool  // the odometer has produced its first expansion
	done    bool
}

func (s *sentenceGen) next(seen map[string]bool) (Sentence, bool) {
	for range maxSkips {
		words, caps, ok := s.step()
		if !ok {
			return Sentence{}, false
		}
		text := joinWords(words)
		if seen[text] {
			continue
		}
		want := Match{Intent: s.it.name, Slots: caps}
		got, ok := s.g.Match(text)
		if !ok || got.Intent != want.Intent || !maps.Equal(got.Slots, want.Slots) {
			// Claimed by a higher-priority template, which will list it
			// itself; marking it seen here would steal it from that one.
			continue
		}
		seen[text] = true
		return Sentence{Text: text, Match: want}, true
	}
	s.done = true
	return Sentence{}, false
}

// step produces the next expansion, or false when there are no more.
func (s *sentenceGen) step() ([]string, map[string]string, bool) {
	if s.done {
		return nil, nil, false
	}
	if s.k < s.cover {
		k := s.k
		s.k++
		return s.expand(func(n int) int { return k % n })
	}
	if s.started && !s.advance() {
		s.done = true
		return nil, nil, false
	}
	s.started = true
	i := 0
	s.sizes = s.sizes[:0]
	words, caps, _ := s.expand(func(n int) int {
		if i == len(s.odo) {
			s.odo = append(s.odo, 0)
		}
		c := s.odo[i]
		s.sizes = append(s.sizes, n)
		i++
		return c
	})
	s.odo = s.odo[:i]
	return words, caps, true
}

// advance moves the odometer to the next expansion; choice points after
// the one that moved are reset (they may differ on the new path).
func (s *sentenceGen) advance() bool {
	for i := len(s.odo) - 1; i >= 0; i-- {
		if s.odo[i]+1 < s.sizes[i] {
			s.odo[i]++
			s.odo = s.odo[:i+1]
			return true
		}
	}
	return false
}

func (s *sentenceGen) expand(choose func(n int) int) ([]string, map[string]string, bool) {
	var words []string
	caps := map[string]string{}
	var walk func(n *node)
	walk = func(n *node) {
		switch n.kind {
		case kindWord:
			words = append(words, n.text)
		case kindSeq:
			for _, c := range n.children {
				walk(c)
			}
		case kindAlt:
			walk(n.children[choose(len(n.children))])
		case kindOpt:
			if choose(2) == 0 {
				walk(n.children[0])
			}
		case kindSlot:
			sl := s.g.slot(n.text)
			v := sl.values[choose(len(sl.values))]
			words = append(words, v.words...)
			caps[sl.name] = v.value
		}
	}
	walk(s.root)
	return words, caps, true
}

// coverage is the size of the largest choice point in n: that many
// covering expansions take every option of every choice point on the
// paths they walk.
func (g *Grammar) coverage(n *node) int {
	c := 1
	switch n.kind {
	case kindAlt:
		c = len(n.children)
	case kindOpt:
		c = 2
	case kindSlot:
		c = len(g.slot(n.text).values)
	}
	for _, ch := range n.children {
		c = max(c, g.coverage(ch))
	}
	return c
}

func (g *Grammar) slot(name string) *slot {
	for _, s := range g.slots {
		if s.name == name {
			return s
		}
	}
	return nil
}
