package cli

import (
	"github.com/earshot/earshot/audio/embedding"
	"github.com/earshot/earshot/audio/wakeword"

	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/portaudio"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/device/config"
	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/device/daemon"
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
	if h := wakeword.Builtin("hey jarvis"); h != nil {
		fmt.Fprintf(env.Stdout, "wake    speech embedding (%s, pure Go) + head for %q: %s\n", embedding.EmbeddingFile, h.Phrase, h.Trained)
	}
	return nil
}

// checkConfig validates a config file as `earshot run` does (daemon.Check):
// the file, its intents, the words the device must recognise, the hub
// link's files, the audio input file and the control socket's path.
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
	checked, err := daemon.Check(cfg)
	if err != nil {
		return err
	}
	for _, w := range append(checked.Warnings, checked.HubWarnings...) {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	fmt.Fprintf(env.Stdout, "%s: ok (%d intents from %s, wake phrase %q heard by %s)\n",
		path, len(checked.Grammar.Intents()), cfg.Speech.Intents, cfg.Wake.Phrase, checked.WakeStage)
	size := checked.GrammarSize
	fmt.Fprintf(env.Stdout, "grammar: %d states, %d transitions, %d words (the command language as the decoder's minimal FSG)\n",
		size.States, size.Transitions, size.Words)
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
