// Package embeddingtest finds the speech embedding's model files for
// tests: the source tree's .cache/models, where `make models` puts them.
package embeddingtest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/earshot/earshot/audio/embedding"
)

// Dir returns the directory of the model files, failing the test with
// what to do when they are not there.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			models := filepath.Join(dir, ".cache", "models")
			if _, err := os.Stat(filepath.Join(models, embedding.EmbeddingFile)); err != nil {
				t.Fatalf("the speech embedding's model files are not in %s: run `make models` (or `make test`)", models)
			}
			return models
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}

var (
	once  sync.Once
	model *embedding.Model
	err   error
)

// Model loads the model once per test binary.
func Model(t testing.TB) *embedding.Model {
	t.Helper()
	dir := Dir(t)
	once.Do(func() { model, err = embedding.Load(dir) })
	if err != nil {
		t.Fatal(err)
	}
	return model
}
