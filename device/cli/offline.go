package cli

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/portaudio"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/device/config"
	"github.com/earshot/earshot/device/control"
)

func version(_ context.Context, env *Env, args []string) error {
	f := newFlags("version", env)
	if err := noArgs(f, args); err != nil {
		return err
	}
	engine := "pocketsphinx (cgo, model " + sphinx.DefaultModelDir + ")"
	if !sphinx.Available {
		engine = "none: built without cgo/pocketsphinx, recognition unavailable"
	}
	tags := "-"
	if bi, ok := debug.ReadBuildInfo(); ok {
		var parts []string
		for _, s := range bi.Settings {
			switch s.Key {
			case "-tags", "CGO_ENABLED", "GOARCH", "GOOS":
				parts = append(parts, s.Key+"="+s.Value)
			}
		}
		tags = strings.Join(parts, " ")
	}
	fmt.Fprintf(env.Stdout, "earshot %s\nengine  %s\nbuild   %s\n", env.Version, engine, tags)
	return nil
}

// checkConfig validates a config file, its intents file, and that every
// word the device must recognise is in the speech engine's dictionary.
func checkConfig(_ context.Context, env *Env, args []string) error {
	f := newFlags("check-config", env)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	path := *f.config
	if len(pos) == 1 {
		path = pos[0]
	} else if len(pos) > 1 {
		return usagef("want one config file")
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	g, err := intents.Load(cfg.Speech.Intents)
	if err != nil {
		return err
	}
	if err := checkWords(cfg, g); err != nil {
		return err
	}
	fsg, err := g.CommandFSG()
	if err != nil {
		return err
	}
	for _, w := range g.Unreachable() {
		fmt.Fprintf(env.Stderr, "warning: %v\n", w)
	}
	size := fsg.Size()
	if size.Large() {
		fmt.Fprintf(env.Stderr, "warning: %s: the command grammar is large (%d states, %d transitions; more than %d states or %d transitions): "+
			"decoding it will cost much more CPU and memory than usual; the size is the language's own, however the templates spell it, so say fewer things or shorter ones\n",
			cfg.Speech.Intents, size.States, size.Transitions, intents.LargeStates, intents.LargeTransitions)
	}
	fmt.Fprintf(env.Stdout, "%s: ok (%d intents from %s, wake phrase %q)\n",
		path, len(g.Intents()), cfg.Speech.Intents, cfg.Wake.Phrase)
	fmt.Fprintf(env.Stdout, "grammar: %d states, %d transitions, %d words (the command language as the decoder's minimal FSG)\n",
		size.States, size.Transitions, size.Words)
	return nil
}

// checkWords reports words the recogniser could never hear. Without a
// dictionary (no speech engine installed) it says so rather than guess.
func checkWords(cfg *config.Config, g *intents.Grammar) error {
	dictPath := sphinx.DictionaryPath(sphinx.DefaultModelDir)
	dict, err := sphinx.LoadDictionary(dictPath)
	if err != nil {
		return fmt.Errorf("cannot check words against the speech dictionary: %w", err)
	}
	words := append(strings.Fields(cfg.Wake.Phrase), g.Words()...)
	if _, missing := dict.Subset(words); len(missing) > 0 {
		return fmt.Errorf("%s: words not in the speech dictionary %s: %s (use other words or add pronunciations)",
			cfg.Speech.Intents, dictPath, strings.Join(missing, ", "))
	}
	return nil
}

func play(ctx context.Context, env *Env, args []string) error {
	f := newFlags("play", env)
	device := f.String("device", "default", "PortAudio output device")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one record id (see `earshot history`)")
	}
	a, err := fetchAudio(ctx, f, pos[0])
	if err != nil {
		return err
	}
	return portaudio.Play(ctx, *device, control.DecodePCM(a.PCM), a.SampleRate)
}

func export(ctx context.Context, env *Env, args []string) error {
	f := newFlags("export", env)
	out := f.String("o", "", "output WAV file")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usagef("want one record id and -o FILE.wav")
	}
	a, err := fetchAudio(ctx, f, pos[0])
	if err != nil {
		return err
	}
	// The user asked for a plaintext copy; make it private to them and
	// never overwrite an existing file.
	file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := capture.WriteWAV(file, control.DecodePCM(a.PCM), a.SampleRate); err != nil {
		file.Close()
		os.Remove(*out)
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := file.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%.1fs); it is a plaintext copy outside the retention window: delete it when done\n",
		*out, float64(len(a.PCM)/2)/float64(a.SampleRate))
	return nil
}
