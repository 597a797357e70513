package train

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/earshot/earshot/audio/wakeword"
)

// opinionClips is how many clips of the phrase OpinionShift hears unless
// Options.OpinionClips says.
const opinionClips = 256

// Where the second opinion hears a clip, as the listener asks it
// (audio/listen's secondOpinion): from a little before the speech to a
// little after the phrase.
const (
	opinionBefore = 1600 // samples: 100 ms
	opinionAfter  = 4800 // 300 ms
)

// referenceMedian is the median of the second opinion on "hey jarvis"
// by OpinionShift (seed 1): the phrase the one bar for every phrase
// (listen.Tuning.Opinion, -4) was chosen for, on the generated corpus.
const referenceMedian = -1.76

// OpinionShift measures the second opinion o.Opinion (Moonshine's mean
// log-probability per token that speech begins with the phrase; see
// audio/listen) on o.OpinionClips clips of o.Phrase's generated speech,
// said by voices with the rooms, noise and commands training uses, and
// returns how far its median is from that of "hey jarvis": the shift of
// the bar for the phrase (wakeword.Head.OpinionShift). Moonshine finds
// some names harder than others, in synthetic voices as in people's
// (medians of 256 clips: -1.3 for "computer", -1.8 for "hey jarvis",
// -3.1 for "athena", -4.1 for "view glass"), and a bar that is the same
// for all rejects most of the people who said the hard ones. The median
// is what moves it, not a low percentile: a few clips of the phrase that
// Moonshine hears as other words (espeak-ng's "computer" at 0 dB) say
// nothing about people's.
func OpinionShift(ctx context.Context, o Options) (float32, error) {
	if o.Opinion == nil {
		return 0, fmt.Errorf("train: no second opinion to measure")
	}
	if len(o.Voices) == 0 {
		o.Voices = DefaultVoices
	}
	if o.OpinionClips == 0 {
		o.OpinionClips = opinionClips
	}
	if err := checkTools(o.Voices); err != nil {
		return 0, err
	}
	exs := plan(Spec{Phrase: wakeword.Normalise(o.Phrase), Commands: commandsOf(o.Grammar), Voices: o.Voices, Positives: o.OpinionClips, Seed: o.Seed})
	dir, err := os.MkdirTemp("", "earshot-opinion-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var scores []float64
	for b := 0; b < len(exs); b += batchSize {
		end := min(b+batchSize, len(exs))
		clips, err := renderBatch(ctx, dir, exs[b:end], o.Seed+uint64(b))
		if err != nil {
			return 0, fmt.Errorf("rendering clips %d-%d: %w", b+1, end, err)
		}
		for _, c := range clips {
			s, err := o.Opinion(c.PCM[max(0, c.PhraseStart-opinionBefore):min(len(c.PCM), c.PhraseEnd+opinionAfter)])
			if err != nil {
				return 0, err
			}
			scores = append(scores, s)
		}
	}
	if len(scores) == 0 {
		return 0, fmt.Errorf("no clips to hear")
	}
	slices.Sort(scores)
	median := (scores[(len(scores)-1)/2] + scores[len(scores)/2]) / 2
	return float32(max(-wakeword.MaxOpinionShift, min(wakeword.MaxOpinionShift, median-referenceMedian))), nil
}
