package listen

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Tuning holds every constant of the listener that evaluation may sweep
// (earshot eval --tune): each names the phenomenon of speech it handles.
// DefaultTuning is what the daemon runs.
type Tuning struct {
	// Lead is the audio before the speech onset the wake stage hears: the
	// VAD reacts a little late, and a wake phrase's weak onset ("h") may
	// be below it.
	Lead time.Duration
	// Hangover keeps the wake stage listening after speech stops: the
	// head scores a window best 80–240 ms after the wake phrase ends.
	Hangover time.Duration
	// Span is how long the wake stage listens to speech without a pause of
	// Rearm: the wake phrase opens what is said to the device, so speech
	// that has gone on this long is conversation, and the stage sleeps
	// until the next pause. On long talk this saves most of its work.
	Span, Rearm time.Duration
	// WakeSpan bounds how long a spoken wake phrase can take: the history
	// kept before a hit, and what the verifier decodes of it.
	WakeSpan time.Duration
	// Alone is the pause after a hit that makes the wake phrase come
	// alone: the listener then says it is listening (an earcon) and waits
	// speech.command_wait for the command. People pause after a wake word.
	Alone time.Duration
	// CommandOnset is how much speech after the hit starts the command:
	// more than the VAD's hangover, less than a short word.
	CommandOnset time.Duration
	// EarconGuard is how long after the earcon the listener ignores what
	// the microphone hears: the device's own sound is not the command.
	EarconGuard time.Duration
	// QuickEnd ends a command after this much silence, not
	// speech.end_silence, when what was heard is already a whole sentence
	// of the grammar; FinalEnd sooner still when no sentence of the
	// grammar goes on from it ("turn on the kitchen lights"). Deletions
	// always wait speech.end_silence. People pause inside an order
	// ("a dark roast americano … with some almond milk", 300 ms on
	// real-dev), and in a kitchen the VAD hears such a pause as silence
	// where in a quiet room the breath in it keeps the speech going:
	// QuickEnd is longer than such a pause.
	QuickEnd, FinalEnd time.Duration
	// QuietDB is how far below the command's loudest frame a frame counts
	// as quiet for FinalEnd: a fading last sound ends the command without
	// waiting for the VAD to follow it down to the noise floor.
	QuietDB float64
	// PartialEvery is how often the verifier's partial hypothesis is read.
	PartialEvery time.Duration
	// TailShare is how much more a phone of garbage where the command
	// would be costs, after a wake phrase the head is sure of, than the
	// verifier's garbage (see commandJSGF).
	TailShare float64
	// SureShift moves the score at which the head alone is trusted, in
	// logits: the verifier's second opinion is asked below it. A sure
	// candidate still needs the phrase or a command of the grammar heard
	// after it, so the head is trusted below the score it was trained to
	// be sure at.
	SureShift float64
	// CandidateShift moves the score at which the head proposes a
	// candidate, in logits, below the threshold it was trained to propose
	// at. A head trained on generated voices scores people's wake phrases
	// lower than the generator's: for some phrases most of them fell
	// under its threshold (real-dev "smart mirror", "view glass"). The
	// head is the cheap first stage and the verifier the exact one, so the
	// head proposes generously, and the verifier must hear the phrase of
	// every candidate it is not sure of over the phone loop where it was
	// said (verifyFSG), not on the strength of the command after it.
	CandidateShift float64
	// OpinionCandidateShift is CandidateShift when there is a second
	// opinion (Config.Opinion): then the opinion is the exact stage, and
	// the head proposes more generously still.
	OpinionCandidateShift float64
	// Opinion is the second opinion's least mean log-probability per
	// token (see Config.Opinion) of a wake phrase it takes as said.
	Opinion float64
	// ReadMargin is how much less likely than its own transcript, in
	// log-probability, Config.Reader may find the grammar's sentence it
	// takes a command the decoder did not understand as (see
	// Listener.read): the largest whole number under which no reading
	// of the generated corpus was wrong. An order read wrong is acted
	// on, which is worse than one not understood.
	ReadMargin float64
}

// DefaultTuning is the listener's tuning.
var DefaultTuning = Tuning{
	Lead:         500 * time.Millisecond,
	Hangover:     500 * time.Millisecond,
	Span:         3 * time.Second,
	Rearm:        250 * time.Millisecond,
	WakeSpan:     1500 * time.Millisecond,
	Alone:        400 * time.Millisecond,
	CommandOnset: 160 * time.Millisecond,
	EarconGuard:  300 * time.Millisecond,
	QuickEnd:     400 * time.Millisecond,
	FinalEnd:     40 * time.Millisecond,
	QuietDB:      35,
	PartialEvery: 500 * time.Millisecond,
	TailShare:    25,
	SureShift:    -1,
	// 0.5 → 0.083: from real-dev, smart mirror's head's scores (the
	// figures of all phrases are in README.md).
	CandidateShift: -2.4,
	// 0.5 → 0.018: tried first and kept (docs/recognition.md); on the
	// generated corpus 5 false wakes more in 49 minutes, on real-dev 17
	// more people woken of 1432 and no false wake more.
	OpinionCandidateShift: -4,
	Opinion:               -4,
	// The first wrong reading of the generated corpus (seed 9090) was
	// 4.55 below its transcript.
	ReadMargin: 4,
}

// Set overrides fields from a list such as "Alone=300ms,SureShift=1":
// durations in Go's syntax, numbers as decimals.
func (t *Tuning) Set(list string) error {
	v := reflect.ValueOf(t).Elem()
	for _, kv := range strings.Split(list, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("%q: want NAME=VALUE", kv)
		}
		f := v.FieldByName(strings.TrimSpace(name))
		if !f.IsValid() {
			return fmt.Errorf("%q: no such setting (see listen.Tuning)", name)
		}
		val = strings.TrimSpace(val)
		switch f.Interface().(type) {
		case time.Duration:
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 {
				return fmt.Errorf("%s: want a duration, got %q", name, val)
			}
			f.SetInt(int64(d))
		case float64:
			x, err := strconv.ParseFloat(val, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%s: want a number, got %q", name, val)
			}
			f.SetFloat(x)
		}
	}
	return nil
}
