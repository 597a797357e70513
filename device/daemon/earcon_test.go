package daemon

import (
	"context"
	"errors"
	"testing"
)

func TestEarconsAreShortQuietAndDistinct(t *testing.T) {
	for name, e := range map[string]earcon{"not understood": earconNotUnderstood, "forgotten": earconForgotten} {
		if len(e) == 0 || len(e) > 16000/2 {
			t.Errorf("%s: %d samples, want up to half a second", name, len(e))
		}
		peak := 0
		for _, s := range e {
			peak = max(peak, int(s), -int(s))
		}
		if peak < 1000 || peak > 8000 {
			t.Errorf("%s: peak %d, want audible but quiet", name, peak)
		}
		if e[0] != 0 || e[len(e)-1] > 200 || e[len(e)-1] < -200 {
			t.Errorf("%s: starts at %d, ends at %d: it would click", name, e[0], e[len(e)-1])
		}
	}
	if len(earconNotUnderstood) == len(earconForgotten) {
		t.Error("the two earcons have the same length: a user could not tell them apart")
	}
}

func TestEarconPlayerSkipsWhileBusyAndWhenDisabled(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	p := newEarconPlayer(true, nil)
	p.play = func(ctx context.Context, pcm []int16) error {
		started <- struct{}{}
		<-release
		return nil
	}
	p.Play(context.Background(), earconForgotten)
	<-started
	p.Play(context.Background(), earconNotUnderstood) // busy: skipped, not queued
	close(release)
	p.Wait()
	if n := p.played.Load(); n != 1 {
		t.Errorf("played %d earcons, want 1", n)
	}

	var errs []error
	q := newEarconPlayer(true, func(err error) { errs = append(errs, err) })
	q.play = func(context.Context, []int16) error { return errors.New("no sound card") }
	q.Play(context.Background(), earconForgotten)
	q.Wait()
	if len(errs) != 1 || q.played.Load() != 0 {
		t.Errorf("failed playback: errs %v, played %d", errs, q.played.Load())
	}

	off := newEarconPlayer(false, nil)
	off.play = func(context.Context, []int16) error { t.Error("disabled player played"); return nil }
	off.Play(context.Background(), earconForgotten)
	off.Wait()
}
