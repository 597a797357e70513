package wakeword

import (
	"github.com/earshot/earshot/audio/embedding"
)

// Detector scores audio for a wake phrase as it arrives: the speech
// embedding of every 80 ms, and the head on the latest Window of them.
// After a Reset the window is filled with the first embedding, as in
// training, so the head can score from the first 80 ms on. A Detector
// allocates nothing once made; it is not safe for concurrent use.
type Detector struct {
	stream *embedding.Stream
	scorer *Scorer
	head   *Head
	// ring holds the latest Window embeddings; next is the oldest slot.
	ring   []float32
	window []float32 // the ring in time order, for the head
	next   int
	fresh  bool // no embedding since Reset
	// during Push: the best score and its count
	best float32
	n    int
	emit func([]float32)
}

// NewDetector returns a Detector of head on the embedding model m.
func NewDetector(m *embedding.Model, head *Head) *Detector {
	d := &Detector{
		stream: m.NewStream(),
		scorer: NewScorer(head),
		head:   head,
		ring:   make([]float32, head.Inputs()),
		window: make([]float32, head.Inputs()),
	}
	d.emit = d.add
	d.Reset()
	return d
}

// Head returns the detector's head.
func (d *Detector) Head() *Head { return d.head }

// Reset forgets all audio.
func (d *Detector) Reset() {
	d.stream.Reset()
	clear(d.ring)
	clear(d.window)
	d.next, d.fresh = 0, true
}

// Push adds pcm. It returns how many windows it completed (one per 80 ms)
// and the highest score among them.
func (d *Detector) Push(pcm []int16) (best float32, windows int) {
	d.best, d.n = 0, 0
	d.stream.Push(pcm, d.emit)
	return d.best, d.n
}

// Embeddings counts the embeddings computed since the Detector was made,
// and how many of them were computed from the whole window.
func (d *Detector) Embeddings() (all, whole int64) {
	return d.stream.Embeddings, d.stream.Embeddings - d.stream.Incremental
}

func (d *Detector) add(e []float32) {
	if d.fresh {
		for i := 0; i < d.head.Window; i++ {
			copy(d.ring[i*embedding.Dim:], e)
		}
		d.fresh = false
	} else {
		copy(d.ring[d.next*embedding.Dim:], e)
		d.next = (d.next + 1) % d.head.Window
	}
	// Oldest first: from next round to next-1.
	k := copy(d.window, d.ring[d.next*embedding.Dim:])
	copy(d.window[k:], d.ring[:d.next*embedding.Dim])
	s := d.scorer.Score(d.window)
	if d.n == 0 || s > d.best {
		d.best = s
	}
	d.n++
}
