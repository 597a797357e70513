// Package moonshine runs Moonshine tiny, Useful Sensors' English speech
// recogniser (MIT; 27 M parameters, trained on some 200 000 hours of
// people's speech), through ONNX Runtime: the listener's second opinion
// on whether a candidate began with the wake phrase (see audio/listen).
//
// PocketSphinx's acoustic model and the wake-word head were each fitted
// to less speech, or to synthetic voices; a model trained on that much
// recorded speech hears people's names and a kitchen's noise as they
// are. It is too large to listen all the time: it is asked only about
// the few seconds of a candidate, once the cheap stages have found one.
//
// The model (the quantized ONNX graphs of npm's @usefulsensors/moonshine-js),
// its tokenizer (npm's llama-tokenizer-js) and ONNX Runtime's shared
// library (npm's onnxruntime-node, for linux x64 and arm64) are fetched by
// the Makefile at build time, pinned by version and checksum; nothing is
// fetched at run time.
package moonshine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Files in a model directory.
const (
	EncoderFile   = "encoder_model.onnx"
	DecoderFile   = "decoder_model_merged.onnx"
	TokenizerFile = "llama-tokenizer.js"
	// LibraryFile is ONNX Runtime's shared library, for this machine's
	// architecture.
	LibraryFile = "libonnxruntime.so"
)

// SampleRate is the rate of the audio the model hears.
const SampleRate = 16000

// ErrUnavailable is returned by Load in a build without cgo, which
// cannot load ONNX Runtime.
var ErrUnavailable = errors.New("moonshine: this build has no cgo: ONNX Runtime cannot be loaded")

// Present reports the first of the model's files missing from dir, as
// Load would, without loading anything: what a caller that loads the
// model later checks first.
func Present(dir string) error {
	for _, f := range []string{EncoderFile, DecoderFile, TokenizerFile, LibraryFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("moonshine: %w (run make models)", err)
		}
	}
	return nil
}
