// Package eval measures the listening pipeline on a labelled corpus: wake
// recall, false wakes per hour, intent accuracy, real-time factor and peak
// memory. Every file goes through the same listen.Listener the daemon
// uses, 320-sample frames fed as fast as the decoder takes them, and the
// report always ends with one summary line in a fixed, scriptable format.
package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/listen"
	"github.com/earshot/earshot/device/config"
)

// Options tunes a run.
type Options struct {
	JSON bool // write one JSON document instead of the text report
	// PerFile lists every file in the text report, not only mistakes.
	PerFile bool
	// BaselineKWS measures plain keyword spotting without verification,
	// the figure the pipeline is compared with.
	BaselineKWS bool
	// By names columns of labels.tsv's header after the first four (the
	// generated corpus has set, voice, noise and snr): the report breaks
	// the figures down by each one's values.
	By []string
	// NoHead leaves out the wake-word head: the wake stage is keyword
	// spotting, as for a phrase no head knows.
	NoHead bool
	// Tuning replaces the listener's (listen.DefaultTuning).
	Tuning   *listen.Tuning
	ModelDir string // default: the listener's
	Logger   *slog.Logger
}

// FileResult is what happened to one corpus file.
type FileResult struct {
	File      string            `json:"file"`
	Kind      string            `json:"kind"`
	Want      string            `json:"want_intent"`
	WantSlots map[string]string `json:"want_slots"`
	Woke      int               `json:"wakes"`
	Intent    string            `json:"intent"`
	Slots     map[string]string `json:"slots"`
	Correct   bool              `json:"correct"`
	Seconds   float64           `json:"seconds"`
	Tags      map[string]string `json:"tags,omitempty"`
}

// Counts are the accuracy figures of a set of files: of the whole corpus
// in a Result, of the files with one label value in a Group.
type Counts struct {
	WakeFiles     int     `json:"wake_files"`
	Detected      int     `json:"detected"`
	IntentCorrect int     `json:"intent_correct"`
	OtherFiles    int     `json:"other_files"`
	OtherSeconds  float64 `json:"other_seconds"`
	FalseWakes    int     `json:"false_wakes"`
	// BareFiles hold the wake phrase alone; BareActions counts those that
	// got an intent (they must not).
	BareFiles   int `json:"bare_files"`
	BareActions int `json:"bare_actions"`
	// Recall and IntentAcc are over the wake files, FAPerHour over the
	// other audio.
	Recall    float64 `json:"recall"`
	FAPerHour float64 `json:"fa_per_hour"`
	IntentAcc float64 `json:"intent_acc"`
}

// Result holds the corpus figures.
type Result struct {
	Counts
	AudioSeconds float64 `json:"audio_seconds"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	// HeardSeconds and VerifiedSeconds are the audio given to the wake
	// stage and to the verifier; the rest is what the listener did with
	// its candidates (see listen.Stats).
	HeardSeconds    float64 `json:"heard_seconds"`
	VerifiedSeconds float64 `json:"verified_seconds"`
	Hits            int     `json:"hits"`
	Sure            int     `json:"sure"`
	Rejected        int     `json:"rejected"`
	Alone           int     `json:"alone"`
	Moved           int     `json:"moved"`
	// Overruled counts the verdicts the second opinion changed.
	Overruled int `json:"overruled"`
	// ReadAgain counts the commands the decoder did not understand and
	// the second opinion's reading did; Corrected, those whose intent or
	// slots the reading changed.
	ReadAgain int `json:"read_again"`
	Corrected int `json:"corrected"`
	// WakeStage says what found the candidates.
	WakeStage string `json:"wake_stage"`

	RTF   float64 `json:"rtf"`
	RSSMB float64 `json:"rss_mb"`

	Baseline bool         `json:"baseline_kws"`
	Files    []FileResult `json:"files"`
	// Groups break the figures down by the values of Options.By's
	// columns, in the order given and then by value.
	Groups  []Group `json:"groups,omitempty"`
	Summary string  `json:"summary"`
}

// Group holds the figures of the files whose column Column says Value
// ("-" when a row leaves it out); CPU and memory are not split.
type Group struct {
	Column string `json:"column"`
	Value  string `json:"value"`
	Counts
}

// Line is the one-line summary, e.g.
// "recall=0.960 fa_per_hour=0.00 intent_acc=0.950 rtf=0.012 rss_mb=38.1".
func (r Result) Line() string {
	return fmt.Sprintf("recall=%.3f fa_per_hour=%.2f intent_acc=%.3f rtf=%.3f rss_mb=%.1f",
		r.Recall, r.FAPerHour, r.IntentAcc, r.RTF, r.RSSMB)
}

// Run evaluates corpusDir (labels.tsv plus WAV files) with the wake and
// speech settings of cfg and writes the report to w.
func Run(ctx context.Context, cfg *config.Config, corpusDir string, opts Options, w io.Writer) (Result, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	labelsPath := filepath.Join(corpusDir, "labels.tsv")
	f, err := os.Open(labelsPath)
	if err != nil {
		return Result{}, fmt.Errorf("eval: corpus %s: %w", corpusDir, err)
	}
	labels, err := ParseLabels(f, labelsPath)
	f.Close()
	if err != nil {
		return Result{}, fmt.Errorf("eval: %w", err)
	}
	if err := checkColumns(labels, opts.By, labelsPath); err != nil {
		return Result{}, err
	}
	g, err := intents.Load(cfg.Speech.Intents)
	if err != nil {
		return Result{}, fmt.Errorf("eval: %w", err)
	}
	lc, err := listen.FromConfig(cfg, g, logger, listen.OpinionFirst)
	if err != nil {
		return Result{}, fmt.Errorf("eval: %w", err)
	}
	lc.ModelDir, lc.SkipVerify, lc.Tuning = opts.ModelDir, opts.BaselineKWS, opts.Tuning
	if opts.NoHead || opts.BaselineKWS {
		lc.Head, lc.Embedding = nil, nil
	}
	l, err := listen.New(lc)
	if err != nil {
		return Result{}, fmt.Errorf("eval: %w", err)
	}
	defer l.Close()

	res := Result{Baseline: opts.BaselineKWS, WakeStage: "keyword spotting"}
	if lc.Head != nil {
		res.WakeStage = "wake-word head (" + lc.Head.Trained + ")"
	}
	// Model loading is a one-off start-up cost: the real-time factor is
	// measured over decoding only.
	cpu0, _ := usage()
	frame := make([]int16, audio.FrameSamples)
	for _, lb := range labels {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		logger.Debug("file", "path", lb.File, "kind", lb.Kind, "want", lb.Intent)
		fr, err := runFile(l, frame, corpusDir, lb)
		if err != nil {
			return res, err
		}
		res.add(fr)
	}
	cpu1, rss := usage()
	res.CPUSeconds = (cpu1 - cpu0).Seconds()
	st := l.Stats()
	res.HeardSeconds = float64(st.Heard) / audio.SampleRate
	res.VerifiedSeconds = float64(st.Verified) / audio.SampleRate
	res.Hits, res.Sure, res.Rejected, res.Alone, res.Moved, res.Overruled, res.ReadAgain, res.Corrected = st.Hits, st.Sure, st.Rejected, st.Alone, st.Moved, st.Overruled, st.ReadAgain, st.Corrected
	res.RSSMB = rss
	res.finish()
	res.Groups = groups(res.Files, opts.By)
	if opts.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return res, enc.Encode(res)
	}
	return res, writeText(w, res, opts.PerFile)
}

func runFile(l *listen.Listener, frame []int16, dir string, lb Label) (FileResult, error) {
	fr := FileResult{File: lb.File, Kind: lb.Kind, Want: lb.Intent, WantSlots: lb.Slots, Slots: map[string]string{}, Tags: lb.Tags}
	path := filepath.Join(dir, filepath.FromSlash(lb.File))
	// The file is streamed a frame at a time, as the daemon reads a file:
	// input, so the peak RSS measured is the pipeline's, not the corpus's.
	src, err := capture.OpenFile(path, capture.FileOptions{})
	if err != nil {
		return fr, fmt.Errorf("eval: labels.tsv line %d: %w", lb.Line, err)
	}
	defer src.Close()
	fr.Seconds = src.Duration().Seconds()
	if err := src.Start(); err != nil {
		return fr, fmt.Errorf("eval: %w", err)
	}
	// Each file is an independent clip: no state carries over.
	l.Reset()
	first := true
	take := func(u listen.Utterance) {
		fr.Woke++
		if first {
			fr.Intent, fr.Slots = u.Intent, u.Slots
			first = false
		}
		l.Recycle(u.Audio)
	}
	for {
		err := src.Read(frame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fr, fmt.Errorf("eval: %w", err)
		}
		u, ok, err := l.Feed(frame)
		if err != nil {
			return fr, fmt.Errorf("eval: %s: %w", path, err)
		}
		if ok {
			take(u)
		}
	}
	u, ok, err := l.Flush()
	if err != nil {
		return fr, fmt.Errorf("eval: %s: %w", path, err)
	}
	if ok {
		take(u)
	}
	switch lb.Kind {
	case KindWake:
		fr.Correct = fr.Woke > 0 && fr.Intent == lb.Intent && maps.Equal(fr.Slots, lb.Slots)
	case KindBare:
		fr.Correct = fr.Intent == ""
	default:
		fr.Correct = fr.Woke == 0
	}
	return fr, nil
}

func (r *Result) add(fr FileResult) {
	r.AudioSeconds += fr.Seconds
	r.Files = append(r.Files, fr)
	r.count(fr)
}

// count adds a file to the accuracy counts.
func (c *Counts) count(fr FileResult) {
	switch fr.Kind {
	case KindWake:
		c.WakeFiles++
		if fr.Woke > 0 {
			c.Detected++
		}
		if fr.Correct {
			c.IntentCorrect++
		}
	case KindOther:
		c.OtherFiles++
		c.OtherSeconds += fr.Seconds
		c.FalseWakes += fr.Woke
	case KindBare:
		c.BareFiles++
		if !fr.Correct {
			c.BareActions++
		}
	}
}

// rates works out recall, false wakes per hour and intent accuracy.
func (c *Counts) rates() {
	if c.WakeFiles > 0 {
		c.Recall = float64(c.Detected) / float64(c.WakeFiles)
		c.IntentAcc = float64(c.IntentCorrect) / float64(c.WakeFiles)
	}
	if c.OtherSeconds > 0 {
		c.FAPerHour = float64(c.FalseWakes) / (c.OtherSeconds / 3600)
	}
}

func (r *Result) finish() {
	r.rates()
	if r.AudioSeconds > 0 {
		r.RTF = r.CPUSeconds / r.AudioSeconds
	}
	r.Summary = r.Line()
}

// Columns splits a comma-separated list of column names, as --by takes
// them, dropping blanks.
func Columns(list string) []string {
	var out []string
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// checkColumns makes sure every column of by is named in the header of
// labels.tsv, so that a misspelt --by fails before hours of decoding.
func checkColumns(labels []Label, by []string, name string) error {
	known := map[string]bool{}
	for _, l := range labels {
		for c := range l.Tags {
			known[c] = true
		}
	}
	for _, c := range by {
		if !known[c] {
			names := slices.Sorted(maps.Keys(known))
			if len(names) == 0 {
				return fmt.Errorf("eval: --by %s: %s names no columns after the first four in a header row (file, kind, intent, slots, ...)", c, name)
			}
			return fmt.Errorf("eval: --by %s: no such column in %s (it has %s)", c, name, strings.Join(names, ", "))
		}
	}
	return nil
}

// groups breaks the files' figures down by the values of each column of by.
func groups(files []FileResult, by []string) []Group {
	var out []Group
	for _, c := range by {
		sub := map[string]*Counts{}
		for _, fr := range files {
			v, ok := fr.Tags[c]
			if !ok || v == "" {
				v = "-"
			}
			if sub[v] == nil {
				sub[v] = &Counts{}
			}
			sub[v].count(fr)
		}
		for _, v := range slices.Sorted(maps.Keys(sub)) {
			sub[v].rates()
			out = append(out, Group{Column: c, Value: v, Counts: *sub[v]})
		}
	}
	return out
}

func writeText(w io.Writer, r Result, all bool) error {
	ew := &errWriter{w: w}
	mode := "pipeline (" + r.WakeStage + " + grammar verification)"
	if r.Baseline {
		mode = "baseline (keyword spotting only)"
	}
	ew.printf("mode: %s\n", mode)
	ew.printf("%-40s %-5s %-22s %-22s %s\n", "file", "kind", "expected", "got", "ok")
	for _, fr := range r.Files {
		if fr.Correct && !all {
			continue
		}
		got := "-"
		if fr.Woke > 0 {
			got = describe(fr.Intent, fr.Slots)
			if fr.Woke > 1 {
				got += fmt.Sprintf(" (x%d)", fr.Woke)
			}
		}
		want := "-"
		if fr.Kind == KindBare {
			want = "(none)"
		}
		if fr.Kind == KindWake {
			want = describe(fr.Want, fr.WantSlots)
		}
		ok := "ok"
		if !fr.Correct {
			ok = "WRONG"
		}
		ew.printf("%-40s %-5s %-22s %-22s %s\n", fr.File, fr.Kind, want, got, ok)
	}
	writeGroups(ew, r.Groups)
	ew.printf("wake files: %d, woke on %d, intent right on %d\n", r.WakeFiles, r.Detected, r.IntentCorrect)
	ew.printf("other files: %d (%s of audio), false wakes: %d\n", r.OtherFiles,
		duration(r.OtherSeconds), r.FalseWakes)
	if r.BareFiles > 0 {
		ew.printf("wake phrase alone: %d files, %d acted on\n", r.BareFiles, r.BareActions)
	}
	ew.printf("decoding: %.1f CPU s for %.1f audio s (wake stage %.1f s; %d candidates, %d sure, %d moved to a higher peak; verification %.1f s, %d rejected; %d said alone)\n",
		r.CPUSeconds, r.AudioSeconds, r.HeardSeconds, r.Hits, r.Sure, r.Moved, r.VerifiedSeconds, r.Rejected, r.Alone)
	if r.Overruled > 0 {
		ew.printf("second opinion: %d verdicts overruled\n", r.Overruled)
	}
	if r.ReadAgain > 0 {
		ew.printf("second opinion: %d commands read again\n", r.ReadAgain)
	}
	if r.Corrected > 0 {
		ew.printf("second opinion: %d commands understood otherwise than decoded\n", r.Corrected)
	}
	ew.printf("%s\n", r.Line())
	return ew.err
}

// writeGroups prints one table per column broken down by: wake files,
// how many woke and got the right intent, other audio and false wakes.
func writeGroups(ew *errWriter, gs []Group) {
	for i, g := range gs {
		if i == 0 || gs[i-1].Column != g.Column {
			ew.printf("by %s:\n", g.Column)
			ew.printf("  %-24s %6s %6s %6s %10s %7s %6s %11s\n", "value", "wake", "woke", "right", "intent_acc", "other", "false", "fa_per_hour")
		}
		other := "-"
		if g.OtherFiles > 0 {
			other = duration(g.OtherSeconds).String()
		}
		ew.printf("  %-24s %6d %6d %6d %10s %7s %6d %11s\n", g.Value, g.WakeFiles, g.Detected, g.IntentCorrect,
			ratio(g.IntentAcc, g.WakeFiles > 0), other, g.FalseWakes, ratio(g.FAPerHour, g.OtherSeconds > 0))
	}
}

// duration rounds seconds of audio to whole seconds for the report.
func duration(secs float64) time.Duration {
	return time.Duration(secs * float64(time.Second)).Round(time.Second)
}

// ratio prints a figure, or "-" where its group has nothing to measure.
func ratio(x float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

func describe(intent string, slots map[string]string) string {
	if intent == "" {
		intent = "(none)"
	}
	if len(slots) == 0 {
		return intent
	}
	return intent + " " + formatSlots(slots)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// Add adds another run's counts, audio and CPU to r (the peak memory is
// the larger), for figures over several corpora; Finish works out the
// rates.
func (r *Result) Add(o Result) {
	r.WakeFiles += o.WakeFiles
	r.Detected += o.Detected
	r.IntentCorrect += o.IntentCorrect
	r.OtherFiles += o.OtherFiles
	r.OtherSeconds += o.OtherSeconds
	r.FalseWakes += o.FalseWakes
	r.BareFiles += o.BareFiles
	r.BareActions += o.BareActions
	r.AudioSeconds += o.AudioSeconds
	r.CPUSeconds += o.CPUSeconds
	r.RSSMB = max(r.RSSMB, o.RSSMB)
}

// Finish works out the rates of a Result made with Add.
func (r *Result) Finish() { r.finish() }
