// Package listen turns a stream of 20 ms frames into complete utterances:
// wake phrase, end of speech, and the command's intent and slots.
//
// Two stages decide that the device was spoken to. The wake stage (a head
// on the speech embedding, see audio/wakeword; PocketSphinx keyword
// spotting for a phrase no head knows) runs only around speech and finds
// candidates; the verifier, a PocketSphinx search of the intents grammar
// after the wake phrase competing with a phone loop, decodes each
// candidate and its command. A candidate the wake stage is sure of needs
// only a command; one it is not sure of needs the verifier to hear the
// phrase too. Utterance.Audio is handed over to the caller; the listener
// keeps no reference to it.
package listen

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/embedding"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/preroll"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/vad"
	"github.com/earshot/earshot/audio/wakeword"
)

// Recognizer is what the daemon and eval need from recognition: frames
// in, utterances out. Listener is the real one; tests of the daemon pass
// a fake.
type Recognizer interface {
	Feed(frame []int16) (Utterance, bool, error)
	Flush() (Utterance, bool, error)
	Reset()
	SetGrammar(g *intents.Grammar) error
	Recycle(pcm []int16)
	Close() error
}

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
	// CommandWait is how long the listener waits for the command to start
	// after a wake phrase said alone.
	CommandWait time.Duration
	ModelDir    string // PocketSphinx models; default sphinx.DefaultModelDir
	Logger      *slog.Logger

	// Embedding and Head make the wake stage: a head trained for
	// WakePhrase on the speech embedding. Without them the wake stage is
	// PocketSphinx keyword spotting, which is never sure.
	Embedding *embedding.Model
	Head      *wakeword.Head
	// Stage, when set, is the wake stage itself (tests give a scripted
	// one); Embedding and Head are then not used. The listener closes it.
	Stage WakeStage
	// Listening, when set, is called (from Feed) when the wake phrase came
	// alone and the listener waits for the command: the daemon plays an
	// earcon. It must not block.
	Listening func()

	// VAD tells speech from silence; nil uses audio/vad with its default
	// sensitivity.
	VAD SpeechDetector
	// Opinion, when set, has the last word on whether a candidate began
	// with the wake phrase (see secondOpinion). The listener does not
	// close it.
	Opinion Opinion
	// Reader, when set, weighs every command against the grammar (see
	// Listener.read). The listener does not close it.
	Reader Reader

	// SkipVerify accepts every hit of keyword spotting and decodes the
	// command alone: the plain-KWS baseline that eval reports next to the
	// pipeline.
	SkipVerify bool
	// Tuning: zero means DefaultTuning.
	Tuning *Tuning
}

// Opinion is a second opinion on a candidate: a recogniser of people's
// speech (audio/moonshine) scores how likely what was said begins with
// the wake phrase, as a mean log-probability per token.
type Opinion interface {
	Said(pcm []int16) (float64, error)
}

// Reader reads speech: a recogniser of people's speech
// (audio/moonshine) that knows no grammar of its own. Read returns its
// transcript of pcm in its own words and, for each sentence candidates
// proposes, the log-probability that it is what pcm says. candidates is
// given the transcript and the beam sentences of g the reader finds
// likeliest when held to g (none when g is nil).
type Reader interface {
	Read(pcm []int16, g *intents.FSG, beam int, candidates func(transcript string, held [][]string) [][]string) (string, []float64, error)
}

// SpeechDetector classifies frames as speech or silence.
type SpeechDetector interface {
	IsSpeech(frame []int16) bool
	Reset()
}

// revising is a SpeechDetector that can say, after a frame, that it
// raised its noise floor past what it had been calling speech (as
// vad.Detector does at the end of a floor digital silence set): that run
// of "speech" was the room, not talk (see Tuning.Span).
type revising interface{ Revised() bool }

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
	listening              // speech: the wake stage runs
	capturing              // a candidate: the verifier decodes, the command is recorded
	// talking is speech that has gone on for Tuning.Span without the wake
	// phrase: nothing runs until the next pause.
	talking
)

// Listener is the push-based recogniser. Feed, Flush and Reset are meant
// for the capture goroutine; SetGrammar and Close may come from others.
type Listener struct {
	mu     sync.Mutex
	log    *slog.Logger
	cfg    Config
	tune   Tuning
	wake   WakeStage
	dec    *sphinx.Decoder // the verifier
	vad    SpeechDetector
	phrase []string
	gram   *intents.Grammar
	// The grammars of the searches made when they are needed (see
	// lookWider and confirmDeletion), and the commands alone (read;
	// nil when nothing reads).
	command, deletion, commands *intents.FSG
	hist                        *preroll.Ring // pre-roll + wake phrase
	lead                        []int16
	closed                      bool

	st     state
	silent int // consecutive silent frames
	span   int // frames heard since the last pause of Tuning.Rearm
	// onsetAgo is how many frames ago the VAD heard this stretch of
	// speech begin (the current frame included).
	onsetAgo int
	// spoke holds the VAD's decisions for the latest frames the wake
	// stage heard (see remember).
	spoke []bool
	// In capturing: the candidate's score and whether the wake stage is
	// sure; frames since the hit, speech frames after it, and whether the
	// command has started.
	score                  float32
	sure                   bool
	recFrames, speechAfter int
	sinceHit               int // frames since the hit
	// commandAt is the frame after the hit where the command's speech
	// began (0 until heard); decodedAtHit the frames the verifier had
	// decoded at the hit; speechFrom the verifier's frame where the
	// speech the hit came in began (see leadFrom).
	commandAt, decodedAtHit, speechFrom int
	heard, alone                        bool
	guard                               int // frames the microphone is not listened to (EarconGuard)
	hitAt                               int // where in rec the hit came
	decodeFrom                          int // where in rec the verifier's utterance begins
	partial                             string
	rec                                 []int16 // recording in progress
	spare                               []int16 // a wiped recording buffer for the next one
	peak                                float64 // loudest frame power since the hit
	quiet                               int     // consecutive frames QuietDB below peak
	stats                               Stats
}

// New loads the decoders and checks that every word of the wake phrase and
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
	if cfg.CommandWait <= 0 {
		cfg.CommandWait = 5 * time.Second
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
	tune := DefaultTuning
	if cfg.Tuning != nil {
		tune = *cfg.Tuning
	}
	l := &Listener{
		log:    cfg.Logger.With("component", "listen"),
		cfg:    cfg,
		tune:   tune,
		phrase: strings.Fields(strings.ToLower(cfg.WakePhrase)),
		vad:    cfg.VAD,
		hist:   preroll.New(cfg.Preroll + tune.WakeSpan + tune.Lead),
	}
	if l.vad == nil {
		l.vad = vad.New(vad.Config{})
	}
	words, err := l.lookup(cfg.Grammar)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Stage != nil:
		l.wake = cfg.Stage
	case cfg.Head != nil && !cfg.SkipVerify:
		if !cfg.Head.Knows(cfg.WakePhrase) {
			return nil, fmt.Errorf("listen: the wake-word head knows %q, not the wake phrase %q", cfg.Head.Phrase, cfg.WakePhrase)
		}
		if cfg.Embedding == nil {
			return nil, errors.New("listen: a wake-word head without the speech embedding")
		}
		stage := tune
		if cfg.Opinion != nil {
			stage.CandidateShift = tune.OpinionCandidateShift
		}
		l.wake = newHeadStage(wakeword.NewDetector(cfg.Embedding, cfg.Head), cfg.Sensitivity, stage)
	default:
		if l.wake, err = newSpotterStage(cfg.ModelDir, l.phrase, words, cfg.Sensitivity, cfg.SkipVerify); err != nil {
			return nil, err
		}
	}
	for w, p := range garbageWords() {
		words[w] = p
	}
	if l.dec, err = sphinx.New(sphinx.Config{ModelDir: cfg.ModelDir, Words: words, Extra: []string{"-maxhmmpf", verifyMaxHMMs}}); err != nil {
		l.wake.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	if err := l.setGrammar(cfg.Grammar); err != nil {
		l.closeDecoders()
		return nil, err
	}
	return l, nil
}

// verifyMaxHMMs caps the HMMs the verifier's search keeps a frame
// (PocketSphinx's -maxhmmpf, default 30000): the phone loop's thousands in
// ordinary speech, for less CPU and memory at the same results. The word
// beam is PocketSphinx's own (-wbeam 7e-29): a narrower one (1e-25) pruned
// near misses for the keyword spotter of old, and pruned people's command
// words, which the phone loop explains better than a synthetic voice's.
const verifyMaxHMMs = "1500"

// lookup returns the pronunciations of the wake phrase and grammar words,
// or an error naming every word the dictionary lacks.
func (l *Listener) lookup(g *intents.Grammar) (sphinx.Dictionary, error) {
	words := append(g.Words(), l.phrase...)
	path := sphinx.DictionaryPath(l.cfg.ModelDir)
	dict, missing, err := sphinx.LookupWords(path, words)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if len(missing) > 0 {
		var where []string
		for _, w := range missing {
			if slices.Contains(l.phrase, w) {
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
		l.resetLocked()
	}
	if err := l.dec.AddWords(words); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return l.setGrammar(g)
}

func (l *Listener) setGrammar(g *intents.Grammar) error {
	garbage := garbageWeight(l.cfg.Sensitivity)
	var verify, command, deletion, commands *intents.FSG
	var err error
	// Read again only where the verifier judged the command.
	if l.cfg.Reader != nil && !l.cfg.SkipVerify {
		if commands, err = g.CommandFSG(); err != nil {
			return fmt.Errorf("listen: intents %s: %w", g.File(), err)
		}
	}
	if l.cfg.SkipVerify {
		verify, err = g.CommandFSG()
	} else {
		verify, err = verifyFSG(g, l.phrase, garbage)
		if err == nil {
			command, err = commandFSG(g, l.phrase, garbage, garbage/l.tune.TailShare)
		}
		if err == nil {
			deletion, err = commandFSG(g, l.phrase, garbage, garbage)
		}
	}
	if err != nil {
		return fmt.Errorf("listen: intents %s: %w", g.File(), err)
	}
	if err := l.dec.SetFSG(searchVerify, verify); err != nil {
		return fmt.Errorf("listen: intents %s: %w", g.File(), err)
	}
	if command != nil {
		if err := l.dec.SetFSG(searchCommand, command); err != nil {
			return fmt.Errorf("listen: intents %s: %w", g.File(), err)
		}
	}
	if err := l.dec.SetSearch(searchVerify); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	l.gram, l.command, l.deletion, l.commands = g, command, deletion, commands
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
	l.wake.Reset()
	l.vad.Reset()
	l.dec.ResetCMN()
	l.hist.Reset()
	clear(l.lead)
	l.recycle(l.rec)
	l.rec = nil
	l.st, l.silent, l.heard, l.alone, l.recFrames, l.speechAfter, l.partial, l.guard = idle, 0, false, false, 0, 0, "", 0
}

// Close frees the decoders. It is idempotent.
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
	clear(l.lead)
	return l.closeDecoders()
}

func (l *Listener) closeDecoders() error {
	l.wake.Close()
	return l.dec.Close()
}

func frames(d time.Duration) int {
	return int((d + audio.FrameDuration - 1) / audio.FrameDuration)
}
