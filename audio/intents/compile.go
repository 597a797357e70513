package intents

import (
	"slices"
	"strings"
	"sync"
)

// The matcher runs a small compiled program over word ids instead of
// regular expressions: every word of the grammar gets an id, each template
// becomes instructions, and a backtracking run that visits each
// (instruction, position) pair at most once finds the highest-priority
// template that accepts the whole sentence in time linear in program size
// times sentence length.

type opcode uint8

const (
	opWord  opcode = iota // consume word id x
	opSplit               // try x first, then y
	opJmp                 // continue at x
	opSlot                // consume a value of slot x and record it
	opMatch               // accept as intent x if all words are consumed
)

type inst struct {
	op   opcode
	x, y int32
}

type matcher struct {
	vocab map[string]int32 // word -> id
	prog  []inst
	// starts lists, for each first word id, the entry points of the
	// templates that can begin with it, in priority order.
	starts [][]int32
	// intents and slots are indexed by opMatch.x and opSlot.x. A slot is
	// matched in place by one instruction, not compiled into every
	// template that uses it, so a long slot list costs its size once.
	intents   []string
	slots     []*slot
	slotWords [][][]int32         // slot -> value -> word ids
	slotFirst []map[int32][]int32 // slot -> first word id -> values, in order
	pool      sync.Pool           // *matchState
}

func (g *Grammar) finish() {
	m := &matcher{vocab: map[string]int32{}, slots: g.slots}
	slotIndex := map[string]int32{}
	for i, s := range g.slots {
		slotIndex[s.name] = int32(i)
		words := make([][]int32, len(s.values))
		first := map[int32][]int32{}
		for vi, v := range s.values {
			for _, w := range v.words {
				words[vi] = append(words[vi], m.wordID(w))
			}
			first[words[vi][0]] = append(first[words[vi][0]], int32(vi))
		}
		m.slotWords = append(m.slotWords, words)
		m.slotFirst = append(m.slotFirst, first)
	}
	for _, it := range g.intents {
		for _, t := range it.templates {
			walk(t.root, func(n *node) {
				if n.kind == kindWord {
					m.wordID(n.text)
				}
			})
		}
	}
	// Words of slots no template uses are still in the vocabulary but can
	// never be produced, so Words is computed from reachable nodes only.
	used := map[string]bool{}
	m.starts = make([][]int32, len(m.vocab))
	for i, it := range g.intents {
		m.intents = append(m.intents, it.name)
		for _, t := range it.templates {
			entry := int32(len(m.prog))
			m.compile(t.root, slotIndex)
			m.prog = append(m.prog, inst{op: opMatch, x: int32(i)})
			first := map[int32]bool{}
			m.first(t.root, slotIndex, first)
			for _, id := range sortedIDs(first) {
				m.starts[id] = append(m.starts[id], entry)
			}
			walk(t.root, func(n *node) {
				switch n.kind {
				case kindWord:
					used[n.text] = true
				case kindSlot:
					for _, v := range g.slots[slotIndex[n.text]].values {
						for _, w := range v.words {
							used[w] = true
						}
					}
				}
			})
		}
		g.names = append(g.names, it.name)
	}
	slices.Sort(g.names)
	g.words = sortedKeys(used)
	g.matcher = m
}

func (m *matcher) wordID(w string) int32 {
	id, ok := m.vocab[w]
	if !ok {
		id = int32(len(m.vocab))
		m.vocab[w] = id
	}
	return id
}

func (m *matcher) emit(op opcode, x, y int32) int32 {
	m.prog = append(m.prog, inst{op: op, x: x, y: y})
	return int32(len(m.prog) - 1)
}

// alternation emits a choice between branches, tried in order.
func (m *matcher) alternation(branches []func()) {
	var jumps []int32
	for i, branch := range branches {
		if i == len(branches)-1 {
			branch()
			break
		}
		split := m.emit(opSplit, 0, 0)
		m.prog[split].x = int32(len(m.prog))
		branch()
		jumps = append(jumps, m.emit(opJmp, 0, 0))
		m.prog[split].y = int32(len(m.prog))
	}
	for _, j := range jumps {
		m.prog[j].x = int32(len(m.prog))
	}
}

func (m *matcher) compile(n *node, slotIndex map[string]int32) {
	switch n.kind {
	case kindWord:
		m.emit(opWord, m.vocab[n.text], 0)
	case kindSeq:
		for _, c := range n.children {
			m.compile(c, slotIndex)
		}
	case kindAlt:
		branches := make([]func(), len(n.children))
		for i, c := range n.children {
			branches[i] = func() { m.compile(c, slotIndex) }
		}
		m.alternation(branches)
	case kindOpt:
		// Prefer taking the optional words, so "[the] kitchen" binds "the".
		split := m.emit(opSplit, 0, 0)
		m.prog[split].x = int32(len(m.prog))
		m.compile(n.children[0], slotIndex)
		m.prog[split].y = int32(len(m.prog))
	case kindSlot:
		m.emit(opSlot, slotIndex[n.text], 0)
	}
}

// first adds the ids of the words n can start with; n is never nullable
// at the top, but optional parts inside a sequence let later parts start it.
func (m *matcher) first(n *node, slotIndex map[string]int32, into map[int32]bool) {
	switch n.kind {
	case kindWord:
		into[m.vocab[n.text]] = true
	case kindSlot:
		for _, v := range m.slots[slotIndex[n.text]].values {
			into[m.vocab[v.words[0]]] = true
		}
	case kindAlt, kindOpt:
		for _, c := range n.children {
			m.first(c, slotIndex, into)
		}
	case kindSeq:
		for _, c := range n.children {
			m.first(c, slotIndex, into)
			if !c.nullable() {
				return
			}
		}
	}
}

func sortedIDs(set map[int32]bool) []int32 {
	ids := make([]int32, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// joinWords is strings.Join for the few places that need a sentence.
func joinWords(words []string) string { return strings.Join(words, " ") }
