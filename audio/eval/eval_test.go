package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture"
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
		name, kind, intent, slots, text string
	}{
		{"wake/a.wav", "wake", "LightsOn", "room=kitchen", "hey jarvis turn on the kitchen lights"},
		{"wake/b.wav", "wake", "LightsOff", "room=bedroom", "hey jarvis switch off the bedroom lights"},
		{"wake/c.wav", "wake", "LightsOn", "room=living room", "hey jarvis turn on the living room lights"},
		{"other/d.wav", "other", "-", "-", "the weather was lovely and we walked along the beach"},
		{"other/e.wav", "other", "-", "-", "turn on the kitchen lights"},
	}
	var labels strings.Builder
	labels.WriteString("file\tkind\tintent\tslots\n")
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
		labels.WriteString(strings.Join([]string{f.name, f.kind, f.intent, f.slots}, "\t") + "\n")
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
	return cfg, dir
}

func TestRun(t *testing.T) {
	cfg, dir := smallCorpus(t)
	for _, baseline := range []bool{false, true} {
		var out bytes.Buffer
		res, err := Run(context.Background(), cfg, dir, Options{BaselineKWS: baseline}, &out)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		last := lines[len(lines)-1]
		if !summaryRE.MatchString(last) {
			t.Errorf("last line %q is not the summary", last)
		}
		if res.WakeFiles != 3 || res.OtherFiles != 2 {
			t.Errorf("counted %d wake and %d other files", res.WakeFiles, res.OtherFiles)
		}
		if !baseline && (res.Recall != 1 || res.IntentAcc != 1 || res.FalseWakes != 0) {
			t.Errorf("pipeline on clean speech: %s\n%s", res.Line(), out.String())
		}
		if res.RTF <= 0 || res.RSSMB <= 0 {
			t.Errorf("rtf %v rss %v not measured", res.RTF, res.RSSMB)
		}
	}
}

func TestRunJSON(t *testing.T) {
	cfg, dir := smallCorpus(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), cfg, dir, Options{JSON: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var got Result
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if got.Summary != res.Line() || len(got.Files) != 5 {
		t.Errorf("JSON summary %q, %d files", got.Summary, len(got.Files))
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
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, cfg, dir, Options{}, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
