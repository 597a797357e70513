// Package config loads and validates earshot's YAML configuration.
//
// Loading is strict: an unknown key, a value of the wrong type or a value out
// of range refuses the whole file, with every problem reported as
// "FILE:LINE: key: what was expected". A config that loads is safe to run.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// DefaultPath is where the daemon and the CLI look when --config is not given.
const DefaultPath = "/etc/earshot/earshot.yaml"

// Config is the whole daemon configuration. Field names mirror the YAML keys.
type Config struct {
	DeviceID  string
	Audio     Audio
	Wake      Wake
	Speech    Speech
	Retention Retention
	MQTT      MQTT
	GPIO      GPIO
	Control   Control

	// Path is the file the config was loaded from ("" for Default()).
	Path string

	lines map[string]int // dotted key -> line of its value in Path
}

// Audio selects the capture device.
type Audio struct {
	Input      string        // PortAudio device name, "default", or "file:PATH.wav"
	SampleRate int           // only 16000 is supported
	Preroll    time.Duration // audio kept from before the wake word
}

// Wake configures the wake word.
type Wake struct {
	Phrase      string
	Sensitivity float64 // 0..1, engine-independent
	// Head is the wake-word head's file: "" for the one that ships for the
	// phrase, or else the one `earshot wake-train` wrote into
	// retention.dir; a path ending in .onnx is an openWakeWord head.
	Head string
	// Models is the folder of the speech embedding's model files.
	Models string
	// SecondOpinion asks Moonshine (in Models/moonshine) whether each
	// candidate began with the wake phrase: fewer missed and false wakes
	// on people, for some 150 MB of memory and a few tenths of a second
	// of CPU per candidate (see docs/recognition.md).
	SecondOpinion bool
}

// TrainedHeadPath is where `earshot wake-train` puts the head it trains
// for phrase, and where the daemon looks for it when wake.head is empty.
func (r Retention) TrainedHeadPath(phrase string) string {
	return filepath.Join(r.Dir, "wake", strings.ReplaceAll(phrase, " ", "-")+".head")
}

// Speech configures command recognition.
type Speech struct {
	Intents      string // path of the intents file, resolved against the config's directory
	MaxUtterance time.Duration
	EndSilence   time.Duration
	// CommandWait is how long the device waits for a command after a wake
	// phrase said alone (it plays a "listening" earcon first).
	CommandWait time.Duration
}

// Retention configures the encrypted store.
type Retention struct {
	Dir      string
	Window   time.Duration // hard ceiling; 0 keeps nothing at all
	MaxBytes int64
	Keys     string // "disk" or "memory"
}

// MQTT configures the hub link. An empty Broker means no hub.
type MQTT struct {
	Broker        string
	Username      string
	PasswordFile  string
	CAFile        string
	CertFile      string
	KeyFile       string
	AllowInsecure bool
	TopicPrefix   string
	ActionTTL     time.Duration
	Discovery     bool
	Hermes        bool
}

// GPIO names the periph pins of the mute button and LED; empty means none.
type GPIO struct {
	MuteButton string
	MuteLED    string
}

// Control configures the local control socket.
type Control struct {
	Socket string
}

// Default returns the configuration used for keys a file leaves out.
func Default() *Config {
	return &Config{
		DeviceID: "earshot",
		Audio:    Audio{Input: "default", SampleRate: 16000, Preroll: time.Second},
		Wake:     Wake{Phrase: "hey jarvis", Sensitivity: 0.5, Models: "/usr/share/earshot/models"},
		Speech: Speech{
			Intents:      "/etc/earshot/intents.yaml",
			MaxUtterance: 8 * time.Second,
			EndSilence:   700 * time.Millisecond,
			CommandWait:  5 * time.Second,
		},
		Retention: Retention{
			Dir:      "/var/lib/earshot",
			Window:   24 * time.Hour,
			MaxBytes: 256 << 20,
			Keys:     "disk",
		},
		MQTT: MQTT{
			TopicPrefix: "earshot",
			ActionTTL:   60 * time.Second,
			Discovery:   true,
		},
		Control: Control{Socket: "/run/earshot/control.sock"},
	}
}

// Load reads, decodes and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and validates a config held in memory; filename is used in
// error messages and to resolve relative paths.
func Parse(data []byte, filename string) (*Config, error) {
	cfg := Default()
	cfg.Path = filename
	d := newDecoder(filename)
	if d.decode(data, cfg) {
		// Values that did not decode keep their defaults and are not
		// checked again; every other key is, so one pass says it all.
		cfg.resolvePaths()
		d.validate(cfg)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	cfg.lines = d.lines
	return cfg, nil
}

// Problem formats a problem found with key after loading, the way loading
// reports its own: "FILE:LINE: key: reason", line 1 and "(default value)"
// when the file leaves the key out.
func (c *Config) Problem(key, reason string) string {
	if c.lines[key] == 0 {
		reason += " (default value)"
	}
	return c.Where(key) + ": " + reason
}

// Where names key's place: "FILE:LINE: key", line 1 when the file leaves
// the key out.
func (c *Config) Where(key string) string {
	return fmt.Sprintf("%s:%d: %s", c.Path, max(c.lines[key], 1), key)
}

// resolvePaths makes file paths relative to the config's own directory, so a
// config and its intents file can travel together.
func (c *Config) resolvePaths() {
	base := filepath.Dir(c.Path)
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	abs(&c.Speech.Intents)
	abs(&c.Wake.Head)
	abs(&c.Wake.Models)
	abs(&c.Retention.Dir)
	abs(&c.MQTT.PasswordFile)
	abs(&c.MQTT.CAFile)
	abs(&c.MQTT.CertFile)
	abs(&c.MQTT.KeyFile)
	abs(&c.Control.Socket)
	if f, ok := strings.CutPrefix(c.Audio.Input, "file:"); ok {
		abs(&f)
		c.Audio.Input = "file:" + f
	}
}

var (
	deviceIDRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	phraseRE   = regexp.MustCompile(`^[a-z']+( [a-z']+)*$`)
	pinRE      = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)
)

// validate checks ranges and cross-field rules, reporting at the key's line.
func (d *decoder) validate(c *Config) {
	if !deviceIDRE.MatchString(c.DeviceID) {
		d.errorf("device_id", "want 1 to 64 of [a-z0-9-], got %q", c.DeviceID)
	}
	switch {
	case c.Audio.Input == "":
		d.errorf("audio.input", `want a PortAudio device name, "default" or "file:PATH.wav"`)
	case strings.HasPrefix(c.Audio.Input, "file:") && len(c.Audio.Input) == len("file:"):
		d.errorf("audio.input", "file: needs a path to a WAV file")
	}
	if c.Audio.SampleRate != 16000 {
		d.errorf("audio.sample_rate", "only 16000 is supported, got %d", c.Audio.SampleRate)
	}
	d.durationIn("audio.preroll", c.Audio.Preroll, 0, 5*time.Second)
	if !phraseRE.MatchString(c.Wake.Phrase) {
		d.errorf("wake.phrase", "want lower-case words separated by single spaces, got %q", c.Wake.Phrase)
	}
	if c.Wake.Sensitivity < 0 || c.Wake.Sensitivity > 1 {
		d.errorf("wake.sensitivity", "want a number from 0 to 1, got %g", c.Wake.Sensitivity)
	}
	if c.Speech.Intents == "" {
		d.errorf("speech.intents", "want the path of the intents file")
	}
	d.durationIn("speech.max_utterance", c.Speech.MaxUtterance, time.Second, 30*time.Second)
	d.durationIn("speech.end_silence", c.Speech.EndSilence, 100*time.Millisecond, 5*time.Second)
	d.durationIn("speech.command_wait", c.Speech.CommandWait, 500*time.Millisecond, 30*time.Second)
	if c.Wake.Models == "" {
		d.errorf("wake.models", "want the folder of the speech embedding's model files")
	}
	if c.Speech.EndSilence >= c.Speech.MaxUtterance && !d.bad["speech.max_utterance"] {
		d.errorf("speech.end_silence", "must be shorter than speech.max_utterance (%s)", c.Speech.MaxUtterance)
	}
	if c.Retention.Dir == "" {
		d.errorf("retention.dir", "want a directory for the encrypted store")
	}
	d.durationIn("retention.window", c.Retention.Window, 0, 366*24*time.Hour)
	if c.Retention.MaxBytes < 1<<20 {
		d.errorf("retention.max_bytes", "want at least 1MiB, got %d bytes", c.Retention.MaxBytes)
	}
	if c.Retention.Keys != "disk" && c.Retention.Keys != "memory" {
		d.errorf("retention.keys", `want "disk" or "memory", got %q`, c.Retention.Keys)
	}
	d.validateMQTT(&c.MQTT)
	for key, pin := range map[string]string{"gpio.mute_button": c.GPIO.MuteButton, "gpio.mute_led": c.GPIO.MuteLED} {
		if pin != "" && !pinRE.MatchString(pin) {
			d.errorf(key, "want a periph pin name such as GPIO17, got %q", pin)
		}
	}
	if c.GPIO.MuteButton != "" && c.GPIO.MuteButton == c.GPIO.MuteLED {
		d.errorf("gpio.mute_led", "must differ from gpio.mute_button (%s)", c.GPIO.MuteButton)
	}
	if c.Control.Socket == "" {
		d.errorf("control.socket", "want the path of the control socket")
	}
}

// validateMQTT checks what needs no file or network; the broker URL, the
// password and the TLS material are checked by the hub link's own
// validation (daemon.Check), the one `earshot run` uses.
func (d *decoder) validateMQTT(m *MQTT) {
	if m.TopicPrefix == "" || strings.ContainsAny(m.TopicPrefix, "+#\x00") ||
		strings.HasPrefix(m.TopicPrefix, "/") || strings.HasSuffix(m.TopicPrefix, "/") {
		d.errorf("mqtt.topic_prefix", "want a topic without wildcards or leading/trailing '/', got %q", m.TopicPrefix)
	}
	d.durationIn("mqtt.action_ttl", m.ActionTTL, time.Second, time.Hour)
}

func (d *decoder) durationIn(key string, v, lo, hi time.Duration) {
	if v < lo || v > hi {
		d.errorf(key, "want a duration from %s to %s, got %s", lo, hi, v)
	}
}

// StoreDir is where the encrypted store lives inside retention.dir. The
// store owns that directory alone (it quarantines files it does not know),
// so the daemon's own small state sits beside it, not in it.
func (r Retention) StoreDir() string { return filepath.Join(r.Dir, "store") }

// MuteStatePath is the persisted mute state (not sensitive: a flag and its source).
func (r Retention) MuteStatePath() string { return filepath.Join(r.Dir, "mute.json") }
