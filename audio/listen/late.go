package listen

import (
	"errors"

	"github.com/earshot/earshot/audio/intents"
)

// ErrNotLoaded is what a second opinion loading in the background (see
// OpinionInBackground) answers until it has loaded: the verifier's
// verdict stands, and the command is what the decoder made of it.
var ErrNotLoaded = errors.New("second opinion not loaded yet")

// opinionReader is what wake.second_opinion gives the listener: the
// opinion on the phrase and the reader of commands, one model.
type opinionReader interface {
	Opinion
	Reader
}

// late is a second opinion that loads in the background: the daemon
// hears from the moment it starts, and Moonshine, seconds to load, joins
// when it is there. Until then, and for good if it failed to load, it
// answers ErrNotLoaded (the failure is the load function's to log).
type late struct {
	ready chan struct{}
	o     opinionReader
}

// loadLate starts load in the background.
func loadLate(load func() (opinionReader, error)) *late {
	l := &late{ready: make(chan struct{})}
	go func() {
		defer close(l.ready)
		if o, err := load(); err == nil {
			l.o = o
		}
	}()
	return l
}

func (l *late) get() opinionReader {
	select {
	case <-l.ready:
		return l.o
	default:
		return nil
	}
}

// Wait waits for the load to end and reports whether it loaded.
func (l *late) Wait() bool {
	<-l.ready
	return l.o != nil
}

func (l *late) Said(pcm []int16) (float64, error) {
	o := l.get()
	if o == nil {
		return 0, ErrNotLoaded
	}
	return o.Said(pcm)
}

func (l *late) Read(pcm []int16, g *intents.FSG, beam int, candidates func(string, [][]string) [][]string) (string, []float64, error) {
	o := l.get()
	if o == nil {
		return "", nil, ErrNotLoaded
	}
	return o.Read(pcm, g, beam, candidates)
}
