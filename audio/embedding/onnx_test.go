package embedding

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modelBytes reads a model file of the source tree's cache, failing with
// what to do when it is missing (embeddingtest cannot be used here: it
// imports this package).
func modelBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", ".cache", "models", name))
	if err != nil {
		t.Fatalf("%v: run `make models` (or `make test`)", err)
	}
	return b
}

func TestLoadRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	mel := modelBytes(t, MelFile)
	emb := modelBytes(t, EmbeddingFile)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(MelFile, mel)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "make models") {
		t.Fatalf("missing embedding model: %v", err)
	}
	changed := append([]byte(nil), emb...)
	changed[len(changed)/2] ^= 1
	write(EmbeddingFile, changed)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("changed embedding model: %v", err)
	}
	write(EmbeddingFile, emb)
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
}

// TestGraphsAreChecked swaps the graphs: each loader must refuse the
// other's graph by its structure, not fail later.
func TestGraphsAreChecked(t *testing.T) {
	mg, err := readGraph(modelBytes(t, MelFile))
	if err != nil {
		t.Fatal(err)
	}
	eg, err := readGraph(modelBytes(t, EmbeddingFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadMel(eg); err == nil || !strings.Contains(err.Error(), "not the speech_embedding mel graph") {
		t.Errorf("mel loader on the embedding graph: %v", err)
	}
	if _, err := loadConvNet(mg); err == nil {
		t.Errorf("embedding loader on the mel graph: no error")
	}
	// A kernel that is not a DFT is refused.
	for name, tn := range mg.tensors {
		if strings.Contains(name, "conv_imag") {
			tn.data[3*fftSize+7] += 0.5
		}
	}
	if _, err := loadMel(mg); err == nil || !strings.Contains(err.Error(), "not a windowed DFT") {
		t.Errorf("a changed kernel: %v", err)
	}
}

func TestReadGraphRefusesDamage(t *testing.T) {
	good := modelBytes(t, MelFile)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)/2]},
		{"bad varint", []byte{0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"length past the end", []byte{0x3a, 0x7f, 1, 2}},
		{"wire type 7", []byte{0x3f}},
		{"no graph", []byte{0x08, 0x07}},
	} {
		if _, err := readGraph(tc.b); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// FuzzReadGraph: no input may panic the reader or make it allocate more
// than its bounds allow.
func FuzzReadGraph(f *testing.F) {
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00})
	f.Add([]byte{0x3a, 0x10, 0x2a, 0x0e, 0x08, 0x02, 0x10, 0x01, 0x42, 0x01, 0x77, 0x4a, 0x04, 0, 0, 0x80, 0x3f})
	if b, err := os.ReadFile(filepath.Join("..", "..", ".cache", "models", MelFile)); err == nil {
		f.Add(b[:4096])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := readGraph(b)
		if err != nil {
			return
		}
		for _, tn := range g.tensors {
			if tn.data != nil && len(tn.data) != tn.size() {
				t.Fatalf("tensor of %d values for dims %v", len(tn.data), tn.dims)
			}
		}
		_, _ = loadMel(g)
		_, _ = loadConvNet(g)
	})
}
