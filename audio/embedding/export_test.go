package embedding

// Internals for the external tests (package embedding_test), which use
// embeddingtest to find the model files.

// MelChunk computes the mel chunk of the chunkSpan samples in pcm.
func (m *Model) MelChunk(pcm []int16, out []float32) {
	var sc melScratch
	m.mel.chunk(pcm, out, &sc)
}

// Whole computes the embedding of the Stream's current mel window from
// scratch, in fresh activations.
func (s *Stream) Whole() []float32 {
	return s.m.net.forward(s.mel[:], s.m.net.newActivations(), false)
}

const ChunkSpan, RawSpan = chunkSpan, rawSpan

var HaveFMA = haveFMA
