package embedding_test

import (
	"testing"

	"github.com/earshot/earshot/audio/embedding/embeddingtest"
)

// BenchmarkStream measures the embedding of a second of audio as it is
// streamed (12.5 embeddings, each from the previous window's layers).
func BenchmarkStream(b *testing.B) {
	m := embeddingtest.Model(b)
	s := m.NewStream()
	pcm := testSignal()[:16000]
	emit := func([]float32) {}
	s.Push(pcm, emit)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Push(pcm, emit)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9, "rtf")
	b.ReportMetric(float64(len(pcm))/16000, "audio-s/op")
}

// BenchmarkWhole measures one embedding computed from the whole window,
// as after a Reset.
func BenchmarkWhole(b *testing.B) {
	m := embeddingtest.Model(b)
	s := m.NewStream()
	s.Push(testSignal()[:16000], func([]float32) {})
	b.ReportAllocs()
	for b.Loop() {
		s.Whole()
	}
}
