package train

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/earshot/earshot/audio/embedding"
)

// Sample is a rendered example as the head sees it: its embeddings (Dim
// values each, one per 80 ms) and where the wake phrase is, in samples
// (-1 when it holds none). The audio itself is not kept.
type Sample struct {
	Group                  string
	Embeddings             []float32
	PhraseStart, PhraseEnd int
}

// batchSize is how many examples render together: enough that festival's
// start-up is shared, few enough that their audio stays small.
const batchSize = 64

// Generate renders the examples of s and computes their embeddings, with
// workers in parallel. progress, if set, is called after each batch.
func Generate(ctx context.Context, s Spec, m *embedding.Model, workers int, progress func(done, total int)) ([]Sample, error) {
	exs := plan(s)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir, err := os.MkdirTemp("", "earshot-wake-train-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := make([]Sample, len(exs))
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := m.NewStream()
			sub, err := os.MkdirTemp(dir, "w")
			if err != nil {
				errs <- err
				cancel()
				return
			}
			for b := range jobs {
				end := min(b+batchSize, len(exs))
				clips, err := renderBatch(ctx, sub, exs[b:end], s.Seed+uint64(b))
				if err != nil {
					errs <- fmt.Errorf("rendering examples %d-%d: %w", b+1, end, err)
					cancel()
					return
				}
				for i, c := range clips {
					e := exs[b+i]
					out[b+i] = Sample{Group: e.group, Embeddings: embed(st, c.PCM), PhraseStart: c.PhraseStart, PhraseEnd: c.PhraseEnd}
				}
				if progress != nil {
					mu.Lock()
					done += end - b
					progress(done, len(exs))
					mu.Unlock()
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for b := 0; b < len(exs); b += batchSize {
			select {
			case jobs <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
