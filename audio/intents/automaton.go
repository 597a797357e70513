package intents

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
)

// wfsa is a weighted word automaton. Weights are natural logs of
// probabilities (0 is certain, none is above 0); a path scores the sum of
// its arcs and of the final weight of its last state, and a sentence the
// best of its paths, which is how a Viterbi decoder scores it. Word ids
// index the automaton's vocabulary; noWord marks a null arc.
type wfsa struct {
	start int
	arcs  [][]warc
	final []float64 // notFinal unless the state may end a sentence
	words []string  // vocabulary: word id -> word
}

type warc struct {
	word int32
	to   int32
	logp float64
}

const noWord = -1

var notFinal = math.Inf(-1)

// errTooLarge is returned when determinising would exceed its limit: a
// finite language can have a deterministic automaton exponentially larger
// than its templates, and an intents file must not stall the daemon.
var errTooLarge = errors.New("grammar too large to compile")

// maxDetStates bounds the deterministic automaton of one language before
// it is minimised. The largest grammar at hand, the coffee orders, needs
// 3632 (70 once minimised); a grammar 25 times that would be far past
// what decodes in real time anyway.
const maxDetStates = 100000

func (a *wfsa) addState() int {
	a.arcs = append(a.arcs, nil)
	a.final = append(a.final, notFinal)
	return len(a.arcs) - 1
}

func (a *wfsa) addArc(from, to int, word int32, logp float64) {
	a.arcs[from] = append(a.arcs[from], warc{word: word, to: int32(to), logp: logp})
}

func (a *wfsa) isFinal(s int) bool { return a.final[s] != notFinal }

// removeNulls returns the automaton without null arcs: each state gets
// the word arcs and the final weight of every state its null arcs reach,
// through the best null path there. Null arcs may form cycles (a loop of
// an optional part); their weights are never above 0, so no cycle
// improves a path and relaxing until nothing improves ends.
func (a *wfsa) removeNulls() *wfsa {
	n := len(a.arcs)
	out := &wfsa{start: a.start, words: a.words, arcs: make([][]warc, n), final: make([]float64, n)}
	best := make([]float64, n)
	for i := range best {
		best[i] = notFinal
	}
	type key struct{ word, to int32 }
	merged := map[key]int{} // index into arcs
	var reached, stack []int
	var arcs []warc
	for p := range n {
		reached, stack = a.nullClosure(p, best, reached[:0], stack[:0])
		clear(merged)
		arcs = arcs[:0]
		out.final[p] = notFinal
		for _, q := range reached {
			w := best[q]
			out.final[p] = math.Max(out.final[p], w+a.final[q])
			for _, arc := range a.arcs[q] {
				if arc.word == noWord {
					continue
				}
				k := key{arc.word, arc.to}
				if i, seen := merged[k]; seen {
					arcs[i].logp = math.Max(arcs[i].logp, w+arc.logp)
					continue
				}
				merged[k] = len(arcs)
				arcs = append(arcs, warc{word: arc.word, to: arc.to, logp: w + arc.logp})
			}
		}
		out.arcs[p] = slices.Clone(arcs)
		for _, q := range reached {
			best[q] = notFinal
		}
	}
	return out
}

// nullClosure sets best[q] to the best null path weight from p to each
// state q it reaches (p itself at 0) and returns those states; stack is
// scratch space.
func (a *wfsa) nullClosure(p int, best []float64, reached, stack []int) ([]int, []int) {
	best[p] = 0
	reached = append(reached, p)
	stack = append(stack, p)
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, arc := range a.arcs[s] {
			if arc.word != noWord {
				continue
			}
			to, w := int(arc.to), best[s]+arc.logp
			if w > best[to] {
				if best[to] == notFinal {
					reached = append(reached, to)
				}
				best[to] = w
				stack = append(stack, to)
			}
		}
	}
	return reached, stack
}

// trim drops states that no path from the start reaches or that reach no
// final state, renumbering the rest in their old order.
func (a *wfsa) trim() *wfsa {
	n := len(a.arcs)
	fwd := make([]bool, n)
	stack := []int{a.start}
	fwd[a.start] = true
	back := make([][]int, n)
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, arc := range a.arcs[s] {
			back[arc.to] = append(back[arc.to], s)
			if !fwd[arc.to] {
				fwd[arc.to] = true
				stack = append(stack, int(arc.to))
			}
		}
	}
	live := make([]bool, n)
	for s := range n {
		if fwd[s] && a.isFinal(s) {
			live[s] = true
			stack = append(stack, s)
		}
	}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range back[s] {
			if !live[p] {
				live[p] = true
				stack = append(stack, p)
			}
		}
	}
	count := 0
	for s := range n {
		if live[s] {
			count++
		}
	}
	out := &wfsa{words: a.words, arcs: make([][]warc, 0, count+1), final: make([]float64, 0, count+1)}
	id := make([]int, n)
	for s := range n {
		id[s] = -1
		if live[s] {
			id[s] = out.addState()
			out.final[id[s]] = a.final[s]
		}
	}
	if !live[a.start] {
		out.start = out.addState() // the empty language: a start and nothing else
		return out
	}
	out.start = id[a.start]
	for s := range n {
		if !live[s] {
			continue
		}
		for _, arc := range a.arcs[s] {
			if live[arc.to] {
				out.addArc(id[s], id[arc.to], arc.word, arc.logp)
			}
		}
	}
	return out
}

// acyclic reports whether no path returns to a state it left.
func (a *wfsa) acyclic() bool {
	const (
		unseen = iota
		open
		closed
	)
	mark := make([]uint8, len(a.arcs))
	type frame struct{ state, next int }
	for root := range a.arcs {
		if mark[root] != unseen {
			continue
		}
		stack := []frame{{root, 0}}
		mark[root] = open
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next == len(a.arcs[f.state]) {
				mark[f.state] = closed
				stack = stack[:len(stack)-1]
				continue
			}
			to := int(a.arcs[f.state][f.next].to)
			f.next++
			switch mark[to] {
			case open:
				return false
			case unseen:
				mark[to] = open
				stack = append(stack, frame{to, 0})
			}
		}
	}
	return true
}

// determinise returns the deterministic automaton of a null-free one: one
// arc per word out of each state. Its states are sets of the input's
// states, each with the weight still owed to it (the residual), and each
// arc carries the best weight of the arcs it merges, so every sentence
// keeps its best path's score exactly (weighted subset construction in the
// tropical semiring). It ends on acyclic input; on input with loops it
// ends when the loops' weights allow it (twin loops weigh the same, as a
// garbage loop reached two ways does) and otherwise grows until limit
// states, when it gives up with errTooLarge.
func (a *wfsa) determinise(limit int) (*wfsa, error) {
	type member struct {
		state int32
		resid float64
	}
	out := &wfsa{words: a.words}
	index := map[string]int{}
	var subsets [][]member
	key := func(ms []member) string {
		b := make([]byte, 0, len(ms)*12)
		for _, m := range ms {
			b = binary.LittleEndian.AppendUint32(b, uint32(m.state))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.resid))
		}
		return string(b)
	}
	add := func(ms []member) (int, bool) {
		k := key(ms)
		if s, ok := index[k]; ok {
			return s, true
		}
		s := out.addState()
		index[k] = s
		subsets = append(subsets, ms)
		return s, false
	}
	out.start, _ = add([]member{{int32(a.start), 0}})
	var cands []warc
	for cur := 0; cur < len(subsets); cur++ {
		if len(subsets) > limit {
			return nil, errTooLarge
		}
		ms := subsets[cur]
		for _, m := range ms {
			out.final[cur] = math.Max(out.final[cur], m.resid+a.final[m.state])
		}
		// Every arc out of the set, by word, then target, best first.
		cands = cands[:0]
		for _, m := range ms {
			for _, arc := range a.arcs[m.state] {
				cands = append(cands, warc{word: arc.word, to: arc.to, logp: m.resid + arc.logp})
			}
		}
		slices.SortFunc(cands, func(x, y warc) int {
			return cmp.Or(cmp.Compare(x.word, y.word), cmp.Compare(x.to, y.to), cmp.Compare(y.logp, x.logp))
		})
		for i := 0; i < len(cands); {
			j := i
			best := notFinal
			for j < len(cands) && cands[j].word == cands[i].word {
				best = math.Max(best, cands[j].logp)
				j++
			}
			var sub []member
			for k := i; k < j; k++ {
				if k == i || cands[k].to != cands[k-1].to {
					sub = append(sub, member{cands[k].to, cands[k].logp - best})
				}
			}
			to, _ := add(sub)
			out.addArc(cur, to, cands[i].word, best)
			i = j
		}
	}
	return out, nil
}

// minimise merges states whose futures are the same: the same final
// weight and, word for word, arcs of the same weight into merged states
// (partition refinement). On a deterministic automaton the result is its
// minimal automaton, which depends only on the language and its weights,
// not on how the templates spelled it; on any other it merges what is
// equivalent arc for arc (a bisimulation), which keeps every path score.
func (a *wfsa) minimise() *wfsa {
	n := len(a.arcs)
	class := make([]int, n)
	count := 0
	for {
		sigs := map[string]int{}
		next := make([]int, n)
		var buf []byte
		for s := range n {
			buf = a.signature(buf[:0], s, class)
			k := string(buf)
			c, ok := sigs[k]
			if !ok {
				c = len(sigs)
				sigs[k] = c
			}
			next[s] = c
		}
		class = next
		if len(sigs) == count {
			break
		}
		count = len(sigs)
	}
	out := &wfsa{words: a.words}
	for range count {
		out.addState()
	}
	done := make([]bool, count)
	for s := range n {
		c := class[s]
		if done[c] {
			continue
		}
		done[c] = true
		out.final[c] = a.final[s]
		seen := map[warc]bool{}
		for _, arc := range a.arcs[s] {
			m := warc{word: arc.word, to: int32(class[arc.to]), logp: arc.logp}
			if !seen[m] {
				seen[m] = true
				out.arcs[c] = append(out.arcs[c], m)
			}
		}
	}
	out.start = class[a.start]
	return out
}

// signature encodes what distinguishes state s under the partition
// class: its own class, its final weight and its distinct outgoing
// (word, weight, target class) triples.
func (a *wfsa) signature(buf []byte, s int, class []int) []byte {
	buf = binary.LittleEndian.AppendUint32(buf, uint32(class[s]))
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(a.final[s]))
	type triple struct {
		word, to int32
		logp     float64
	}
	ts := make([]triple, 0, len(a.arcs[s]))
	for _, arc := range a.arcs[s] {
		ts = append(ts, triple{arc.word, int32(class[arc.to]), arc.logp})
	}
	slices.SortFunc(ts, func(x, y triple) int {
		switch {
		case x.word != y.word:
			return int(x.word - y.word)
		case x.to != y.to:
			return int(x.to - y.to)
		}
		return compareFloat(x.logp, y.logp)
	})
	ts = slices.Compact(ts)
	for _, t := range ts {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(t.word))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(t.to))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(t.logp))
	}
	return buf
}

func compareFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
