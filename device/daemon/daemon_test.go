package daemon

import (
	"github.com/earshot/earshot/audio/embedding"
	"github.com/earshot/earshot/audio/embedding/embeddingtest"

	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/moonshine"
	"github.com/earshot/earshot/device/config"
	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/device/hub/mosquittotest"
	"github.com/earshot/earshot/device/localbroker"
	"github.com/earshot/earshot/device/panel"
	"github.com/earshot/earshot/device/panel/paneltest"
	"github.com/earshot/earshot/internal/syncbuf"
	"github.com/earshot/earshot/retention"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// PortAudio is never started here (file input), but paho keeps a
		// package-level logger goroutine-free; nothing else is expected.
		goleak.IgnoreCurrent())
}

// rig is a daemon running in-process on a looping silent input, with
// gpiotest pins for the panel and an embedded broker for the hub.
type rig struct {
	t      *testing.T
	cfg    *config.Config
	d      *Daemon
	button *gpiotest.Pin
	level  gpio.Level       // the button pin's level, as the test set it
	clock  *paneltest.Clock // the panel's: a press takes no real time
	led    *gpiotest.Pin
	broker *localbroker.Broker    // in-process broker, unless on mosquitto
	watch  *mosquittotest.Watcher // the hub's view on mosquitto
	cancel context.CancelFunc
	done   chan error
	ids    []string // of the records stored before the start, oldest first
	before func(d *Daemon)

	mu   sync.Mutex
	msgs map[string][]string // topic suffix -> payloads
}

// rigSetup says what the daemon finds at its start.
type rigSetup struct {
	records   []time.Duration // one stored record per entry, heard this long ago
	samples   int             // audio samples per record [1600]
	retention string          // the config's retention section [window: 1h]
	mosquitto bool            // a real mosquitto as the hub's broker
	// prepare, if set, can change the state directory before the start.
	prepare func(cfg *config.Config)
	// daemon, if set, can change the daemon before it runs.
	daemon func(d *Daemon)
}

// newRig starts a daemon whose store holds records from an earlier run;
// prepare, if given, can change the state directory before it starts.
func newRig(t *testing.T, records int, prepare ...func(cfg *config.Config)) *rig {
	t.Helper()
	return newRigWith(t, rigSetup{records: make([]time.Duration, records), prepare: func(cfg *config.Config) {
		for _, p := range prepare {
			p(cfg)
		}
	}})
}

func newRigWith(t *testing.T, setup rigSetup) *rig {
	t.Helper()
	dir := t.TempDir()
	wav := silence(t, filepath.Join(dir, "silence.wav"), 16000)

	r := &rig{t: t, msgs: map[string][]string{}, done: make(chan error, 1)}
	var url string
	if setup.mosquitto {
		m := mosquittotest.Start(t)
		r.watch = mosquittotest.Watch(t, m, "earshot/#")
		url = m.URL
	} else {
		b, err := localbroker.Start("", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		r.broker, url = b, b.URL()
		if err := b.Subscribe("earshot/#", func(topic string, payload []byte, _ bool) {
			r.mu.Lock()
			defer r.mu.Unlock()
			k := topic[strings.LastIndex(topic, "/")+1:]
			r.msgs[k] = append(r.msgs[k], string(payload))
		}); err != nil {
			t.Fatal(err)
		}
	}
	if setup.retention == "" {
		setup.retention = "window: 1h"
	}
	if setup.samples == 0 {
		setup.samples = 1600
	}

	yaml := strings.Join([]string{
		"device_id: den",
		"audio: {input: \"file:" + wav + "\"}",
		"speech: {intents: " + abs(t, "../../configs/intents.yaml") + "}",
		"wake: {models: " + embeddingtest.Dir(t) + "}",
		"retention: {dir: " + filepath.Join(dir, "state") + ", " + setup.retention + "}",
		"mqtt: {broker: \"" + url + "\"}",
		"gpio: {mute_button: GPIO17, mute_led: GPIO27}",
		"control: {socket: " + filepath.Join(dir, "c.sock") + "}",
	}, "\n")
	cfgPath := filepath.Join(dir, "earshot.yaml")
	os.WriteFile(cfgPath, []byte(yaml), 0o600)
	var err error
	r.cfg, err = config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}

	// Voice history from an earlier run.
	st, err := retention.Open(r.cfg.Retention.StoreDir(), retention.Options{Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, ago := range setup.records {
		rec, err := st.Append(retention.Record{Time: time.Now().Add(-ago), Transcript: "turn on the kitchen lights", Intent: "LightsOn",
			Slots: map[string]string{"room": "kitchen"}}, make([]int16, setup.samples))
		if err != nil {
			t.Fatal(err)
		}
		r.ids = append(r.ids, rec.ID)
	}
	st.Close()
	if setup.prepare != nil {
		setup.prepare(r.cfg)
	}
	r.before = setup.daemon
	r.start()
	return r
}

// start runs a new daemon on the rig's config, broker and state.
func (r *rig) start() {
	t := r.t
	var err error
	r.done = make(chan error, 1)
	r.button = &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level)}
	r.level = gpio.High
	r.clock = paneltest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r.led = &gpiotest.Pin{N: "GPIO27", Num: 27}
	r.d, err = New(r.cfg, Options{
		Logger:   slog.New(slog.DiscardHandler),
		Realtime: true,
		Loop:     true,
		Pins: func(bn, ln string) (gpio.PinIn, gpio.PinOut, error) {
			if bn != "GPIO17" || ln != "GPIO27" {
				return nil, nil, errors.New("unexpected pin names " + bn + ", " + ln)
			}
			return r.button, r.led, nil
		},
		Button: panel.ButtonOptions{Poll: 2 * time.Millisecond, Clock: r.clock},
		LED:    panel.LEDOptions{Unit: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.before != nil {
		r.before(r.d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.d.Run(ctx) }()
	t.Cleanup(func() { r.stop() })
	r.waitFor("listening", func() bool { return r.status().Listening })
	r.waitFor("hub connected", func() bool { return r.status().Hub == "connected" })
}

// silence writes n silent samples to the WAV file path.
func silence(t *testing.T, path string, n int) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := capture.WriteWAV(f, make([]int16, n), 16000); err != nil {
		t.Fatal(err)
	}
	return path
}

// link makes the folder to with links to files in from.
func link(t *testing.T, from, to string, files ...string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.Symlink(filepath.Join(from, f), filepath.Join(to, f)); err != nil {
			t.Fatal(err)
		}
	}
}

func abs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (r *rig) stop() error {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(10 * time.Second):
		r.t.Fatal("daemon did not stop within 10 s of cancel")
		return nil
	}
}

func (r *rig) status() control.Status { return service{r.d}.Status() }

func (r *rig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s; status %+v", what, r.status())
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

func (r *rig) seen(suffix string) []string {
	if r.watch != nil {
		var out []string
		for _, m := range r.watch.Messages() {
			if strings.HasSuffix(m.Topic, "/"+suffix) {
				out = append(out, string(m.Payload))
			}
		}
		return out
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs[suffix]...)
}

// press holds the button for hold on the panel's clock, with the product's
// timings (5 s wipes), and releases it.
//
// Synchronisation without sleeps, as in package panel's tests: EdgesChan is
// unbuffered, so a send returns once the button has taken the edge, and it
// takes one only after it has finished with the previous one. Sending the
// current level twice more changes nothing for the button and proves that
// it has seen everything before, clock reading included.
func (r *rig) press(hold time.Duration) {
	r.edge(gpio.Low)
	r.clock.Advance(hold)
	r.sync()
	r.edge(gpio.High)
	r.clock.Advance(time.Second) // the release settles
	r.sync()
}

func (r *rig) edge(l gpio.Level) {
	r.level = l
	r.send(l)
	r.sync()
}

func (r *rig) sync() {
	r.send(r.level)
	r.send(r.level)
}

func (r *rig) send(l gpio.Level) {
	select {
	case r.button.EdgesChan <- l:
	case err := <-r.done:
		r.done <- err
		r.t.Fatalf("daemon stopped: %v", err)
	}
}

func (r *rig) reply(id string) map[string]any {
	for _, p := range r.seen("reply") {
		var m map[string]any
		json.Unmarshal([]byte(p), &m)
		if m["id"] == id {
			return m
		}
	}
	return nil
}

func TestButtonMuteStopsTheMicrophoneAndOnlyTheDeviceLiftsIt(t *testing.T) {
	r := newRig(t, 0)

	r.press(100 * time.Millisecond)
	r.waitFor("button mute", func() bool { m, src := r.d.mute.Muted(); return m && src == SourceButton })
	r.waitFor("stream stopped", func() bool { return !r.status().Listening })
	r.waitFor("LED lit", func() bool { return r.led.Read() == gpio.High })
	frames := r.status().FramesRead
	// While muted no frame is read: many frame periods later the count is still.
	time.Sleep(200 * time.Millisecond) // ten frame periods of real-time input
	if now := r.status().FramesRead; now != frames {
		t.Errorf("frames read while muted: %d -> %d", frames, now)
	}

	// The hub cannot lift a button mute.
	r.broker.Publish("earshot/den/cmd/unmute", []byte(`{"id":"u1"}`), false)
	r.waitFor("reply to u1", func() bool { return r.reply("u1") != nil })
	if rep := r.reply("u1"); rep["ok"] != false || rep["error"] != "muted at device" {
		t.Errorf("hub unmute of a button mute: %v", rep)
	}
	if m, _ := r.d.mute.Muted(); !m {
		t.Fatal("hub lifted a button mute")
	}
	// The state topic says who muted.
	r.waitFor("state muted by button", func() bool {
		for _, p := range r.seen("state") {
			if strings.Contains(p, `"muted":true`) && strings.Contains(p, `"mute_source":"button"`) {
				return true
			}
		}
		return false
	})

	// The button lifts it, and the microphone runs again.
	r.press(100 * time.Millisecond)
	r.waitFor("unmuted", func() bool { m, _ := r.d.mute.Muted(); return !m })
	r.waitFor("listening again", func() bool { return r.status().Listening && r.status().FramesRead > frames })
	r.waitFor("LED dark", func() bool { return r.led.Read() == gpio.Low })
}

func TestMuteSurvivesRestart(t *testing.T) {
	r := newRig(t, 0)
	if err := (service{r.d}).Mute(SourceCLI); err != nil {
		t.Fatal(err)
	}
	r.waitFor("stream stopped", func() bool { return !r.status().Listening })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	g, warn := OpenMuteGate(r.cfg.Retention.MuteStatePath())
	if warn != nil {
		t.Fatal(warn)
	}
	if m, src := g.Muted(); !m || src != SourceCLI {
		t.Errorf("after restart muted=%v source=%q", m, src)
	}
}

func TestLongPressWipesHistoryWithReceipt(t *testing.T) {
	r := newRig(t, 3)
	if n := r.status().Records; n != 3 {
		t.Fatalf("records before = %d", n)
	}
	r.press(6 * time.Second) // past the 5 s long press
	r.waitFor("history wiped", func() bool { return r.status().Records == 0 })
	r.waitFor("receipt published", func() bool {
		for _, p := range r.seen("receipt") {
			if strings.Contains(p, `"scope":"all"`) && strings.Contains(p, `"records":3`) {
				return true
			}
		}
		return false
	})
	if m, _ := r.d.mute.Muted(); m {
		t.Error("a long press also toggled mute")
	}
}

func TestHubDeleteAndRetentionCommands(t *testing.T) {
	r := newRig(t, 2)
	// Lengthening past the configured ceiling is refused and changes nothing.
	r.broker.Publish("earshot/den/cmd/retention", []byte(`{"id":"w1","window":"48h"}`), false)
	r.waitFor("reply w1", func() bool { return r.reply("w1") != nil })
	if rep := r.reply("w1"); rep["ok"] != false {
		t.Errorf("lengthening accepted: %v", rep)
	}
	if w := r.status().Window; w != "1h" {
		t.Errorf("window = %s after a refused lengthening", w)
	}
	// Shortening is allowed.
	r.broker.Publish("earshot/den/cmd/retention", []byte(`{"id":"w2","window":"30m"}`), false)
	r.waitFor("window shortened", func() bool { return r.status().Window == "30m" })

	r.broker.Publish("earshot/den/cmd/delete", []byte(`{"id":"d1","scope":"all"}`), false)
	r.waitFor("reply d1", func() bool { return r.reply("d1") != nil })
	if rep := r.reply("d1"); rep["ok"] != true {
		t.Fatalf("hub delete: %v", rep)
	}
	// The reply comes after the data is gone.
	if n := r.status().Records; n != 0 {
		t.Errorf("records after hub delete reply = %d", n)
	}
	r.waitFor("one all receipt", func() bool {
		n := 0
		for _, p := range r.seen("receipt") {
			if strings.Contains(p, `"scope":"all"`) {
				n++
			}
		}
		return n == 1
	})
}

// TestStartupErrorsNameTheProblem: a daemon that cannot start says why,
// naming the config key, releases what it opened, and never panics.
func TestStartupErrorsNameTheProblem(t *testing.T) {
	dir := t.TempDir()
	wav := silence(t, filepath.Join(dir, "s.wav"), 320)
	odd := filepath.Join(dir, "odd.yaml")
	os.WriteFile(odd, []byte("intents:\n  Dance: [\"do the flibbertigibbetz\"]\n"), 0o600)
	intents := abs(t, "../../configs/intents.yaml")
	// The speech embedding without Moonshine beside it.
	embeddingOnly := filepath.Join(dir, "models")
	link(t, embeddingtest.Dir(t), embeddingOnly, embedding.MelFile, embedding.EmbeddingFile)
	tests := []struct {
		name, yaml string
		pins       func(string, string) (gpio.PinIn, gpio.PinOut, error)
		want       []string
	}{
		{"missing intents", "speech: {intents: " + filepath.Join(dir, "none.yaml") + "}", nil, []string{"speech.intents", "none.yaml"}},
		{"unknown word", "speech: {intents: " + odd + "}", nil, []string{"flibbertigibbetz"}},
		{"missing input file", "speech: {intents: " + intents + "}\naudio: {input: \"file:" + filepath.Join(dir, "none.wav") + "\"}", nil, []string{"audio.input", "none.wav"}},
		{"no such GPIO pin", "speech: {intents: " + intents + "}\naudio: {input: \"file:" + wav + "\"}\ngpio: {mute_button: GPIO99}",
			func(b, l string) (gpio.PinIn, gpio.PinOut, error) { return panel.LookupPins(b, l) }, []string{"gpio.mute_button", "GPIO99"}},
		{"insecure broker", "speech: {intents: " + intents + "}\naudio: {input: \"file:" + wav + "\"}\nmqtt: {broker: \"tcp://192.0.2.7:1883\"}", nil, []string{"mqtt", "allow_insecure"}},
		{"no speech embedding", "speech: {intents: " + intents + "}\nwake: {models: " + dir + "}", nil, []string{"wake.models", "melspectrogram.onnx", "make models"}},
		{"head for another phrase", "speech: {intents: " + intents + "}\nwake: {phrase: computer, head: " + abs(t, "../../audio/wakeword/hey_jarvis.head") + "}", nil, []string{"wake.head", `"computer"`}},
		{"no second opinion", "speech: {intents: " + intents + "}\nwake: {models: " + embeddingOnly + ", second_opinion: true}", nil, []string{"wake.second_opinion", "moonshine", "make models"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			yaml := "device_id: den\nretention: {dir: " + state + "}\ncontrol: {socket: " + filepath.Join(t.TempDir(), "c.sock") + "}\n" + tt.yaml + "\n"
			if !strings.Contains(tt.yaml, "wake:") {
				yaml += "wake: {models: " + embeddingtest.Dir(t) + "}\n"
			}
			cfg, err := config.Parse([]byte(yaml), filepath.Join(dir, "e.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			d, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler), Pins: tt.pins})
			if err == nil {
				d.Close()
				t.Fatal("started")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			// What New opened it closed: the store's lock is free again.
			if st, err := retention.Open(cfg.Retention.StoreDir(), retention.Options{Window: time.Hour}); err != nil {
				t.Errorf("store left locked: %v", err)
			} else {
				st.Close()
			}
		})
	}
}

// A window the hub shortened used to be undone by the next SIGHUP with the
// file unchanged: status, state and the store went back to the configured
// window, with no reply or receipt. A reload may only shorten.
func TestReloadKeepsTheHubsShorterWindow(t *testing.T) {
	r := newRig(t, 1)
	r.broker.Publish("earshot/den/cmd/retention", []byte(`{"id":"w1","window":"10m"}`), false)
	r.waitFor("window shortened by the hub", func() bool { return r.status().Window == "10m" })
	lastState := func() string {
		s := r.seen("state")
		if len(s) == 0 {
			return ""
		}
		return s[len(s)-1]
	}
	r.waitFor("state says 10m", func() bool { return strings.Contains(lastState(), `"window":"10m"`) })

	if err := r.d.Reload(); err != nil { // the file still says 1h
		t.Fatal(err)
	}
	if w := r.status().Window; w != "10m" {
		t.Errorf("window after reload = %s, want the hub's 10m", w)
	}
	// A reload that shortens the config below the hub's window applies.
	os.WriteFile(r.cfg.Path, []byte(strings.Replace(mustRead(t, r.cfg.Path), "window: 1h", "window: 5m", 1)), 0o600)
	if err := r.d.Reload(); err != nil {
		t.Fatal(err)
	}
	r.waitFor("state says 5m", func() bool { return strings.Contains(lastState(), `"window":"5m"`) })
	// One that lengthens it again does not.
	os.WriteFile(r.cfg.Path, []byte(strings.Replace(mustRead(t, r.cfg.Path), "window: 5m", "window: 1h", 1)), 0o600)
	if err := r.d.Reload(); err != nil {
		t.Fatal(err)
	}
	if w := r.status().Window; w != "5m" {
		t.Errorf("window after a lengthening reload = %s, want 5m", w)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	// A restart reads the config (1h); the hub's 10m is still in force.
	st, err := retention.Open(r.cfg.Retention.StoreDir(), retention.Options{Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if w := st.Stats().Window; w != 10*time.Minute {
		t.Errorf("window after restart = %s, want the hub's 10m", w)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// `earshot purge` with the daemon stopped printed its receipt and told the
// hub nothing. The daemon publishes it at its next start, and only then.
func TestPurgeReceiptIsPublishedAtTheNextStartOnce(t *testing.T) {
	var purged []retention.Receipt
	var expired string // the purged record's id
	r := newRig(t, 0, func(cfg *config.Config) {
		// A record an earlier run stored two hours ago: past the 1h window.
		past := func() time.Time { return time.Now().Add(-2 * time.Hour) }
		os.RemoveAll(cfg.Retention.StoreDir()) // its clock's high-water mark is now
		st, err := retention.Open(cfg.Retention.StoreDir(), retention.Options{Window: time.Hour, Clock: past})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := st.Append(retention.Record{Intent: "LightsOn"}, make([]int16, 160))
		if err != nil {
			t.Fatal(err)
		}
		expired = rec.ID
		st.Close()
		purged, err = retention.Purge(cfg.Retention.StoreDir(), retention.Options{Window: time.Hour})
		if err != nil || len(purged) != 1 {
			t.Fatalf("purge: %+v, %v", purged, err)
		}
	})
	id := purged[0].ID
	published := func() int {
		n := 0
		for _, p := range r.seen("receipt") {
			if strings.Contains(p, `"id":"`+id+`"`) {
				n++
			}
		}
		return n
	}
	r.waitFor("the purge receipt at the hub", func() bool { return published() == 1 })
	r.waitFor("the receipt off the queue", func() bool { return len(r.d.store.Undelivered()) == 0 })
	// Like every receipt, it names what went, so the hub forgets that action.
	for _, p := range r.receipts() {
		if p.ID == id && !slices.Equal(p.IDs, []string{expired}) {
			t.Errorf("purge receipt names %q, want the expired record %s", p.IDs, expired)
		}
	}

	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	r.start()
	// Receipts go out before any reply: once this one is seen, a receipt
	// published at this start would have been too.
	r.broker.Publish("earshot/den/cmd/state", []byte(`{"id":"barrier"}`), false)
	r.waitFor("reply to the barrier", func() bool { return r.reply("barrier") != nil })
	if n := published(); n != 1 {
		t.Errorf("purge receipt published %d times over two starts, want once", n)
	}
}

// TestSecondOpinionLoadsAfterStart: run does not wait for Moonshine, which
// takes seconds to load: it looks for the files and starts, and loads it
// after. One that does not load is logged, and the daemon goes on
// without it; check-config, which loads it, refuses it.
func TestSecondOpinionLoadsAfterStart(t *testing.T) {
	dir := t.TempDir()
	wav := silence(t, filepath.Join(dir, "s.wav"), 320)
	models := filepath.Join(dir, "models")
	link(t, embeddingtest.Dir(t), models, embedding.MelFile, embedding.EmbeddingFile)
	link(t, filepath.Join(embeddingtest.Dir(t), "moonshine"), filepath.Join(models, "moonshine"),
		moonshine.EncoderFile, moonshine.TokenizerFile, moonshine.LibraryFile)
	// A decoder that is not one.
	os.WriteFile(filepath.Join(models, "moonshine", moonshine.DecoderFile), []byte("not a model"), 0o644)
	yaml := "device_id: den\nretention: {dir: " + filepath.Join(dir, "state") + "}\ncontrol: {socket: " + filepath.Join(dir, "c.sock") + "}\n" +
		"speech: {intents: " + abs(t, "../../configs/intents.yaml") + "}\naudio: {input: \"file:" + wav + "\"}\n" +
		"wake: {models: " + models + ", second_opinion: true}\n"
	cfg, err := config.Parse([]byte(yaml), filepath.Join(dir, "e.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(cfg); err == nil || !strings.Contains(err.Error(), "wake.second_opinion") {
		t.Errorf("check-config with a decoder that does not load: %v, want a wake.second_opinion problem", err)
	}
	var logs syncbuf.Buffer
	d, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Realtime: true})
	if err != nil {
		t.Fatalf("run refused a second opinion it loads after starting: %v", err)
	}
	defer d.Close()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(logs.String(), "second opinion not loaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no error logged for the decoder that does not load; logs:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
