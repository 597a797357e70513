package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShippedConfigLoads(t *testing.T) {
	cfg, err := Load("../../configs/earshot.yaml")
	if err != nil {
		t.Fatalf("configs/earshot.yaml: %v", err)
	}
	if cfg.DeviceID != "kitchen-speaker" || cfg.Retention.Window != 24*time.Hour ||
		cfg.Retention.MaxBytes != 256<<20 || cfg.Speech.EndSilence != 700*time.Millisecond ||
		cfg.GPIO.MuteButton != "GPIO17" || !cfg.MQTT.Discovery || cfg.MQTT.Hermes {
		t.Errorf("unexpected values: %+v", cfg)
	}
}

func TestMinimalConfigGetsDefaults(t *testing.T) {
	cfg, err := Parse([]byte("device_id: den\n"), "/etc/earshot/earshot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if cfg.Audio != want.Audio || cfg.Wake != want.Wake || cfg.Retention != want.Retention || cfg.MQTT != want.MQTT {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

func TestRelativePathsResolveAgainstConfigDir(t *testing.T) {
	cfg, err := Parse([]byte(`device_id: den
audio: {input: "file:say.wav"}
speech: {intents: intents.yaml}
retention: {dir: store}
`), "/opt/demo/earshot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Speech.Intents != "/opt/demo/intents.yaml" || cfg.Retention.Dir != "/opt/demo/store" ||
		cfg.Audio.Input != "file:/opt/demo/say.wav" {
		t.Errorf("paths not resolved: %q %q %q", cfg.Speech.Intents, cfg.Retention.Dir, cfg.Audio.Input)
	}
}

func TestBadConfigNamesFileLineAndReason(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error, each must appear
	}{
		{"unknown top key", "device_id: a\nvolume: 3\n", []string{"e.yaml:2: volume: unknown key"}},
		{"unknown nested key", "device_id: a\nretention:\n  windw: 2h\n", []string{"e.yaml:3: retention.windw: unknown key", "window"}},
		{"wrong type", "device_id: a\nwake:\n  sensitivity: loud\n", []string{"e.yaml:3: wake.sensitivity: want a number"}},
		{"second opinion not a flag", "device_id: a\nwake:\n  second_opinion: sometimes\n", []string{"e.yaml:3: wake.second_opinion: want true or false"}},
		{"section not a map", "device_id: a\naudio: 5\n", []string{"e.yaml:2: audio: want a mapping"}},
		{"bad duration", "device_id: a\nretention:\n  window: 3 days\n", []string{"e.yaml:3: retention.window: want a duration"}},
		{"unitless duration", "device_id: a\nspeech:\n  end_silence: 700\n", []string{"e.yaml:3: speech.end_silence", "unit"}},
		{"negative duration", "device_id: a\nretention:\n  window: -1h\n", []string{"e.yaml:3:", "negative"}},
		{"window too long", "device_id: a\nretention:\n  window: 400d\n", []string{"e.yaml:3: retention.window: want a duration from 0s to 8784h"}},
		{"bad size", "device_id: a\nretention:\n  max_bytes: lots\n", []string{"e.yaml:3: retention.max_bytes: want a size"}},
		{"tiny size", "device_id: a\nretention:\n  max_bytes: 10KiB\n", []string{"e.yaml:3: retention.max_bytes: want at least 1MiB"}},
		{"bad keys", "device_id: a\nretention:\n  keys: tpm\n", []string{`e.yaml:3: retention.keys: want "disk" or "memory"`}},
		{"bad device id", "device_id: Kitchen Speaker\n", []string{"e.yaml:1: device_id: want 1 to 64"}},
		{"sensitivity range", "device_id: a\nwake: {sensitivity: 1.5}\n", []string{"e.yaml:2: wake.sensitivity: want a number from 0 to 1"}},
		{"bad phrase", "device_id: a\nwake: {phrase: \"Hey, Jarvis\"}\n", []string{"e.yaml:2: wake.phrase"}},
		{"sample rate", "device_id: a\naudio: {sample_rate: 44100}\n", []string{"e.yaml:2: audio.sample_rate: only 16000"}},
		{"password in yaml", "device_id: a\nmqtt:\n  password: hunter2\n", []string{"e.yaml:3: mqtt.password: never put the password"}},
		{"wildcard prefix", "device_id: a\nmqtt: {topic_prefix: \"home/#\"}\n", []string{"e.yaml:2: mqtt.topic_prefix"}},
		{"same pins", "device_id: a\ngpio: {mute_button: GPIO17, mute_led: GPIO17}\n", []string{"gpio.mute_led: must differ"}},
		{"duplicate key", "device_id: a\ndevice_id: b\n", []string{"e.yaml:2: device_id: duplicate key"}},
		{"bool as string", "device_id: a\nmqtt: {discovery: \"yes\"}\n", []string{"e.yaml:2: mqtt.discovery: want true or false"}},
		{"invalid yaml", "device_id: a\naudio:\n  input: [\n", []string{"e.yaml:", "invalid YAML"}},
		{"empty file", "", []string{"e.yaml:1: empty config"}},
		{"not a mapping", "- a\n- b\n", []string{"e.yaml:1: the top level: want a mapping"}},
		{"end silence past max", "device_id: a\nspeech: {max_utterance: 2s, end_silence: 3s}\n", []string{"speech.end_silence: must be shorter"}},
		{"several problems at once", "device_id: A\nwake: {sensitivity: 2}\n", []string{"e.yaml:1: device_id", "e.yaml:2: wake.sensitivity"}},
		// A value of the wrong type no longer hides a value out of range.
		{"type and range problems at once", "device_id: A\nwake: {sensitivity: loud}\nretention: {window: 400d}\n",
			[]string{"e.yaml:1: device_id: want 1 to 64", "e.yaml:2: wake.sensitivity: want a number", "e.yaml:3: retention.window: want a duration from"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "/etc/e.yaml")
			if err == nil {
				t.Fatal("config accepted")
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Errorf("error is %T, want *config.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"700ms", 700 * time.Millisecond, true},
		{"24h", 24 * time.Hour, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"0", 0, true},
		{"0s", 0, true},
		{"", 0, false},
		{"d", 0, false},
		{".d", 0, false},
		{"5", 0, false},
		{"-2h", 0, false},
		{"2 h", 0, false},
		{"2x", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"256MiB", 256 << 20, true},
		{"1GB", 1e9, true},
		{"1048576", 1 << 20, true},
		{"1.5GiB", 3 << 29, true},
		{"64K", 64 << 10, true},
		{"12 MB", 12e6, true},
		{"MiB", 0, false},
		{"-1MiB", 0, false},
		{"ten", 0, false},
		{"1EiB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not-exist", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	if data, err := os.ReadFile("../../configs/earshot.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("device_id: a\nretention: {window: 1d2h, max_bytes: 2MiB}\n"))
	f.Add([]byte("audio: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "/f.yaml")
		if err == nil {
			// Anything accepted must satisfy the invariants the daemon relies on.
			if cfg.Wake.Sensitivity < 0 || cfg.Wake.Sensitivity > 1 || cfg.Retention.Window < 0 ||
				cfg.Retention.MaxBytes < 1<<20 || cfg.Audio.SampleRate != 16000 {
				t.Fatalf("accepted out-of-range config: %+v", cfg)
			}
		} else if !strings.HasPrefix(err.Error(), "/f.yaml:") {
			t.Fatalf("error without file:line: %q", err)
		}
	})
}

func TestProblemNamesFileAndLine(t *testing.T) {
	cfg, err := Parse([]byte("device_id: den\ncontrol:\n  socket: /tmp/x\n"), "/etc/e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Problem("control.socket", "is a file"); got != "/etc/e.yaml:3: control.socket: is a file" {
		t.Errorf("Problem = %q", got)
	}
	if got := cfg.Problem("mqtt.broker", "bad"); got != "/etc/e.yaml:1: mqtt.broker: bad (default value)" {
		t.Errorf("Problem of a default = %q", got)
	}
}
