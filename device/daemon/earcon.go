package daemon

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/portaudio"
)

// Earcons answer the user on the device itself, with no words: the only
// feedback an utterance that went nowhere gets.
type earcon []int16

var (
	// earconNotUnderstood: two falling notes, "hm?".
	earconNotUnderstood = tones(0.18, 660, 520)
	// earconForgotten: three quick falling notes, "gone".
	earconForgotten = tones(0.12, 880, 660, 440)
	// earconListening: two rising notes, "yes?", after a wake phrase said
	// alone, while the device waits for the command.
	earconListening = tones(0.12, 520, 780)
)

// tones renders short sine notes of 90 ms each at amplitude amp (0..1),
// with a raised-cosine edge so they do not click.
func tones(amp float64, freqs ...float64) earcon {
	const note = 90 * time.Millisecond
	n := int(note.Seconds() * audio.SampleRate)
	edge := n / 8
	out := make([]int16, 0, n*len(freqs))
	for _, f := range freqs {
		for i := 0; i < n; i++ {
			g := 1.0
			if i < edge {
				g = 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(edge))
			} else if i > n-edge {
				g = 0.5 - 0.5*math.Cos(math.Pi*float64(n-i)/float64(edge))
			}
			out = append(out, int16(amp*g*32767*math.Sin(2*math.Pi*f*float64(i)/audio.SampleRate)))
		}
	}
	return out
}

// earconPlayer plays earcons on the default output, one at a time; an
// earcon asked for while another plays is skipped rather than queued.
type earconPlayer struct {
	enabled bool
	busy    atomic.Bool
	play    func(ctx context.Context, pcm []int16) error
	played  atomic.Uint64
	onError func(error)
	wg      sync.WaitGroup
}

func newEarconPlayer(enabled bool, onError func(error)) *earconPlayer {
	return &earconPlayer{
		enabled: enabled,
		onError: onError,
		play: func(ctx context.Context, pcm []int16) error {
			return portaudio.Play(ctx, "default", pcm, audio.SampleRate)
		},
	}
}

// Play starts e in the background; it never blocks the capture loop.
// Playback ends early when ctx ends; Wait waits for it.
func (p *earconPlayer) Play(ctx context.Context, e earcon) {
	if !p.enabled || !p.busy.CompareAndSwap(false, true) {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.busy.Store(false)
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := p.play(ctx, e); err != nil && p.onError != nil {
			p.onError(err)
			return
		}
		p.played.Add(1)
	}()
}

// Wait returns once no earcon is playing.
func (p *earconPlayer) Wait() { p.wg.Wait() }
