package intents

import (
	"slices"
	"strings"
)

// maxWords bounds the sentence Match will consider; a spoken command is a
// handful of words and anything longer cannot be one of ours anyway.
const maxWords = 64

// Match maps a recognised word sequence (wake phrase already stripped) to
// its intent and slot values. Words are separated by white space and
// compared case-insensitively. When several templates accept the sentence
// the first in priority order wins: built-ins, then file order.
func (g *Grammar) Match(words string) (Match, bool) {
	m := g.matcher
	st := m.state()
	defer m.pool.Put(st)

	in, ok := m.ids(words, st.in[:0])
	st.in = in
	if !ok || len(in) == 0 {
		return Match{}, false
	}
	intent, ok := m.run(st)
	if !ok {
		return Match{}, false
	}
	res := Match{Intent: m.intents[intent], Slots: map[string]string{}}
	for si, vi := range st.caps {
		if vi >= 0 {
			s := m.slots[si]
			res.Slots[s.name] = s.values[vi].value
		}
	}
	return res, true
}

// ids appends the word ids of words to in. It is false for more than
// maxWords words or a word the grammar cannot produce.
func (m *matcher) ids(words string, in []int32) ([]int32, bool) {
	for w := range strings.FieldsSeq(words) {
		if len(in) == maxWords {
			return in, false
		}
		id, ok := m.vocab[w]
		if !ok {
			id, ok = m.vocab[strings.ToLower(w)]
		}
		if !ok {
			return in, false
		}
		in = append(in, id)
	}
	return in, true
}

// matchState is the scratch space of one Match call, pooled so a match
// allocates nothing but its result.
type matchState struct {
	in      []int32
	caps    []int32 // slot index -> value index, -1 when unset
	visited []uint64
	jobs    []job
}

// job is work left on the backtracking stack.
type job struct {
	kind      jobKind
	pc, pos   int32
	slot, val int32
}

type jobKind uint8

const (
	jobBranch  jobKind = iota // continue at (pc, pos)
	jobCapture                // set slot = val, then continue at (pc, pos)
	jobUndo                   // restore slot = val: the branch that set it failed
)

func (m *matcher) state() *matchState {
	if st, ok := m.pool.Get().(*matchState); ok {
		return st
	}
	return &matchState{in: make([]int32, 0, 16), caps: make([]int32, len(m.slots))}
}

func (m *matcher) run(st *matchState) (int32, bool) {
	in := st.in
	n := int32(len(in))
	stride := n + 1
	bits := (len(m.prog)*int(stride) + 63) / 64
	if cap(st.visited) < bits {
		st.visited = make([]uint64, bits)
	}
	visited := st.visited[:bits]
	clear(visited)
	for i := range st.caps {
		st.caps[i] = -1
	}
	jobs := st.jobs[:0]
	defer func() { st.jobs = jobs[:0] }()
	entries := m.starts[in[0]]
	for i := len(entries) - 1; i >= 0; i-- {
		jobs = append(jobs, job{pc: entries[i]})
	}
	for len(jobs) > 0 {
		j := jobs[len(jobs)-1]
		jobs = jobs[:len(jobs)-1]
		switch j.kind {
		case jobUndo:
			st.caps[j.slot] = j.val
			continue
		case jobCapture:
			jobs = append(jobs, job{kind: jobUndo, slot: j.slot, val: st.caps[j.slot]})
			st.caps[j.slot] = j.val
		}
		pc, pos := j.pc, j.pos
	thread:
		for {
			bit := int(pc)*int(stride) + int(pos)
			if visited[bit/64]&(1<<(bit%64)) != 0 {
				break // this (pc, pos) already failed
			}
			visited[bit/64] |= 1 << (bit % 64)
			ins := m.prog[pc]
			switch ins.op {
			case opWord:
				if pos == n || in[pos] != ins.x {
					break thread
				}
				pc, pos = pc+1, pos+1
			case opSplit:
				jobs = append(jobs, job{pc: ins.y, pos: pos})
				pc = ins.x
			case opJmp:
				pc = ins.x
			case opSlot:
				if pos == n {
					break thread
				}
				// Every value that fits here is a branch; pushed in
				// reverse so the first value in the file is tried first.
				values := m.slotFirst[ins.x][in[pos]]
				for i := len(values) - 1; i >= 0; i-- {
					words := m.slotWords[ins.x][values[i]]
					end := pos + int32(len(words))
					if end <= n && slices.Equal(in[pos:end], words) {
						jobs = append(jobs, job{kind: jobCapture, pc: pc + 1, pos: end, slot: ins.x, val: values[i]})
					}
				}
				break thread
			case opMatch:
				if pos == n {
					return ins.x, true
				}
				break thread
			}
		}
	}
	return 0, false
}

// Continues reports whether some sentence of the grammar begins with words
// and goes on past them: whether a listener that has heard words should
// wait for more. It is false for a sentence no other sentence extends
// ("turn on the kitchen lights") and for words no sentence begins with.
func (g *Grammar) Continues(words string) bool {
	m := g.matcher
	in, ok := m.ids(words, nil)
	if !ok {
		return false
	}
	if len(in) == 0 {
		return len(m.prog) > 0
	}
	n := int32(len(in))
	type thread struct{ pc, pos int32 }
	seen := map[thread]bool{}
	var stack []thread
	for _, pc := range m.starts[in[0]] {
		stack = append(stack, thread{pc, 0})
	}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for !seen[t] {
			seen[t] = true
			ins := m.prog[t.pc]
			switch ins.op {
			case opWord:
				if t.pos == n {
					return true // every template ends in a match: more words follow
				}
				if in[t.pos] != ins.x {
					goto next
				}
				t = thread{t.pc + 1, t.pos + 1}
			case opSplit:
				stack = append(stack, thread{ins.y, t.pos})
				t.pc = ins.x
			case opJmp:
				t.pc = ins.x
			case opSlot:
				if t.pos == n {
					return true
				}
				for _, v := range m.slotFirst[ins.x][in[t.pos]] {
					vw := m.slotWords[ins.x][v]
					end := t.pos + int32(len(vw))
					if end > n {
						if slices.Equal(in[t.pos:], vw[:n-t.pos]) {
							return true // the words stop inside a slot value
						}
						continue
					}
					if slices.Equal(in[t.pos:end], vw) {
						stack = append(stack, thread{t.pc + 1, end})
					}
				}
				goto next
			case opMatch:
				goto next
			}
		}
	next:
	}
	return false
}
