package listen

import (
	"fmt"
	"math"
	"strings"

	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/wakeword"
)

// WakeStage finds candidate wake phrases in speech. The listener gives it
// audio only around speech (Lead before the onset, Hangover after), and a
// Reset before each stretch; every hit is verified by the grammar search.
type WakeStage interface {
	// Push takes audio and reports whether the wake phrase ends in it,
	// and whether the stage is sure enough that the verifier need not
	// hear the phrase too (a command must still follow for an action).
	// A stage may tell a hit only after the phrase's end: late is how
	// many of the samples it has taken since that end.
	Push(pcm []int16) (hit Hit, err error)
	Reset()
	Close()
}

// Hit is what the wake stage reports.
type Hit struct {
	OK, Sure bool
	Score    float32
	// Late is how many samples ago the phrase ended (the head's score
	// first passed the candidate threshold).
	Late int
}

// headStage is the wake stage on the speech embedding: a head trained
// for the phrase scores each 80 ms. A score over the candidate threshold
// (the head's own threshold, lowered by Tuning.CandidateShift) arms it;
// the hit is the score's peak, when it stops rising: a head can pass its
// threshold on "jar-", and the rest of the word must not be taken for the
// start of the command.
type headStage struct {
	d               windowScorer
	candidate, sure float32
	peak            float32 // the best score since armed; 0 when not armed
	rising          int     // windows since armed
	late            int     // samples since armed
}

// maxRise bounds the wait for the peak: 4 windows, 320 ms.
const maxRise = 4

// windowScorer is what headStage needs of a wakeword.Detector.
type windowScorer interface {
	Push(pcm []int16) (best float32, windows int)
	Reset()
	Head() *wakeword.Head
}

func newHeadStage(d windowScorer, sensitivity float64, tune Tuning) *headStage {
	h := d.Head()
	return &headStage{d: d, candidate: shift(h.Threshold, sensitivity, tune.CandidateShift),
		sure: shift(h.Sure, sensitivity, tune.SureShift)}
}

// shift moves a threshold with the sensitivity (0.5 leaves it; 1 divides
// its odds by e⁴, 0 multiplies them) and by extra logits.
func shift(th float32, sensitivity, extra float64) float32 {
	p := math.Min(math.Max(float64(th), 1e-6), 1-1e-6)
	z := math.Log(p/(1-p)) - 8*(sensitivity-0.5) + extra
	return float32(1 / (1 + math.Exp(-z)))
}

func (s *headStage) Push(pcm []int16) (Hit, error) {
	if s.peak > 0 {
		s.late += len(pcm)
	}
	score, n := s.d.Push(pcm)
	if n == 0 {
		return Hit{Score: score}, nil
	}
	if s.peak == 0 {
		if score >= s.candidate {
			s.peak, s.rising, s.late = score, 0, 0
		}
		return Hit{Score: score}, nil
	}
	s.rising += n
	if score > s.peak && s.rising < maxRise {
		s.peak = score
		return Hit{Score: score}, nil
	}
	peak := max(s.peak, score)
	s.peak = 0
	return Hit{OK: true, Sure: peak >= s.sure, Score: peak, Late: s.late}, nil
}

func (s *headStage) Reset() { s.d.Reset(); s.peak = 0 }
func (s *headStage) Close() {}

// spotterStage is PocketSphinx keyword spotting, for a phrase no head
// has been trained for (and the plain-KWS baseline): it is never sure.
type spotterStage struct {
	dec *sphinx.Decoder
}

// kwsPhoneLoop is the spotter's phone-loop probability (PocketSphinx's
// default is 0.1): a cheap loop lets it fire on most real wake phrases,
// many false ones included, which verification removes.
const kwsPhoneLoop = "1e-10"

func newSpotterStage(modelDir string, wake []string, words sphinx.Dictionary, sensitivity float64, baseline bool) (*spotterStage, error) {
	var extra []string
	if !baseline {
		extra = []string{"-kws_plp", kwsPhoneLoop}
	}
	own, _ := words.Subset(wake)
	dec, err := sphinx.New(sphinx.Config{ModelDir: modelDir, Words: own, Extra: extra})
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	kws := math.Pow(10, -(10 + 32*math.Max(0, math.Min(1, sensitivity))))
	if err := dec.SetKeyphrase(searchWake, strings.Join(wake, " "), kws); err != nil {
		dec.Close()
		return nil, fmt.Errorf("listen: wake phrase %q: %w", strings.Join(wake, " "), err)
	}
	if err := dec.SetSearch(searchWake); err != nil {
		dec.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	return &spotterStage{dec: dec}, nil
}

func (s *spotterStage) Push(pcm []int16) (Hit, error) {
	if err := s.dec.Process(pcm); err != nil {
		return Hit{}, err
	}
	if hyp, _ := s.dec.Hyp(); hyp == "" {
		return Hit{}, nil
	}
	// A hit ends the spotter's utterance; the next Push starts another.
	if err := s.dec.EndUtt(); err != nil {
		return Hit{}, err
	}
	return Hit{OK: true, Score: 1}, nil
}

func (s *spotterStage) Reset() { _ = s.dec.EndUtt() }
func (s *spotterStage) Close() { s.dec.Close() }
