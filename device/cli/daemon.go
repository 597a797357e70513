package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/earshot/earshot/audio/eval"
	"github.com/earshot/earshot/audio/listen"
	"github.com/earshot/earshot/device/daemon"
	"github.com/earshot/earshot/device/hub"
	"github.com/earshot/earshot/retention"
)

func runDaemon(ctx context.Context, env *Env, args []string) error {
	f := newFlags("run", env)
	level := f.String("log-level", "info", "debug, info, warn or error (debug is the only level that may show transcripts)")
	realtime := f.Bool("realtime", true, "pace file: inputs in real time (false: as fast as possible)")
	group := f.String("socket-group", "", "group allowed on the control socket (systemd unit: earshot)")
	if err := noArgs(f, args); err != nil {
		return err
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usagef("--log-level: %v", err)
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	log := newLogger(env, lv).With("device", cfg.DeviceID)
	// paho's loggers are package globals: set once per process, here.
	hub.RouteLogs(log)
	d, err := daemon.New(cfg, daemon.Options{Logger: log, Reload: env.Reload, SocketGroup: *group, Realtime: *realtime, Version: env.Version})
	if err != nil {
		return err
	}
	log.Info("earshot running", "version", env.Version, "input", cfg.Audio.Input, "window", cfg.Retention.Window)
	err = d.Run(ctx)
	log.Info("earshot stopped")
	return err
}

// purge enforces the window on a stopped daemon's store. With the daemon
// running it is the daemon's job, and the store's lock says so.
func purge(_ context.Context, env *Env, args []string) error {
	f := newFlags("purge", env)
	asJSON := f.Bool("json", false, "print the receipts as JSON, with the ids of the records destroyed")
	if err := noArgs(f, args); err != nil {
		return err
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	dir := cfg.Retention.StoreDir()
	// nothing says why nothing was purged; with --json on stderr, and an
	// empty list of receipts on stdout.
	nothing := func(why string) error {
		if *asJSON {
			fmt.Fprintf(env.Stderr, "%s: %s\n", dir, why)
			return printJSON(env.Stdout, []retention.Receipt{})
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", dir, why)
		return nil
	}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nothing("no store yet, nothing to purge")
	}
	rs, err := retention.Purge(dir, retention.Options{
		Window:   cfg.Retention.Window,
		MaxBytes: cfg.Retention.MaxBytes,
		Keys:     retention.KeyMode(cfg.Retention.Keys),
		Logger:   newLogger(env, slog.LevelInfo),
	})
	if errors.Is(err, retention.ErrLocked) {
		// The running daemon holds the store and enforces the window itself.
		return nothing("in use by the running daemon, which enforces the window itself")
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, append([]retention.Receipt{}, rs...))
	}
	n := 0
	for _, r := range rs {
		n += r.Records
		if r.Records > 0 {
			printReceipt(env.Stdout, r)
		}
	}
	if n == 0 {
		fmt.Fprintf(env.Stdout, "%s: nothing has expired\n", dir)
	}
	if n > 0 && cfg.MQTT.Broker != "" {
		fmt.Fprintln(env.Stdout, "the daemon publishes the receipts to the hub when it starts")
	}
	return nil
}

func evalCmd(ctx context.Context, env *Env, args []string) error {
	f := newFlags("eval", env)
	corpus := f.String("corpus", "", "corpus directory with labels.tsv")
	asJSON := f.Bool("json", false, "print JSON")
	perFile := f.Bool("per-file", false, "list every file, not only the mistakes")
	baseline := f.Bool("baseline-kws", false, "measure plain keyword spotting without verification, for comparison")
	noHead := f.Bool("no-head", false, "measure the pipeline with keyword spotting instead of the wake-word head, for comparison")
	tune := f.String("tune", "", "override the listener's tuning, e.g. Alone=300ms,SureShift=1 (see listen.Tuning)")
	level := f.String("log-level", "warn", "debug shows, on stderr, what was heard in each file")
	by := f.String("by", "", "break the figures down by these labels.tsv columns, comma-separated (the generated corpus has set, voice, noise, snr)")
	if err := noArgs(f, args); err != nil {
		return err
	}
	if *corpus == "" {
		return usagef("--corpus DIR is required")
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usagef("--log-level: %v", err)
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	tuning := listen.DefaultTuning
	if err := tuning.Set(*tune); err != nil {
		return usagef("--tune: %v", err)
	}
	_, err = eval.Run(ctx, cfg, *corpus, eval.Options{
		JSON: *asJSON, PerFile: *perFile, BaselineKWS: *baseline, NoHead: *noHead, By: eval.Columns(*by), Tuning: &tuning,
		Logger: newLogger(env, lv),
	}, env.Stdout)
	return err
}
