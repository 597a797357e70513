//go:build cgo

package moonshine

import (
	"math"
	"testing"

	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
)

// Transcripts decoded side by side in a batch get the logits each gets
// decoded alone, each in its place in the batch, to within what the
// decoder's quantisation over the whole batch moves them.
func TestBeams(t *testing.T) {
	m := load(t)
	pcm := append(sphinxtest.Speak(t, "kal16", "can i get a large cappuccino", 0, 0), sphinxtest.Silence(0.3)...)
	a, err := m.Hear(pcm)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tok := m.Tokenizer()
	ways := [][]int{tok.Encode("Can I get"), tok.Encode("Could you get"), tok.Encode("Can I have")}
	b, err := a.beams()
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	// Two steps from the one transcript begun, then the third token of
	// each, the batch reordered: ways 2, 0, 1.
	if err := b.next([]int{0, 0, 0}, []int64{int64(ways[0][0]), int64(ways[1][0]), int64(ways[2][0])}); err != nil {
		t.Fatal(err)
	}
	if err := b.next([]int{0, 1, 2}, []int64{int64(ways[0][1]), int64(ways[1][1]), int64(ways[2][1])}); err != nil {
		t.Fatal(err)
	}
	order := []int{2, 0, 1}
	if err := b.next(order, []int64{int64(ways[2][2]), int64(ways[0][2]), int64(ways[1][2])}); err != nil {
		t.Fatal(err)
	}
	for k, w := range order {
		row, cache, err := a.next([]int64{bos}, nil)
		if err != nil {
			t.Fatal(err)
		}
		shared := a.encoderPart(cache)
		for _, id := range ways[w][:3] {
			r, c, err := a.next([]int64{int64(id)}, cache)
			if err != nil {
				t.Fatal(err)
			}
			a.free(cache)
			row, cache = r, c
		}
		a.free(cache)
		destroy(shared)
		got := b.rows[k]
		top, _ := normaliser(row)
		worst := 0.0
		for id, x := range row {
			if x >= top-5 {
				worst = max(worst, math.Abs(logSoftmax(got, id)-logSoftmax(row, id)))
			}
		}
		t.Logf("%q, %d in the batch: log-probabilities of its likeliest next tokens within %.3f of alone", tok.Decode(ways[w][:3]), k, worst)
		if worst > 0.5 {
			t.Errorf("%q, %d in the batch: a likely next token's log-probability %.3f off what it is alone", tok.Decode(ways[w][:3]), k, worst)
		}
	}
}
