package intents

import (
	"container/heap"
	"slices"
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
	near := f.NearestN(words, 1)
	if len(near) == 0 {
		return nil, 0, false
	}
	return near[0].Words, near[0].Cost, true
}

// Near is a sentence of the FSG and its cost from a transcript (see
// Nearest).
type Near struct {
	Words []string
	Cost  float64
}

// NearestN returns up to n sentences of the FSG nearest to words, the
// nearest first, each once.
func (f *FSG) NearestN(words []string, n int) []Near {
	if n <= 0 {
		return nil
	}
	// The n nearest sentences may each be reached by a few alignments
	// of the same cost; a place (word read, state) is left 4n times.
	limit := 4 * n
	type step struct {
		i, s   int
		d      float64
		parent int    // the step before, -1 at the start
		word   string // the sentence's word the step took, if any
	}
	var steps []step
	left := make([]int, (len(words)+1)*f.states)
	q := &nodeQueue{}
	push := func(st step) {
		if left[st.i*f.states+st.s] < limit {
			steps = append(steps, st)
			heap.Push(q, queued{len(steps) - 1, st.d})
		}
	}
	push(step{s: f.start, parent: -1})
	var out []Near
	seen := map[string]bool{}
	for q.Len() > 0 && len(out) < n {
		k := heap.Pop(q).(queued).k
		v := steps[k]
		at := v.i*f.states + v.s
		if left[at] >= limit {
			continue
		}
		left[at]++
		if v.i == len(words) && v.s == f.final {
			var sentence []string
			for j := k; j >= 0; j = steps[j].parent {
				if w := steps[j].word; w != "" {
					sentence = append(sentence, w)
				}
			}
			slices.Reverse(sentence)
			if key := strings.Join(sentence, " "); !seen[key] {
				seen[key] = true
				out = append(out, Near{sentence, v.d})
			}
			continue
		}
		if v.i < len(words) {
			push(step{v.i + 1, v.s, v.d + 1, k, ""})
		}
		for _, t := range f.from(v.s) {
			if t.Word == "" {
				push(step{v.i, t.To, v.d, k, ""})
				continue
			}
			push(step{v.i, t.To, v.d + 1, k, t.Word})
			if v.i < len(words) {
				push(step{v.i + 1, t.To, v.d + letterDistance(words[v.i], t.Word), k, t.Word})
			}
		}
	}
	return out
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
			if wordRune(r) {
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

// wordRune reports whether r belongs in a word as the grammar writes
// words (TranscriptWords, FSG.Spell): a letter, a digit or an apostrophe.
func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' }
