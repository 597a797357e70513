package daemon

import (
	"errors"
	"fmt"
	"strings"

	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/listen"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/device/config"
	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/device/hub"
)

// Checked is what Check found: the intents grammar it loaded, and what is
// worth a warning but no refusal.
type Checked struct {
	Grammar *intents.Grammar
	// WakeStage says what will hear the wake phrase.
	WakeStage string
	// GrammarSize is the command language's size as the decoder's minimal
	// FSG (Grammar.CommandFSG, which the grammar keeps once compiled).
	GrammarSize intents.FSGSize
	Warnings    []string
	// HubWarnings are the hub link's (world-readable secrets, plaintext
	// broker), which hub.New logs itself.
	HubWarnings []string
}

// Check validates what `earshot run` needs beyond the config file's own
// syntax and ranges, by the same code run uses, so that `earshot
// check-config` refuses exactly what run would: the intents file, every
// word the recogniser must know, the hub link (broker, password and TLS
// files), a file: audio input, the wake-word head and speech embedding,
// and the control socket's path. It reports
// every problem in one *config.Error, as FILE:LINE: key: reason. It also
// loads the second opinion's model, if asked for, which run loads in the
// background once it is READY (a model there that does not load is
// logged, and run goes on without it).
func Check(cfg *config.Config) (*Checked, error) {
	return check(cfg, listen.OpinionFirst)
}

// check is Check; with listen.OpinionInBackground, as New runs it, only
// the second opinion's files are looked for: New loads it once, after.
func check(cfg *config.Config, opinion listen.OpinionLoad) (*Checked, error) {
	c := &Checked{}
	var problems []string
	g, err := intents.Load(cfg.Speech.Intents)
	if err != nil {
		problems = append(problems, intentsProblem(cfg, err)...)
	} else {
		c.Grammar = g
		problems = append(problems, checkWords(cfg, g)...)
		for _, w := range g.Unreachable() {
			c.Warnings = append(c.Warnings, w.Error())
		}
		if fsg, err := g.CommandFSG(); err != nil {
			problems = append(problems, err.Error())
		} else if c.GrammarSize = fsg.Size(); c.GrammarSize.Large() {
			c.Warnings = append(c.Warnings, largeGrammar(g.File(), c.GrammarSize))
		}
	}
	if stage, warning, err := listen.CheckWake(cfg, opinion); err != nil {
		key := listen.ErrorKey(err)
		if key == "" {
			key = "wake"
		}
		problems = append(problems, cfg.Problem(key, strings.TrimPrefix(err.Error(), key+": ")))
	} else {
		c.WakeStage = stage
		if warning != "" {
			c.Warnings = append(c.Warnings, cfg.Path+": "+warning)
		}
	}
	if cfg.MQTT.Broker != "" {
		warnings, err := hub.Check(hubConfig(cfg, Options{}))
		var herr *hub.ConfigError
		switch {
		case errors.As(err, &herr):
			for _, p := range herr.Problems {
				problems = append(problems, cfg.Problem(p.Key, p.Reason))
			}
		case err != nil:
			problems = append(problems, cfg.Problem("mqtt", err.Error()))
		}
		for _, w := range warnings {
			c.HubWarnings = append(c.HubWarnings, cfg.Path+": "+w)
		}
	}
	if path, ok := strings.CutPrefix(cfg.Audio.Input, capture.FilePrefix); ok {
		if src, err := capture.OpenFile(path, capture.FileOptions{}); err != nil {
			problems = append(problems, cfg.Problem("audio.input", err.Error()))
		} else {
			src.Close()
		}
	}
	if err := control.CheckSocketPath(cfg.Control.Socket); err != nil {
		problems = append(problems, cfg.Problem("control.socket", err.Error()))
	}
	if len(problems) > 0 {
		return nil, &config.Error{Problems: problems}
	}
	return c, nil
}

// largeGrammar warns of a command language past the sizes that decode
// cheaply (intents.LargeStates, LargeTransitions): valid, but costly.
func largeGrammar(file string, size intents.FSGSize) string {
	return fmt.Sprintf("%s: the command grammar is large (%d states, %d transitions; more than %d states or %d transitions): "+
		"decoding it will cost much more CPU and memory than usual; the size is the language's own, however the templates spell it, so say fewer things or shorter ones",
		file, size.States, size.Transitions, intents.LargeStates, intents.LargeTransitions)
}

// intentsProblem reports an intents file that does not load: its own
// errors name the intents file and line; one that cannot be read at all is
// named by the config key that points at it.
func intentsProblem(cfg *config.Config, err error) []string {
	var ierr *intents.Error
	if errors.As(err, &ierr) {
		return strings.Split(err.Error(), "\n")
	}
	return []string{cfg.Problem("speech.intents", err.Error())}
}

// checkWords reports words the recogniser could never hear: the wake
// phrase's at its line in the config, the grammar's in the intents file.
func checkWords(cfg *config.Config, g *intents.Grammar) []string {
	dictPath := sphinx.DictionaryPath(sphinx.DefaultModelDir)
	wake := strings.Fields(cfg.Wake.Phrase)
	_, missing, err := sphinx.LookupWords(dictPath, append(wake, g.Words()...))
	if err != nil {
		return []string{cfg.Problem("wake.phrase", fmt.Sprintf("cannot check words against the speech dictionary: %v", err))}
	}
	var inWake, inGrammar []string
	for _, w := range missing {
		if contains(wake, w) {
			inWake = append(inWake, w)
		} else {
			inGrammar = append(inGrammar, w)
		}
	}
	var out []string
	if len(inWake) > 0 {
		out = append(out, cfg.Problem("wake.phrase", fmt.Sprintf("words not in the speech dictionary %s: %s (use other words or add pronunciations)",
			dictPath, strings.Join(inWake, ", "))))
	}
	if len(inGrammar) > 0 {
		out = append(out, fmt.Sprintf("%s: words not in the speech dictionary %s: %s (use other words or add pronunciations)",
			g.File(), dictPath, strings.Join(inGrammar, ", ")))
	}
	return out
}

func contains(s []string, w string) bool {
	for _, x := range s {
		if x == w {
			return true
		}
	}
	return false
}

// hubConfig is the config's mqtt section as the hub link takes it.
func hubConfig(cfg *config.Config, opts Options) hub.Config {
	return hub.Config{
		Broker:        cfg.MQTT.Broker,
		Username:      cfg.MQTT.Username,
		PasswordFile:  cfg.MQTT.PasswordFile,
		CAFile:        cfg.MQTT.CAFile,
		CertFile:      cfg.MQTT.CertFile,
		KeyFile:       cfg.MQTT.KeyFile,
		AllowInsecure: cfg.MQTT.AllowInsecure,
		TopicPrefix:   cfg.MQTT.TopicPrefix,
		DeviceID:      cfg.DeviceID,
		ActionTTL:     cfg.MQTT.ActionTTL,
		Discovery:     cfg.MQTT.Discovery,
		Hermes:        cfg.MQTT.Hermes,
		Window:        cfg.Retention.Window,
		Version:       opts.Version,
		Logger:        opts.Logger,
	}
}
