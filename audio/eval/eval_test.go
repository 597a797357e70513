package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/embedding/embeddingtest"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
	"github.com/earshot/earshot/device/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var summaryRE = regexp.MustCompile(`^recall=\d\.\d{3} fa_per_hour=\d+\.\d{2} intent_acc=\d\.\d{3} rtf=\d+\.\d{3} rss_mb=\d+\.\d$`)

const testIntents = `
slots:
  room: [kitchen, bedroom, living room]
intents:
  LightsOn:  ["(turn | switch) on the {room} lights"]
  LightsOff: ["(turn | switch) off the {room} lights"]
`

// smallCorpus writes a labelled corpus of real synthesised speech.
func smallCorpus(t *testing.T) (*config.Config, string) {
	t.Helper()
	if !sphinx.Available {
		t.Skip("built without PocketSphinx")
	}
	dir := t.TempDir()
	files := []struct {
		name, kind, intent, slots, set, text string
	}{
		{"wake/a.wav", "wake", "LightsOn", "room=kitchen", "wake", "hey jarvis turn on the kitchen lights"},
		{"wake/b.wav", "wake", "LightsOff", "room=bedroom", "wake", "hey jarvis switch off the bedroom lights"},
		{"wake/c.wav", "wake", "LightsOn", "room=living room", "wake", "hey jarvis turn on the living room lights"},
		{"other/d.wav", "other", "-", "-", "speech", "the weather was lovely and we walked along the beach"},
		{"other/e.wav", "other", "-", "-", "command", "turn on the kitchen lights"},
		{"bare/f.wav", "bare", "-", "-", "bare", "hey jarvis"},
	}
	var labels strings.Builder
	labels.WriteString("file\tkind\tintent\tslots\tset\n")
	for _, f := range files {
		pcm := sphinxtest.Speak(t, "slt", f.text, 0.5, 1.2)
		path := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := capture.WriteWAV(&buf, pcm, audio.SampleRate); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		labels.WriteString(strings.Join([]string{f.name, f.kind, f.intent, f.slots, f.set}, "\t") + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.tsv"), []byte(labels.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	intentsPath := filepath.Join(t.TempDir(), "intents.yaml")
	if err := os.WriteFile(intentsPath, []byte(testIntents), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Speech.Intents = intentsPath
	cfg.Wake.Models = embeddingtest.Dir(t)
	return cfg, dir
}

func TestRun(t *testing.T) {
	cfg, dir := smallCorpus(t)
	for _, baseline := range []bool{false, true} {
		var out bytes.Buffer
		res, err := Run(context.Background(), cfg, dir, Options{BaselineKWS: baseline, By: []string{"set"}}, &out)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		last := lines[len(lines)-1]
		if !summaryRE.MatchString(last) {
			t.Errorf("last line %q is not the summary", last)
		}
		if res.WakeFiles != 3 || res.OtherFiles != 2 || res.BareFiles != 1 {
			t.Errorf("counted %d wake, %d other and %d bare files", res.WakeFiles, res.OtherFiles, res.BareFiles)
		}
		if !baseline && (res.BareActions != 0 || !strings.Contains(out.String(), "wake phrase alone: 1 files, 0 acted on")) {
			t.Errorf("the wake phrase alone acted:\n%s", out.String())
		}
		if !baseline && (res.Recall != 1 || res.IntentAcc != 1 || res.FalseWakes != 0) {
			t.Errorf("pipeline on clean speech: %s\n%s", res.Line(), out.String())
		}
		if !strings.Contains(out.String(), "by set:\n") || len(res.Groups) != 4 {
			t.Errorf("no breakdown by set (%d groups):\n%s", len(res.Groups), out.String())
		}
		if res.RTF <= 0 || res.RSSMB <= 0 {
			t.Errorf("rtf %v rss %v not measured", res.RTF, res.RSSMB)
		}
	}
}

// TestRunNoHead: --no-head measures the wake stage of a phrase without a
// head, keyword spotting, and the report says which stage ran.
func TestRunNoHead(t *testing.T) {
	cfg, dir := smallCorpus(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), cfg, dir, Options{NoHead: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.WakeStage != "keyword spotting" || !strings.Contains(out.String(), "pipeline (keyword spotting + grammar verification)") {
		t.Errorf("wake stage %q:\n%s", res.WakeStage, out.String())
	}
	if res.Hits == 0 || res.Sure != 0 {
		t.Errorf("keyword spotting: %d candidates, %d sure", res.Hits, res.Sure)
	}
	res, err = Run(context.Background(), cfg, dir, Options{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.WakeStage, "wake-word head") {
		t.Errorf("with the shipped head: wake stage %q", res.WakeStage)
	}
}

func TestRunJSON(t *testing.T) {
	cfg, dir := smallCorpus(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), cfg, dir, Options{JSON: true, By: []string{"set"}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var got Result
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if got.Summary != res.Line() || len(got.Files) != 6 {
		t.Errorf("JSON summary %q, %d files", got.Summary, len(got.Files))
	}
	if !reflect.DeepEqual(got.Groups, res.Groups) || len(got.Groups) != 4 || got.Files[4].Tags["set"] != "command" || got.BareFiles != 1 {
		t.Errorf("JSON groups %+v, tags %v", got.Groups, got.Files[4].Tags)
	}
}

func TestRunErrors(t *testing.T) {
	cfg, dir := smallCorpus(t)
	if _, err := Run(context.Background(), cfg, t.TempDir(), Options{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "labels.tsv") {
		t.Errorf("missing labels: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "wake", "b.wav")); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), cfg, dir, Options{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "b.wav") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("missing WAV: %v", err)
	}
	_, err = Run(context.Background(), cfg, dir, Options{By: []string{"voice"}}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--by voice: no such column") || !strings.Contains(err.Error(), "(it has set)") {
		t.Errorf("unknown column: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, cfg, dir, Options{}, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestGroups(t *testing.T) {
	files := []FileResult{
		{Kind: KindWake, Woke: 1, Correct: true, Seconds: 3, Tags: map[string]string{"noise": "white", "voice": "kal"}},
		{Kind: KindWake, Woke: 1, Correct: false, Seconds: 3, Tags: map[string]string{"noise": "white", "voice": "slt"}},
		{Kind: KindWake, Woke: 0, Seconds: 3, Tags: map[string]string{"noise": "-", "voice": "kal"}},
		{Kind: KindOther, Woke: 2, Seconds: 1800, Tags: map[string]string{"noise": "white"}},
		{Kind: KindOther, Woke: 0, Seconds: 60, Tags: map[string]string{"noise": ""}},
	}
	got := groups(files, []string{"noise", "voice"})
	otherSecs := 1860.0 // both other files, neither with a voice
	want := []Group{
		{Column: "noise", Value: "-", Counts: Counts{WakeFiles: 1, OtherFiles: 1, OtherSeconds: 60}},
		{Column: "noise", Value: "white", Counts: Counts{WakeFiles: 2, Detected: 2, IntentCorrect: 1, OtherFiles: 1, OtherSeconds: 1800, FalseWakes: 2, Recall: 1, IntentAcc: 0.5, FAPerHour: 4}},
		{Column: "voice", Value: "-", Counts: Counts{OtherFiles: 2, OtherSeconds: 1860, FalseWakes: 2, FAPerHour: 2 / (otherSecs / 3600)}},
		{Column: "voice", Value: "kal", Counts: Counts{WakeFiles: 2, Detected: 1, IntentCorrect: 1, Recall: 0.5, IntentAcc: 0.5}},
		{Column: "voice", Value: "slt", Counts: Counts{WakeFiles: 1, Detected: 1, Recall: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups:\n got %+v\nwant %+v", got, want)
	}
	var out bytes.Buffer
	if err := writeText(&out, Result{Files: files, Groups: got}, false); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"by noise:",
		"  -                             1      0      0      0.000    1m0s      0       0.000",
		"  white                         2      2      1      0.500   30m0s      2       4.000",
		"by voice:",
		"  -                             0      0      0          -   31m0s      2       3.871",
		"  slt                           1      1      0      0.000       -      0           -",
	} {
		if !strings.Contains(out.String(), line+"\n") {
			t.Errorf("report lacks %q:\n%s", line, out.String())
		}
	}
}

func TestColumns(t *testing.T) {
	if got := Columns(" set,, noise ,"); !reflect.DeepEqual(got, []string{"set", "noise"}) {
		t.Errorf("Columns = %q, want set, noise", got)
	}
	if got := Columns(""); got != nil {
		t.Errorf("Columns(\"\") = %q, want none", got)
	}
}
