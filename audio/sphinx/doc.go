// Package sphinx wraps the CMU PocketSphinx 5prealpha decoder through cgo.
//
// A Decoder owns exactly one C decoder and must be used from one goroutine at
// a time (PocketSphinx is not thread-safe); Close frees all C memory and is
// idempotent. The engine's own log is silenced and init failures surface as
// errors. Built without cgo (or with the nopocketsphinx tag) every
// constructor returns ErrUnavailable, so the rest of earshot still compiles.
package sphinx

import "errors"

// DefaultModelDir is where Debian's pocketsphinx-en-us installs the US
// English acoustic model and dictionary.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// TrackedFrames is the memory of the cepstral mean Decoder.Track keeps,
// in 10 ms frames: each frame's weight decays by 1/TrackedFrames per
// frame, so the mean is mostly of the last second or two of tracked audio.
const TrackedFrames = 100

// ErrUnavailable is returned when earshot was built without PocketSphinx.
var ErrUnavailable = errors.New("sphinx: built without PocketSphinx (cgo disabled or nopocketsphinx tag)")

// Config selects the model and tunes the decoder.
type Config struct {
	// ModelDir holds the acoustic model directory "en-us" and the
	// dictionary "cmudict-en-us.dict"; empty means DefaultModelDir.
	ModelDir string
	// Words lists the pronunciations the decoder may recognise, word ->
	// phone strings (one per variant). Loading only the words in use
	// instead of the 134k-word dictionary keeps memory and start-up low.
	Words map[string][]string
	// Extra are additional raw PocketSphinx arguments ("-beam", "1e-40").
	Extra []string
}

// Segment is one word of a hypothesis with its position in 10 ms frames.
type Segment struct {
	Word       string
	Start, End int
	// Prob is the word's posterior log-probability (0 is certain).
	Prob int32
}
