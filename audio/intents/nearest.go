package intents

import (
	"container/heap"
	"strings"
	"unicode"
)

// Nearest returns the sentence of the FSG nearest to words, and how far
// it is: the least cost of saying words where the sentence was, a word
// left out or put in costing 1 and a word read as another the share of
// its letters that differ (their edit distance over the longer's
// length: "lattes" for "latte" costs 1/6). It reads a transcript in
// another recogniser's own words as a sentence of the grammar. ok is
// false when the FSG says nothing.
func (f *FSG) Nearest(words []string) (sentence []string, cost float64, ok bool) {
	n := len(words)
	type node struct{ i, s int }
	type back struct {
		from node
		word string // the sentence's word the step took, if any
	}
	id := func(v node) int { return v.i*f.states + v.s }
	dist := make([]float64, (n+1)*f.states)
	for k := range dist {
		dist[k] = -1
	}
	prev := make([]back, len(dist))
	done := make([]bool, len(dist))
	q := &nodeQueue{}
	push := func(v node, d float64, b back) {
		if k := id(v); !done[k] && (dist[k] < 0 || d < dist[k]) {
			dist[k], prev[k] = d, b
			heap.Push(q, queued{k, d})
		}
	}
	push(node{0, f.start}, 0, back{from: node{-1, -1}})
	for q.Len() > 0 {
		e := heap.Pop(q).(queued)
		if done[e.k] {
			continue
		}
		done[e.k] = true
		v := node{e.k / f.states, e.k % f.states}
		if v.i == n && v.s == f.final {
			for k := e.k; prev[k].from.i >= 0; k = id(prev[k].from) {
				if w := prev[k].word; w != "" {
					sentence = append(sentence, w)
				}
			}
			for a, b := 0, len(sentence)-1; a < b; a, b = a+1, b-1 {
				sentence[a], sentence[b] = sentence[b], sentence[a]
			}
			return sentence, e.d, true
		}
		if v.i < n {
			push(node{v.i + 1, v.s}, e.d+1, back{from: v})
		}
		for _, t := range f.from(v.s) {
			if t.Word == "" {
				push(node{v.i, t.To}, e.d, back{from: v})
				continue
			}
			push(node{v.i, t.To}, e.d+1, back{from: v, word: t.Word})
			if v.i < n {
				push(node{v.i + 1, t.To}, e.d+letterDistance(words[v.i], t.Word), back{from: v, word: t.Word})
			}
		}
	}
	return nil, 0, false
}

// TranscriptWords splits a transcript as a recogniser writes it ("Hey,
// Jarvis! A large latte, 2 shots.") into the grammar's kind of words:
// lower case, without punctuation, small numbers spelt out.
func TranscriptWords(text string) []string {
	var out []string
	text = strings.ReplaceAll(strings.ToLower(text), "’", "'")
	for w := range strings.FieldsSeq(text) {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		w = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
				return r
			}
			return ' '
		}, w)
		for p := range strings.FieldsSeq(w) {
			if s, ok := numbers[p]; ok {
				p = s
			}
			out = append(out, p)
		}
	}
	return out
}

var numbers = map[string]string{
	"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
	"7": "seven", "8": "eight", "9": "nine", "10": "ten", "11": "eleven", "12": "twelve",
}

// letterDistance is the edit distance of a and b over the longer's
// length: 0 for the same word, 1 for words with nothing in common.
func letterDistance(a, b string) float64 {
	if a == b {
		return 0
	}
	x, y := []rune(a), []rune(b)
	row := make([]int, len(y)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(x); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(y); j++ {
			sub := diag
			if x[i-1] != y[j-1] {
				sub++
			}
			diag = row[j]
			row[j] = min(sub, row[j]+1, row[j-1]+1)
		}
	}
	return float64(row[len(y)]) / float64(max(len(x), len(y)))
}

type queued struct {
	k int
	d float64
}

type nodeQueue []queued

func (q nodeQueue) Len() int           { return len(q) }
func (q nodeQueue) Less(i, j int) bool { return q[i].d < q[j].d }
func (q nodeQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *nodeQueue) Push(x any)        { *q = append(*q, x.(queued)) }
func (q *nodeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
