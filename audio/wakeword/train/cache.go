package train

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/earshot/earshot/audio/embedding"
)

// The sample cache keeps what rendering produced, the embeddings of
// generated speech (no audio, and nothing anyone said), so that a head can
// be fitted again with other settings in seconds instead of rendering
// for minutes. It is keyed by the Spec: another phrase, seed or count
// renders afresh.
const cacheMagic = "earshot-wake-samples-1\n"

const maxCacheSamples = 1 << 20

func writeCache(path, key string, samples []Sample) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".samples-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	w.WriteString(cacheMagic)
	put := func(v any) { binary.Write(w, binary.LittleEndian, v) }
	put(uint32(len(key)))
	w.WriteString(key)
	put(uint32(len(samples)))
	for _, s := range samples {
		put(uint32(len(s.Group)))
		w.WriteString(s.Group)
		put([]int32{int32(s.PhraseStart), int32(s.PhraseEnd), int32(len(s.Embeddings) / embedding.Dim)})
		put(s.Embeddings)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// readCache returns the cached samples of key, or nil when the cache is
// missing or made for another key.
func readCache(path, key string) ([]Sample, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	bad := func(what string) ([]Sample, error) { return nil, fmt.Errorf("%s: %s", path, what) }
	head := make([]byte, len(cacheMagic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != cacheMagic {
		return bad("not a sample cache")
	}
	get := func(v any) error { return binary.Read(r, binary.LittleEndian, v) }
	str := func(limit uint32) (string, error) {
		var n uint32
		if err := get(&n); err != nil {
			return "", err
		}
		if n > limit {
			return "", fmt.Errorf("string of %d bytes", n)
		}
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return string(b), err
	}
	k, err := str(1 << 16)
	if err != nil {
		return bad(err.Error())
	}
	if k != key {
		return nil, nil
	}
	var n uint32
	if err := get(&n); err != nil || n > maxCacheSamples {
		return bad("sample count")
	}
	out := make([]Sample, 0, n)
	for i := uint32(0); i < n; i++ {
		g, err := str(64)
		if err != nil {
			return bad(err.Error())
		}
		var h [3]int32
		if err := get(&h); err != nil || h[2] < 0 || h[2] > 1<<16 {
			return bad("sample header")
		}
		s := Sample{Group: g, PhraseStart: int(h[0]), PhraseEnd: int(h[1]), Embeddings: make([]float32, int(h[2])*embedding.Dim)}
		if err := get(s.Embeddings); err != nil {
			return bad(err.Error())
		}
		for _, v := range s.Embeddings {
			if math.IsNaN(float64(v)) {
				return bad("NaN")
			}
		}
		out = append(out, s)
	}
	return out, nil
}
