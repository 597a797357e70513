package cli

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"

	"github.com/earshot/earshot/audio/embedding"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/wakeword"
	"github.com/earshot/earshot/audio/wakeword/train"
)

// wakeTrain trains a wake-word head for a phrase from generated speech,
// on the device or at install, and writes it where the daemon looks for
// it (or to -o).
func wakeTrain(ctx context.Context, env *Env, args []string) error {
	f := newFlags("wake-train", env)
	phrase := f.String("phrase", "", "the wake phrase (default: the config's wake.phrase)")
	out := f.String("o", "", "the head file to write (default: where the daemon looks, in retention.dir)")
	positives := f.Int("positives", 0, "clips of the wake phrase to render (default 1500)")
	negatives := f.Int("negatives", 0, "clips of other speech to render (default 4500)")
	epochs := f.Int("epochs", 0, "passes over the training windows (default 6)")
	seed := f.Uint64("seed", 1, "seed of the generator and the fitting")
	voices := f.String("voices", "", "comma-separated ENGINE:VOICE list (default: all of flite, festival and espeak-ng's but festival:kal_diphone, held out)")
	workers := f.Int("j", runtime.NumCPU(), "parallel workers")
	cache := f.String("cache", "", "keep the rendered samples' embeddings in this file, to fit again without rendering")
	noise := f.Float64("input-noise", 0, "fitting: input noise, in units of the embeddings' spread (default 0.6)")
	drop := f.Float64("dropout", 0, "fitting: input dropout (default 0.4)")
	hidden := f.Int("hidden", 0, "fitting: units per hidden layer (default 64)")
	if err := noArgs(f, args); err != nil {
		return err
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	p := *phrase
	if p == "" {
		p = cfg.Wake.Phrase
	}
	g, err := intents.Load(cfg.Speech.Intents)
	if err != nil {
		return fmt.Errorf("speech.intents: %w", err)
	}
	m, err := embedding.Load(cfg.Wake.Models)
	if err != nil {
		return fmt.Errorf("wake.models: %w", err)
	}
	var vs []train.Voice
	for _, s := range strings.Split(*voices, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		v, err := train.ParseVoice(s)
		if err != nil {
			return usagef("--voices: %v", err)
		}
		vs = append(vs, v)
	}
	path := *out
	if path == "" {
		path = cfg.Retention.TrainedHeadPath(wakeword.Normalise(p))
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, rep, err := train.Run(ctx, m, train.Options{
		Phrase: p, Grammar: g, Voices: vs, Positives: *positives, Negatives: *negatives,
		Epochs: *epochs, Seed: *seed, Workers: *workers, Logger: log, Cache: *cache,
		InputNoise: *noise, InputDrop: *drop, Hidden: *hidden,
	})
	if err != nil {
		return err
	}
	if err := h.WriteFile(path); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s: head for %q, threshold %.3f, sure %.3f\n", path, h.Phrase, h.Threshold, h.Sure)
	fmt.Fprintf(env.Stdout, "held back %d of %d clips: wake recall %.3f at the threshold; other clips over it %d, over sure %d\n",
		rep.HeldBack, rep.Samples, rep.PositiveRecall, rep.NegativeFalse, rep.SureFalse)
	fmt.Fprintf(env.Stdout, "took %s; near misses trained against: %d (e.g. %s)\n", rep.Took.Round(1e9), len(rep.NearMisses), strings.Join(rep.NearMisses[:min(5, len(rep.NearMisses))], ", "))
	if cfg.Wake.Head != "" && cfg.Wake.Head != path {
		fmt.Fprintf(env.Stderr, "note: wake.head is set to %s; point it at %s to use this head\n", cfg.Wake.Head, path)
	}
	return nil
}
