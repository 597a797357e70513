// Package listen turns a stream of 20 ms frames into complete utterances:
// wake word, end of speech, and the command's intent and slots.
//
// Keyword spotting runs only around speech (silence is never decoded) and
// is tuned for recall; every candidate is verified by decoding pre-roll,
// wake phrase and command against the intents grammar competing with a
// phone loop, which rejects most false wakes. Utterance.Audio is handed
// over to the caller; the listener keeps no reference to it.
package listen

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture/resample"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/preroll"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/vad"
	"github.com/earshot/earshot/audio/wakenet"
)

// Config configures a Listener.
type Config struct {
	WakePhrase string
	// WakeSource is where the wake phrase is set, for errors
	// ("/etc/earshot/earshot.yaml:12: wake.phrase"); default "wake.phrase".
	WakeSource  string
	Sensitivity float64 // 0..1; higher wakes more readily
	Grammar     *intents.Grammar
	// Preroll is how much audio before the wake phrase a recording keeps.
	Preroll time.Duration
	// MaxUtterance caps a recording; EndSilence of silence ends it.
	MaxUtterance, EndSilence time.Duration
	ModelDir                 string // default sphinx.DefaultModelDir
	Logger                   *slog.Logger

	// VAD tells speech from silence; nil uses audio/vad with its default
	// sensitivity.
	VAD SpeechDetector
	// SkipVerify accepts every keyword-spotting hit and decodes the command
	// alone: the plain-KWS baseline that eval reports next to the pipeline.
	SkipVerify bool
	// WakeNet, when set, scores every candidate of the keyword spotter and
	// overrules the verifier where it is sure (see audio/wakenet). It must
	// have been trained for WakePhrase.
	WakeNet *wakenet.Net
	// Candidates, when set, is handed the audio that ends at each hit of
	// the keyword spotter (up to wakenet.ContextSamples), to train a
	// WakeNet from a corpus. It is speech: it must not be kept, and the
	// daemon never sets it.
	Candidates func(pcm []int16)
}

// SpeechDetector classifies frames as speech or silence.
type SpeechDetector interface {
	IsSpeech(frame []int16) bool
	Reset()
}

// Utterance is one completed wake-and-command.
type Utterance struct {
	// Audio is pre-roll + wake phrase + command: the recording to store.
	Audio []int16
	// Transcript holds the recognised command words, wake phrase stripped.
	// It is private speech: never log it at INFO or above.
	Transcript string
	// Intent is "" when the command matched no intent.
	Intent   string
	Slots    map[string]string
	Duration time.Duration
}

// ErrClosed is returned by a Listener after Close.
var ErrClosed = errors.New("listen: listener closed")

type state int

const (
	idle      state = iota // silence: nothing is decoded
	spotting               // speech: keyword spotting runs
	capturing              // wake word heard: recording the command
	// talking is speech that did not open with the wake phrase: nothing
	// is decoded until the next pause.
	talking
)

const (
	// spotLead is the audio before speech onset given to the spotter, so
	// the VAD's reaction time does not cut the start of the wake phrase.
	spotLead = 300 * time.Millisecond
	// spotHangover keeps the spotter running through short pauses.
	spotHangover = 400 * time.Millisecond
	// spotSpan is how long after a pause the spotter listens. The wake
	// phrase opens what is said to the device (verification rejects one
	// preceded by words), so speech that has gone on this long without
	// it is not decoded until the next pause of rearmPause: on long
	// conversation this saves most of the spotting.
	spotSpan   = 1500 * time.Millisecond
	rearmPause = 200 * time.Millisecond
	// wakeSpan bounds how long a spoken wake phrase can take; the history
	// ring holds it plus the pre-roll.
	wakeSpan = 1500 * time.Millisecond
	// commandWait is how long the listener waits for a command to start
	// after the wake phrase before giving up on silence.
	commandWait = 1500 * time.Millisecond
	// commandOnset is how many speech frames after the wake phrase make
	// a command: more than the VAD's hangover, less than a short word.
	commandOnset = 8
	// earlyCheck is when, after a hit, the verifier's partial hypothesis
	// must already hold the wake phrase.
	earlyCheck = 2 * time.Second
	// partialEvery is how often the verifier's partial hypothesis is read.
	partialEvery = 500 * time.Millisecond
	// quickEnd ends a command after this much silence, instead of
	// speech.end_silence, when what was heard is already a whole sentence
	// of the grammar: the answer comes sooner, and a pause inside a
	// command that is not yet complete still waits the full end silence.
	// Deletions always wait it (see complete).
	quickEnd = 250 * time.Millisecond
	// finalEnd is shorter still, for a whole sentence that no sentence of
	// the grammar extends ("turn on the kitchen lights"): nothing more can
	// be part of the command, so the answer need not wait for a pause.
	finalEnd = 40 * time.Millisecond
	// quietRatio is how far below the command's peak power (35 dB) a
	// frame counts as quiet for finalEnd.
	quietRatio = 3162
	// kwsPhoneLoop is the spotter's phone-loop probability (PocketSphinx's
	// default is 0.1); tuned on the generated corpus for recall.
	kwsPhoneLoop = "1e-10"
	// spotDownsample is how many frames share one full Gaussian
	// evaluation in the spotter (PocketSphinx's -ds). On the generated
	// corpus 3 spots as many wake phrases as 1, for 40 % of the CPU
	// (pocketsphinx_continuous on the idle benchmark audio: 13.1 -> 5.3
	// s); 4 lost recall and intents.
	spotDownsample = "3"
	// verifyWordBeam is the verifier's word-exit beam (PocketSphinx's
	// default is 7e-29). Narrower, a wake phrase the phone loop explains
	// far better is pruned rather than carried as a near miss: on the
	// generated corpus 27.1 -> 22.2 false wakes per hour, recall and
	// intents unchanged, and shorter search histories (1 MB less peak
	// RSS). 1e-20 and 1e-15 also cost right intents.
	verifyWordBeam = "1e-25"
	// verifyMaxHMMs caps the HMMs the verifier keeps active in a frame
	// (PocketSphinx's -maxhmmpf; its default is 30000). The phone loops
	// keep thousands active through ordinary speech; with the cap the
	// corpus decodes to the same results for 9 % less CPU (61.0 -> 55.8
	// s) and 1.2 MB less peak (held out: one wake phrase less). 1000
	// lost one on the corpus too.
	verifyMaxHMMs = "1500"
)

// Listener is the push-based recogniser. Feed, Flush and Reset are meant
// for the capture goroutine; SetGrammar and Close may come from others.
type Listener struct {
	mu      sync.Mutex
	log     *slog.Logger
	cfg     Config
	spotter *sphinx.Decoder // keyword spotting, on speech
	dec     *sphinx.Decoder // verification and the command, on candidates
	vad     SpeechDetector
	wake    []string
	first   [][]string // the pronunciations of the wake phrase's first word
	gram    *intents.Grammar
	decoys  [][]string
	// The grammars of the searches made when they are needed: the
	// command search (see recoverCommand) and the one that confirms a
	// deletion (confirmDeletion).
	commandJSGF  string
	deletionJSGF string
	hist         *preroll.Ring // pre-roll + wake phrase
	lead         []int16
	closed       bool

	st     state
	silent int // consecutive silent frames
	// spotFrames counts frames spotted since the last pause.
	spotFrames int
	heard      bool // the command has started
	inWake     bool // no pause since the hit yet (see wakeTail)
	// speechFrames counts speech frames since the wake phrase.
	speechFrames int
	partial      string  // the verifier's latest partial hypothesis
	rec          []int16 // recording in progress (capturing)
	spare        []int16 // a wiped recording buffer for the next one
	recFrames    int
	peak         float64 // loudest frame power since the hit
	quiet        int     // consecutive frames quietRatio below peak
	stats        Stats
	// warp resamples for lookWarped, into warped (wiped after each use).
	warp   *resample.Stream
	warped []int16
	// net scores candidates (Config.WakeNet); score is the candidate's.
	net   *wakenet.Scorer
	score float32
	// onlyNet: the verifier rejected the candidate at the early check and
	// the classifier's certainty alone keeps it (see commandSpan).
	onlyNet bool
	// stream keeps the classifier's input for the speech being spotted,
	// scored every scanEvery frames (scanTick counts them); nil when the
	// net has no Scan threshold.
	stream   *wakenet.Stream
	scanTick int
}

// New loads the decoder and checks that every word of the wake phrase and
// the grammar is in the pronunciation dictionary.
func New(cfg Config) (*Listener, error) {
	if cfg.Grammar == nil {
		return nil, errors.New("listen: no intents grammar")
	}
	if err := intents.CheckPhrase(cfg.WakePhrase); err != nil {
		return nil, fmt.Errorf("listen: wake.phrase %q: %w", cfg.WakePhrase, err)
	}
	if cfg.Sensitivity < 0 || cfg.Sensitivity > 1 {
		return nil, fmt.Errorf("listen: wake.sensitivity %g: expected 0..1", cfg.Sensitivity)
	}
	if cfg.MaxUtterance <= 0 {
		cfg.MaxUtterance = 8 * time.Second
	}
	if cfg.EndSilence <= 0 {
		cfg.EndSilence = 700 * time.Millisecond
	}
	if cfg.Preroll < 0 {
		cfg.Preroll = 0
	}
	if cfg.ModelDir == "" {
		cfg.ModelDir = sphinx.DefaultModelDir
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Listener{
		log:  cfg.Logger.With("component", "listen"),
		cfg:  cfg,
		wake: strings.Fields(strings.ToLower(cfg.WakePhrase)),
		vad:  cfg.VAD,
		hist: preroll.New(cfg.Preroll + wakeSpan),
	}
	if l.vad == nil {
		l.vad = vad.New(vad.Config{})
	}
	if n := cfg.WakeNet; n != nil && !cfg.SkipVerify {
		if !n.Knows(cfg.WakePhrase) {
			return nil, fmt.Errorf("listen: the wake-word classifier knows %q, not the wake phrase %q", n.Phrase, cfg.WakePhrase)
		}
		l.net = wakenet.NewScorer(n)
		if n.Scan < 1 {
			l.stream = wakenet.NewStream()
		}
	}
	words, err := l.lookup(cfg.Grammar)
	if err != nil {
		return nil, err
	}
	for _, pron := range words[l.wake[0]] {
		l.first = append(l.first, strings.Fields(pron))
	}
	if l.warp, err = resample.NewStream(audio.SampleRate, warpRate, audio.FrameSamples); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	for w, p := range garbageWords() {
		words[w] = p
	}
	if cfg.SkipVerify {
		// The plain-KWS baseline is PocketSphinx as it is usually used:
		// one decoder, switching from the keyphrase to the command grammar.
		if l.spotter, err = newSpotter(cfg, l.wake, words); err != nil {
			return nil, err
		}
		l.dec = l.spotter
	} else {
		var alike sphinx.Dictionary
		if l.decoys, alike, err = soundAlikes(sphinx.DictionaryPath(cfg.ModelDir), l.wake, words); err != nil {
			return nil, err
		}
		for w, p := range alike {
			if _, ok := words[w]; !ok {
				words[w] = p
			}
		}
		own, _ := words.Subset(l.wake) // the spotter needs only the wake phrase
		if l.spotter, err = newSpotter(cfg, l.wake, own); err != nil {
			return nil, err
		}
		if l.dec, err = sphinx.New(sphinx.Config{ModelDir: cfg.ModelDir, Words: words, Extra: []string{"-wbeam", verifyWordBeam, "-maxhmmpf", verifyMaxHMMs}}); err != nil {
			l.spotter.Close()
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	if err := l.setGrammar(cfg.Grammar); err != nil {
		l.closeDecoders()
		return nil, err
	}
	return l, nil
}

// newSpotter loads the keyword-spotting decoder with the pronunciations
// in words. It is separate from the verifier because acoustic settings
// belong to a decoder, not a search: the spotter runs on all speech and
// scores Gaussians only every spotDownsample frames, the verifier decodes
// only candidates, at full resolution. The plain-KWS baseline spots as
// PocketSphinx does by default.
func newSpotter(cfg Config, wake []string, words sphinx.Dictionary) (*sphinx.Decoder, error) {
	var extra []string
	if !cfg.SkipVerify {
		// A cheap phone loop lets the spotter fire on most real wake
		// phrases, many false ones included; verification removes those.
		extra = []string{"-kws_plp", kwsPhoneLoop, "-ds", spotDownsample}
	}
	dec, err := sphinx.New(sphinx.Config{ModelDir: cfg.ModelDir, Words: words, Extra: extra})
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	kws, _ := thresholds(cfg.Sensitivity)
	if err := dec.SetKeyphrase(searchWake, strings.Join(wake, " "), kws); err != nil {
		dec.Close()
		return nil, fmt.Errorf("listen: wake phrase %q: %w", cfg.WakePhrase, err)
	}
	if err := dec.SetSearch(searchWake); err != nil {
		dec.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	return dec, nil
}

// lookup returns the pronunciations of the wake phrase and grammar words,
// or an error naming every word the dictionary lacks.
func (l *Listener) lookup(g *intents.Grammar) (sphinx.Dictionary, error) {
	words := append(g.Words(), l.wake...)
	path := sphinx.DictionaryPath(l.cfg.ModelDir)
	dict, missing, err := sphinx.LookupWords(path, words)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if len(missing) > 0 {
		var where []string
		for _, w := range missing {
			if contains(l.wake, w) {
				where = append(where, fmt.Sprintf("%q (%s)", w, cmp.Or(l.cfg.WakeSource, "wake.phrase")))
			} else {
				where = append(where, fmt.Sprintf("%q (%s)", w, g.File()))
			}
		}
		return nil, fmt.Errorf("listen: words not in the pronunciation dictionary %s: %s; use words the dictionary knows or spell them as it does",
			path, strings.Join(where, ", "))
	}
	return dict, nil
}

func contains(s []string, w string) bool {
	for _, x := range s {
		if x == w {
			return true
		}
	}
	return false
}

// SetGrammar switches to a new intents grammar (on SIGHUP) without
// dropping the stream. An utterance being captured at that moment is
// dropped, since its search is replaced mid-decode. A grammar with words
// the dictionary lacks is refused and the old one stays in force.
func (l *Listener) SetGrammar(g *intents.Grammar) error {
	if g == nil {
		return errors.New("listen: no intents grammar")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	words, err := l.lookup(g)
	if err != nil {
		return err
	}
	if l.st == capturing {
		// Replacing the running search ends its utterance: start over.
		l.resetLocked()
	}
	if err := l.dec.AddWords(words); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return l.setGrammar(g)
}

func (l *Listener) setGrammar(g *intents.Grammar) error {
	_, garbage := thresholds(l.cfg.Sensitivity)
	var err error
	if l.cfg.SkipVerify {
		err = l.dec.SetJSGF(searchVerify, g.JSGF(""), intents.GrammarName+"."+intents.RuleCommand)
	} else {
		err = l.dec.SetJSGF(searchVerify, verifyJSGF(g, l.wake, garbage, l.decoys), intents.GrammarName+"."+verifyRule)
	}
	if err != nil {
		return fmt.Errorf("listen: intents %s: %w", g.File(), err)
	}
	// (With one decoder, the baseline's, this switches it to the command
	// grammar and back.)
	if err := l.dec.SetSearch(searchVerify); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := l.spotter.SetSearch(searchWake); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	l.gram = g
	if !l.cfg.SkipVerify {
		// The command search is made only when it is needed.
		l.commandJSGF = commandJSGF(g, l.wake, garbage/tailShare)
		l.deletionJSGF = commandJSGF(g, l.wake, garbage)
	}
	return nil
}

// Reset drops any partial utterance and the audio history, as after
// mute/unmute: nothing from before is decoded or recorded.
func (l *Listener) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.resetLocked()
	}
}

func (l *Listener) resetLocked() {
	_ = l.dec.EndUtt()
	_ = l.spotter.EndUtt()
	_ = l.spotter.SetSearch(searchWake)
	l.vad.Reset()
	l.dec.ResetCMN()
	l.spotter.ResetCMN()
	l.hist.Reset()
	clear(l.lead)
	if l.stream != nil {
		l.stream.Reset() // what was said, as mel energies
	}
	l.recycle(l.rec)
	l.rec = nil
	l.st, l.silent, l.heard, l.recFrames, l.speechFrames, l.partial, l.spotFrames = idle, 0, false, 0, 0, "", 0
	l.onlyNet = false
}

// Close frees the decoder. It is idempotent.
func (l *Listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	l.recycle(l.rec)
	l.rec, l.spare = nil, nil
	l.hist.Reset()
	if l.stream != nil {
		l.stream.Reset()
	}
	clear(l.lead)
	return l.closeDecoders()
}

func (l *Listener) closeDecoders() error {
	if l.spotter != l.dec {
		l.spotter.Close()
	}
	return l.dec.Close()
}

func frames(d time.Duration) int {
	return int((d + audio.FrameDuration - 1) / audio.FrameDuration)
}
