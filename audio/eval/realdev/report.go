package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/earshot/earshot/audio/eval"
)

// reportOptions say what report measures, and with what.
type reportOptions struct {
	earshot, out, heads, models, intents, coffee string
	// only lists the phrases to measure, comma-separated (all: "").
	only         string
	withCommands bool
	// secondOpinion asks Moonshine too (wake.second_opinion).
	secondOpinion bool
}

// wakeConfig is the wake section's last line of the configs report
// writes.
func (o reportOptions) wakeConfig() string {
	if o.secondOpinion {
		return "  second_opinion: true\n"
	}
	return ""
}

// report evaluates each phrase's corpus in o.out (or those of o.only) with
// the phrase's head and prints the figures, the totals last.
func report(ctx context.Context, o reportOptions, w io.Writer) error {
	entries, err := os.ReadDir(o.out)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, p := range strings.Split(o.only, ",") {
		if p = strings.TrimSpace(p); p != "" {
			want[strings.ReplaceAll(p, " ", "-")] = true
		}
	}
	var phrases []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(o.out, e.Name(), "labels.tsv")); err == nil && e.IsDir() && !strings.HasPrefix(e.Name(), "commands-") &&
			(len(want) == 0 || want[e.Name()]) {
			phrases = append(phrases, e.Name())
		}
	}
	sort.Strings(phrases)
	for p := range want {
		if !slices.Contains(phrases, p) {
			return fmt.Errorf("%s: no corpus for the phrase %q", o.out, p)
		}
	}
	if len(phrases) == 0 {
		return fmt.Errorf("%s: no corpora; build them first (without -report)", o.out)
	}
	absIntents, err := filepath.Abs(o.intents)
	if err != nil {
		return err
	}
	absModels, err := filepath.Abs(o.models)
	if err != nil {
		return err
	}
	var lines []string
	// The coffee orders: the shipped hey jarvis head, the coffee grammar.
	absCoffee, err := filepath.Abs(o.coffee)
	if err != nil {
		return err
	}
	for _, snr := range snrs {
		if !o.withCommands {
			break
		}
		dir := filepath.Join(o.out, "commands-"+snr)
		cfg := filepath.Join(dir, "earshot.yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("device_id: eval-real\nwake:\n  models: %s\n%sspeech:\n  intents: %s\nretention:\n  dir: %s\n",
			absModels, o.wakeConfig(), absCoffee, filepath.Join(os.TempDir(), "earshot-eval-real"))), 0o644); err != nil {
			return err
		}
		r, err := evalCorpus(ctx, o.earshot, cfg, dir)
		if err != nil {
			return fmt.Errorf("commands %s: %w", snr, err)
		}
		lines = append(lines, fmt.Sprintf("set=commands snr=%s intent_acc=%.3f rtf=%.3f rss_mb=%.1f", snr, r.IntentAcc, r.RTF, r.RSSMB))
	}
	var all eval.Result
	for _, dir := range phrases {
		phrase := strings.ReplaceAll(dir, "-", " ")
		head := filepath.Join(o.heads, dir+".head")
		absHead, err := filepath.Abs(head)
		if err != nil {
			return err
		}
		cfg := filepath.Join(o.out, dir, "earshot.yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("device_id: eval-real\nwake:\n  phrase: %s\n  head: %s\n  models: %s\n%sspeech:\n  intents: %s\nretention:\n  dir: %s\n",
			phrase, absHead, absModels, o.wakeConfig(), absIntents, filepath.Join(os.TempDir(), "earshot-eval-real"))), 0o644); err != nil {
			return err
		}
		if _, err := os.Stat(head); err != nil {
			fmt.Fprintf(os.Stderr, "==> training a head for %q (generated speech only)\n", phrase)
			cmd := exec.CommandContext(ctx, o.earshot, "wake-train", "--config", cfg, "-o", head)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("wake-train %q: %w", phrase, err)
			}
		}
		r, err := evalCorpus(ctx, o.earshot, cfg, filepath.Join(o.out, dir), "--by", "shape")
		if err != nil {
			return fmt.Errorf("eval %q: %w", phrase, err)
		}
		fmt.Fprintf(os.Stderr, "    %s; wake phrase alone: %d files, %d acted on\n", r.Line(), r.BareFiles, r.BareActions)
		lines = append(lines, "phrase="+dir+" "+r.Line())
		all.Add(r)
	}
	all.Finish()
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "phrase=all "+all.Line())
	return nil
}

// evalCorpus runs `earshot eval` on dir with cfg and args, keeps its JSON result
// beside the labels, and returns it.
func evalCorpus(ctx context.Context, earshot, cfg, dir string, args ...string) (eval.Result, error) {
	fmt.Fprintf(os.Stderr, "==> eval %s\n", dir)
	cmd := exec.CommandContext(ctx, earshot, append([]string{"eval", "--config", cfg, "--corpus", dir, "--json"}, args...)...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return eval.Result{}, err
	}
	var r eval.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return eval.Result{}, err
	}
	return r, os.WriteFile(filepath.Join(dir, "result.json"), b, 0o644)
}
