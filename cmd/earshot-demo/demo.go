package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/device/localbroker"
)

const (
	deviceID = "demo-speaker"
	window   = 10 * time.Minute // the configured ceiling; the hub shortens it in step 4
)

// line is one thing said to the speaker, and the silence after it.
type line struct {
	text, voice string
	gap         time.Duration
	note        string
}

var script = []line{
	{"hey jarvis, turn on the kitchen lights", "slt", 6 * time.Second, "will expire when the window shrinks"},
	{"hey jarvis, set a timer for five minutes", "rms", 1500 * time.Millisecond, ""},
	{"hey jarvis, what is the weather like on mars", "awb", 1500 * time.Millisecond, "not in the grammar"},
	{"hey jarvis, switch off the bedroom lights", "rms", 1500 * time.Millisecond, ""},
	{"hey jarvis, delete what I just said", "slt", 2 * time.Second, "forgets the bedroom command"},
}

type demo struct {
	earshot, intents string
	keep             bool
	out              io.Writer
	color            bool

	dir    string
	config string
	start  time.Time

	mu  sync.Mutex
	hub []hubMsg
	new chan struct{}
}

type hubMsg struct {
	at      time.Duration
	topic   string
	payload string
}

func (d *demo) run(ctx context.Context) error {
	var err error
	if d.dir, err = os.MkdirTemp("", "earshot-demo-"); err != nil {
		return err
	}
	if d.keep {
		defer d.printf("kept %s\n", d.dir)
	} else {
		defer os.RemoveAll(d.dir)
	}
	d.new = make(chan struct{}, 1)
	d.title()

	d.step(1, "generating speech with flite and sox")
	wav, length, err := d.speech(ctx)
	if err != nil {
		return err
	}
	d.printf("    %d utterances, %.0f s of audio\n", len(script), length.Seconds())

	d.step(2, "starting an embedded MQTT broker (the hub) and the earshot daemon")
	broker, err := localbroker.Start("", nil)
	if err != nil {
		return err
	}
	defer broker.Close()
	if err := broker.Subscribe("earshot/#", d.onHub); err != nil {
		return err
	}
	if err := d.writeConfig(wav, broker.URL()); err != nil {
		return err
	}
	daemon, logPath, err := d.startDaemon(ctx)
	if err != nil {
		return err
	}
	defer daemon.Process.Kill()
	d.printf("    broker %s, store %s (encrypted), window %s\n", broker.URL(), filepath.Join(d.dir, "state", "store"), window)

	d.step(3, "speaking to earshot, in real time; the hub sees:")
	d.start = time.Now()
	if err := d.follow(ctx, length+3*time.Second); err != nil {
		return fmt.Errorf("%w (daemon log: %s)", err, logPath)
	}

	d.step(4, "the hub shortens the retention window: the oldest record expires")
	w := d.windowBetweenFirstTwo()
	d.mu.Lock()
	d.start = time.Time{} // later messages are printed by their step
	d.mu.Unlock()
	if err := broker.Publish("earshot/"+deviceID+"/cmd/retention", []byte(fmt.Sprintf(`{"id":"demo-window","window":"%s"}`, w)), false); err != nil {
		return err
	}
	d.printf("    cmd/retention {\"window\":\"%s\"}: a hub may shorten the window, never lengthen it\n", w)
	if err := d.waitHub(ctx, 10*time.Second, func(m hubMsg) bool {
		return strings.HasSuffix(m.topic, "/receipt") && strings.Contains(m.payload, `"scope":"window"`)
	}); err != nil {
		return err
	}
	d.printHub(func(m hubMsg) bool { return m.at < 0 && strings.Contains(m.payload, `"scope":"window"`) })

	d.step(5, "side by side")
	hist, err := d.cli("history")
	if err != nil {
		return err
	}
	d.sideBySide(hist)

	d.step(6, "the hub wipes the rest: cmd/delete {\"scope\":\"all\"}")
	if err := broker.Publish("earshot/"+deviceID+"/cmd/delete", []byte(`{"id":"demo-wipe","scope":"all"}`), false); err != nil {
		return err
	}
	if err := d.waitHub(ctx, 10*time.Second, func(m hubMsg) bool {
		return strings.HasSuffix(m.topic, "/reply") && strings.Contains(m.payload, "demo-wipe")
	}); err != nil {
		return err
	}
	d.printHub(func(m hubMsg) bool { return m.at < 0 && strings.Contains(m.payload, `"scope":"all"`) })
	hist, err = d.cli("history")
	if err != nil {
		return err
	}
	d.printf("    %s %s", d.paint("device keeps:", "1"), hist)
	d.checkDisk()

	daemon.Process.Signal(syscall.SIGTERM)
	daemon.Wait()
	d.printf("\n%s\n", d.paint("Nothing the user said reached the hub; what the device forgot exists nowhere else.", "1;32"))
	return nil
}

// speech renders the script into one 16 kHz WAV with flite and sox.
func (d *demo) speech(ctx context.Context) (string, time.Duration, error) {
	for _, tool := range []string{"flite", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", 0, fmt.Errorf("%s is not installed: run `make deps`", tool)
		}
	}
	parts := []string{d.silence("lead", 500*time.Millisecond)}
	for i, l := range script {
		raw := filepath.Join(d.dir, fmt.Sprintf("say%d-raw.wav", i))
		wav := filepath.Join(d.dir, fmt.Sprintf("say%d.wav", i))
		if out, err := exec.CommandContext(ctx, "flite", "-voice", l.voice, "-t", l.text, "-o", raw).CombinedOutput(); err != nil {
			return "", 0, fmt.Errorf("flite: %v: %s", err, out)
		}
		if out, err := exec.CommandContext(ctx, "sox", raw, "-r", "16000", "-c", "1", "-b", "16", wav).CombinedOutput(); err != nil {
			return "", 0, fmt.Errorf("sox: %v: %s", err, out)
		}
		parts = append(parts, wav, d.silence(fmt.Sprint(i), l.gap))
		note := ""
		if l.note != "" {
			note = d.paint(" — "+l.note, "2")
		}
		d.printf("    %q (voice %s)%s\n", l.text, l.voice, note)
	}
	all := filepath.Join(d.dir, "spoken.wav")
	if out, err := exec.CommandContext(ctx, "sox", append(parts, all)...).CombinedOutput(); err != nil {
		return "", 0, fmt.Errorf("sox: %v: %s", err, out)
	}
	out, err := exec.CommandContext(ctx, "soxi", "-D", all).Output()
	if err != nil {
		return "", 0, fmt.Errorf("soxi: %w", err)
	}
	var secs float64
	fmt.Sscanf(string(out), "%f", &secs)
	return all, time.Duration(secs * float64(time.Second)), nil
}

func (d *demo) silence(name string, dur time.Duration) string {
	path := filepath.Join(d.dir, "silence-"+name+".wav")
	exec.Command("sox", "-n", "-r", "16000", "-c", "1", "-b", "16", path, "trim", "0", fmt.Sprintf("%.3f", dur.Seconds())).Run()
	return path
}

func (d *demo) writeConfig(wav, broker string) error {
	intents, err := filepath.Abs(d.intents)
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(`device_id: %s
audio: {input: "file:%s"}
speech: {intents: %s}
retention: {dir: %s, window: %s}
mqtt: {broker: "%s", discovery: false}
gpio: {mute_button: "", mute_led: ""}
control: {socket: %s}
`, deviceID, wav, intents, filepath.Join(d.dir, "state"), window, broker, filepath.Join(d.dir, "control.sock"))
	d.config = filepath.Join(d.dir, "earshot.yaml")
	return os.WriteFile(d.config, []byte(cfg), 0o600)
}

func (d *demo) startDaemon(ctx context.Context) (*exec.Cmd, string, error) {
	logPath := filepath.Join(d.dir, "earshot.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, d.earshot, "run", "--config", d.config, "--realtime=true")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start %s: %w (run `make build`)", d.earshot, err)
	}
	c := control.Client{Path: filepath.Join(d.dir, "control.sock")}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := c.Call(ctx, control.Request{Cmd: control.CmdStatus}, nil); err == nil {
			return cmd, logPath, nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			log, _ := os.ReadFile(logPath)
			return nil, "", fmt.Errorf("earshot did not start:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// follow prints hub messages as they arrive until the audio has played out
// and the ForgetLast receipt is in.
func (d *demo) follow(ctx context.Context, length time.Duration) error {
	printed := 0
	deadline := time.After(length + 20*time.Second)
	done := time.After(length)
	finished := false
	for {
		d.mu.Lock()
		msgs := append([]hubMsg(nil), d.hub...)
		d.mu.Unlock()
		for ; printed < len(msgs); printed++ {
			if m := msgs[printed]; m.at >= 0 {
				d.printHubLine(m)
			}
		}
		if finished && d.count("/receipt") >= 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.new:
		case <-done:
			finished = true
		case <-deadline:
			return errors.New("the hub never saw the expected receipts")
		}
	}
}

func (d *demo) onHub(topic string, payload []byte, retained bool) {
	if retained || strings.Contains(topic, "/cmd/") || strings.HasSuffix(topic, "/state") || strings.HasSuffix(topic, "/availability") {
		return
	}
	d.mu.Lock()
	at := time.Duration(-1) // printed by its step, not live
	if !d.start.IsZero() {
		at = time.Since(d.start)
	}
	d.hub = append(d.hub, hubMsg{at: at, topic: topic, payload: string(payload)})
	d.mu.Unlock()
	select {
	case d.new <- struct{}{}:
	default:
	}
}

func (d *demo) count(suffix string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, m := range d.hub {
		if strings.HasSuffix(m.topic, suffix) {
			n++
		}
	}
	return n
}

func (d *demo) waitHub(ctx context.Context, timeout time.Duration, cond func(hubMsg) bool) error {
	deadline := time.After(timeout)
	for {
		d.mu.Lock()
		for _, m := range d.hub {
			if cond(m) {
				d.mu.Unlock()
				return nil
			}
		}
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.new:
		case <-deadline:
			return errors.New("the hub's delete was not answered")
		}
	}
}

func (d *demo) printHub(sel func(hubMsg) bool) {
	d.mu.Lock()
	msgs := append([]hubMsg(nil), d.hub...)
	d.mu.Unlock()
	for _, m := range msgs {
		if sel(m) && !strings.HasSuffix(m.topic, "/reply") {
			d.printHubLine(m)
		}
	}
}

func (d *demo) printHubLine(m hubMsg) {
	when := "      "
	if m.at >= 0 {
		when = fmt.Sprintf("%5.1fs", m.at.Seconds())
	}
	d.printf("    %s  %s %s\n", when, d.paint("hub ←", "36"), summarize(m))
}

// summarize renders a hub message in one readable line.
func summarize(m hubMsg) string {
	kind := m.topic[strings.LastIndex(m.topic, "/")+1:]
	var v map[string]any
	json.Unmarshal([]byte(m.payload), &v)
	switch kind {
	case "action":
		return fmt.Sprintf("action   %-10v %s", v["intent"], slots(v["slots"]))
	case "receipt":
		return fmt.Sprintf("receipt  %-10v %v record(s) deleted", v["scope"], v["records"])
	case "reply":
		if v["ok"] == true {
			return fmt.Sprintf("reply    %-10v ok", v["id"])
		}
		return fmt.Sprintf("reply    %-10v refused: %v", v["id"], v["error"])
	}
	return kind + " " + m.payload
}

func slots(v any) string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// sideBySide prints what the hub received beside what the device keeps.
func (d *demo) sideBySide(history string) {
	d.mu.Lock()
	var left []string
	for _, m := range d.hub {
		left = append(left, summarize(m))
	}
	d.mu.Unlock()
	right := strings.Split(strings.TrimRight(history, "\n"), "\n")
	const w = 46
	d.printf("    %s │ %s\n", d.paint(pad("WHAT THE HUB RECEIVED (MQTT)", w), "1;36"), d.paint("WHAT THE DEVICE KEEPS (earshot history)", "1;33"))
	d.printf("    %s┼%s\n", strings.Repeat("─", w+1), strings.Repeat("─", 60))
	for i := 0; i < max(len(left), len(right)); i++ {
		l, r := "", ""
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		d.printf("    %s │ %s\n", pad(l, w), r)
	}
	d.printf("    %s\n", d.paint("The transcripts exist only on the right, encrypted at rest, until the window or you delete them.", "2"))
}

func pad(s string, w int) string {
	if r := []rune(s); len(r) > w {
		return string(r[:w-1]) + "…"
	}
	return s + strings.Repeat(" ", w-len([]rune(s)))
}

// checkDisk shows that no word that was said is on disk in plaintext.
func (d *demo) checkDisk() {
	var files, hits int
	filepath.WalkDir(filepath.Join(d.dir, "state"), func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		files++
		data, _ := os.ReadFile(path)
		for _, w := range []string{"kitchen", "timer", "weather", "bedroom", "jarvis", "RIFF"} {
			if bytes.Contains(bytes.ToLower(data), []byte(strings.ToLower(w))) {
				hits++
			}
		}
		return nil
	})
	d.printf("    on disk: %d store file(s), %d plaintext occurrence(s) of a spoken word or a WAV header\n", files, hits)
}

func (d *demo) cli(args ...string) (string, error) {
	out, err := exec.Command(d.earshot, append(args, "--config", d.config)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("earshot %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (d *demo) title() {
	d.printf("%s\n%s\n", d.paint("earshot demo", "1"),
		"The speaker understands commands itself; the hub gets only the action, the device keeps the words — briefly.")
}

func (d *demo) step(n int, what string) {
	d.printf("\n%s %s\n", d.paint(fmt.Sprintf("[%d/6]", n), "1;35"), what)
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

func (d *demo) paint(s, code string) string {
	if !d.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// windowBetweenFirstTwo picks a window that the first command has outlived
// and the second has not, so exactly the oldest record expires.
func (d *demo) windowBetweenFirstTwo() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	var at []time.Duration
	for _, m := range d.hub {
		if strings.HasSuffix(m.topic, "/action") && m.at >= 0 {
			at = append(at, m.at)
		}
	}
	if len(at) < 2 {
		return 5 * time.Second
	}
	now := time.Since(d.start)
	oldest, next := now-at[0], now-at[1]
	return ((oldest + next) / 2).Round(time.Second)
}
