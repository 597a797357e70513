package listen

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/earshot/earshot/audio/embedding"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/moonshine"
	"github.com/earshot/earshot/audio/wakeword"
	"github.com/earshot/earshot/device/config"
)

// OpinionLoad says when FromConfig loads the second opinion.
type OpinionLoad int

const (
	// OpinionFirst loads it before FromConfig returns, as `earshot
	// eval` must: every file is heard with it.
	OpinionFirst OpinionLoad = iota
	// OpinionInBackground checks that its files are there and loads it
	// in the background: Moonshine takes seconds to load, and the daemon
	// hears the wake phrase (the verifier alone deciding) from the
	// moment it starts. A load that fails is logged, and the listener
	// goes on without it.
	OpinionInBackground
)

// FromConfig maps the daemon's configuration onto a listener's, in one
// place, so that `earshot eval` measures exactly the listener `earshot
// run` uses. It loads the wake-word head and the speech embedding:
// wake.head if set, else the head that ships for the phrase, else the one
// `earshot wake-train` left in retention.dir; without any, the wake stage
// is keyword spotting (logged as a warning: it hears people less well).
func FromConfig(cfg *config.Config, g *intents.Grammar, logger *slog.Logger, load OpinionLoad) (Config, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lc := Config{
		WakePhrase:   cfg.Wake.Phrase,
		WakeSource:   cfg.Where("wake.phrase"),
		Sensitivity:  cfg.Wake.Sensitivity,
		Grammar:      g,
		Preroll:      cfg.Audio.Preroll,
		MaxUtterance: cfg.Speech.MaxUtterance,
		EndSilence:   cfg.Speech.EndSilence,
		CommandWait:  cfg.Speech.CommandWait,
		Logger:       logger,
	}
	m, head, err := loadWake(cfg)
	if err != nil {
		return lc, err
	}
	if head == nil {
		logger.Warn(noHead, "phrase", cfg.Wake.Phrase, "looked_in", cfg.Retention.TrainedHeadPath(cfg.Wake.Phrase))
	}
	lc.Embedding, lc.Head = m, head
	if !cfg.Wake.SecondOpinion {
		return lc, nil
	}
	if load == OpinionInBackground {
		if err := moonshine.Present(opinionDir(cfg)); err != nil {
			return lc, &keyError{"wake.second_opinion", err}
		}
		l := loadLate(func() (opinionReader, error) {
			o, err := loadOpinion(cfg)
			if err != nil {
				logger.Error("second opinion not loaded; the verifier alone decides", "err", err)
				return nil, err
			}
			logger.Info("second opinion loaded", "model", "Moonshine tiny")
			return moonshineOpinion{o.Phrase(cfg.Wake.Phrase), o}, nil
		})
		lc.Opinion, lc.Reader = l, l
		return lc, nil
	}
	o, err := loadOpinion(cfg)
	if o != nil {
		// The daemon keeps it for its life.
		lc.Opinion, lc.Reader = o.Phrase(cfg.Wake.Phrase), o
	}
	return lc, err
}

// moonshineOpinion is Moonshine as the second opinion on the phrase and
// the reader of commands.
type moonshineOpinion struct {
	*moonshine.Phrase
	m *moonshine.Model
}

func (o moonshineOpinion) Read(pcm []int16, g *intents.FSG, beam int, candidates func(string, [][]string) [][]string) (string, []float64, error) {
	return o.m.Read(pcm, g, beam, candidates)
}

// loadOpinion loads the second opinion wake.second_opinion asks for
// (nil when it is off): Moonshine, from wake.models/moonshine.
func loadOpinion(cfg *config.Config) (*moonshine.Model, error) {
	if !cfg.Wake.SecondOpinion {
		return nil, nil
	}
	m, err := moonshine.Load(opinionDir(cfg))
	if err != nil {
		return nil, &keyError{"wake.second_opinion", err}
	}
	return m, nil
}

// opinionDir is where wake.second_opinion's model is.
func opinionDir(cfg *config.Config) string {
	return filepath.Join(cfg.Wake.Models, "moonshine")
}

const noHead = "no wake-word head for the wake phrase: listening with keyword spotting, which hears people less well; train one with `earshot wake-train`"

// CheckWake loads what the wake stage needs, as FromConfig does with
// load, and says what it will be ("wake-word head …" or "keyword
// spotting"), with a warning when there is no head for the phrase. With
// OpinionInBackground the second opinion's files are looked for, not
// loaded: FromConfig loads it.
func CheckWake(cfg *config.Config, load OpinionLoad) (stage, warning string, err error) {
	_, head, err := loadWake(cfg)
	if err != nil {
		return "", "", err
	}
	second := ""
	switch {
	case !cfg.Wake.SecondOpinion:
	case load == OpinionInBackground:
		if err := moonshine.Present(opinionDir(cfg)); err != nil {
			return "", "", &keyError{"wake.second_opinion", err}
		}
		second = "; second opinion: Moonshine tiny"
	default:
		o, err := loadOpinion(cfg)
		if err != nil {
			return "", "", err
		}
		o.Close()
		second = "; second opinion: Moonshine tiny"
	}
	if head == nil {
		return "keyword spotting" + second, fmt.Sprintf("%s (looked in %s)", noHead, cfg.Retention.TrainedHeadPath(cfg.Wake.Phrase)), nil
	}
	return fmt.Sprintf("wake-word head, threshold %.2f (%s)%s", head.Threshold, head.Trained, second), "", nil
}

// loadWake finds the head and, if there is one, loads the speech
// embedding.
func loadWake(cfg *config.Config) (*embedding.Model, *wakeword.Head, error) {
	head, err := findHead(cfg)
	if err != nil || head == nil {
		return nil, nil, err
	}
	m, err := embedding.Load(cfg.Wake.Models)
	if err != nil {
		return nil, nil, &keyError{"wake.models", err}
	}
	return m, head, nil
}

// keyError names the config key an error is about, for check-config.
type keyError struct {
	Key string
	Err error
}

func (e *keyError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *keyError) Unwrap() error { return e.Err }

// ErrorKey returns the config key err is about ("wake.head",
// "wake.models"), or "".
func ErrorKey(err error) string {
	var k *keyError
	if errors.As(err, &k) {
		return k.Key
	}
	return ""
}

func findHead(cfg *config.Config) (*wakeword.Head, error) {
	phrase := cfg.Wake.Phrase
	var h *wakeword.Head
	var err error
	switch path := cfg.Wake.Head; {
	case strings.HasSuffix(path, ".onnx"):
		h, err = wakeword.ReadONNX(path, 0)
	case path != "":
		h, err = wakeword.ReadFile(path)
	default:
		if h = wakeword.Builtin(phrase); h != nil {
			return h, nil
		}
		h, err = wakeword.ReadFile(cfg.Retention.TrainedHeadPath(phrase))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, &keyError{"wake.head", err}
	}
	if !h.Knows(phrase) {
		return nil, &keyError{"wake.head", fmt.Errorf("%s was trained for %q, not the wake phrase %q", cfg.Wake.Head, h.Phrase, phrase)}
	}
	return h, nil
}
