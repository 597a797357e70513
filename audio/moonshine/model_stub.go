//go:build !cgo

package moonshine

import "github.com/earshot/earshot/audio/intents"

// Model is unavailable in this build.
type Model struct{ tok *Tokenizer }

// Load returns ErrUnavailable in this build.
func Load(string) (*Model, error) { return nil, ErrUnavailable }

// Close does nothing.
func (m *Model) Close() {}

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *Tokenizer { return m.tok }

// Audio is unavailable in this build.
type Audio struct{ Seconds float64 }

// Hear returns ErrUnavailable.
func (m *Model) Hear([]int16) (*Audio, error) { return nil, ErrUnavailable }

// Close does nothing.
func (a *Audio) Close() {}

// Score returns ErrUnavailable.
func (a *Audio) Score([]int) (float64, error) { return 0, ErrUnavailable }

// Transcribe returns ErrUnavailable.
func (a *Audio) Transcribe() (string, error) { return "", ErrUnavailable }

// Held is unavailable without cgo.
func (a *Audio) Held(*intents.FSG, int) ([][]string, error) { return nil, ErrUnavailable }
