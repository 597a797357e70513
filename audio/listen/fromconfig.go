package listen

import (
	"log/slog"

	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/wakenet"
	"github.com/earshot/earshot/device/config"
)

// ConfigFrom maps the daemon's configuration onto a listener's, in one
// place, so that `earshot eval` measures exactly the listener `earshot run`
// uses.
func ConfigFrom(cfg *config.Config, g *intents.Grammar, logger *slog.Logger) Config {
	return Config{
		WakePhrase:   cfg.Wake.Phrase,
		WakeSource:   cfg.Where("wake.phrase"),
		Sensitivity:  cfg.Wake.Sensitivity,
		Grammar:      g,
		Preroll:      cfg.Audio.Preroll,
		MaxUtterance: cfg.Speech.MaxUtterance,
		EndSilence:   cfg.Speech.EndSilence,
		Logger:       logger,
		// The classifier that ships knows one phrase; another goes
		// without (nil).
		WakeNet: wakenet.Builtin(cfg.Wake.Phrase),
	}
}
