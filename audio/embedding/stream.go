package embedding

// Stream turns audio into embeddings as it arrives: one every 80 ms of
// audio (ChunkSamples), each of the WindowFrames mel frames that end
// there. It starts as openWakeWord's streaming front end does, from a
// mel history of ones and a silent audio history. A Stream allocates
// nothing once made; it is not safe for concurrent use.
type Stream struct {
	m *Model
	// raw holds the last rawSpan samples; fill is how many are there.
	raw  [rawSpan]int16
	fill int
	// mel is the window of mel frames the next embedding hears.
	mel     [WindowFrames * Bands]float32
	scratch melScratch
	act     activations
	// primed: act holds the layers of the previous window.
	primed bool
	// Embeddings counts the embeddings computed since the Stream was
	// made; Incremental those computed from the previous window's layers.
	Embeddings, Incremental int64
}

// NewStream returns a Stream of m.
func (m *Model) NewStream() *Stream {
	s := &Stream{m: m, act: m.net.newActivations()}
	s.Reset()
	return s
}

// Reset forgets all audio, as after a gap in the stream.
func (s *Stream) Reset() {
	clear(s.raw[:])
	s.fill = rawSpan - ChunkSamples
	for i := range s.mel {
		s.mel[i] = 1
	}
	s.primed = false
}

// Push adds pcm and calls emit with each embedding it completes (Dim
// values, valid only during the call).
func (s *Stream) Push(pcm []int16, emit func(emb []float32)) {
	for len(pcm) > 0 {
		n := copy(s.raw[s.fill:], pcm)
		s.fill += n
		pcm = pcm[n:]
		if s.fill < rawSpan {
			continue
		}
		emit(s.step())
		copy(s.raw[:], s.raw[ChunkSamples:])
		s.fill = rawSpan - ChunkSamples
	}
}

// step computes the chunk that just completed and its embedding.
func (s *Stream) step() []float32 {
	const keep = (WindowFrames - ChunkFrames) * Bands
	copy(s.mel[:keep], s.mel[ChunkFrames*Bands:])
	s.m.mel.chunk(s.raw[:chunkSpan], s.mel[keep:], &s.scratch)
	emb := s.m.net.forward(s.mel[:], s.act, s.primed)
	s.Embeddings++
	if s.primed {
		s.Incremental++
	}
	s.primed = true
	return emb
}
