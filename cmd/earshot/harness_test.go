package main

// The end-to-end harness: the real earshot binary as a process, a real
// mosquitto, speech generated with flite and sox, and the real CLI.

import (
	"github.com/earshot/earshot/audio/embedding/embeddingtest"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/device/hub/mosquittotest"
	"github.com/earshot/earshot/internal/syncbuf"
)

var binary string // built once in TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "earshot-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "earshot")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build earshot:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need fails the test when a tool is missing in CI, and skips it elsewhere.
func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing; `make deps` installs it", tool)
			}
			t.Skipf("%s not installed (make deps)", tool)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond) // polling, with a deadline
	}
}

// ---- speech ----

type utterance struct {
	text, voice string
}

// speak renders utterances with flite, 16 kHz mono, separated by silence,
// into one WAV, and returns its path.
func speak(t testing.TB, dir, name string, gap time.Duration, us ...utterance) string {
	t.Helper()
	need(t, "flite", "sox")
	sil := filepath.Join(dir, "silence.wav")
	run(t, "sox", "-n", "-r", "16000", "-c", "1", "-b", "16", sil, "trim", "0", fmt.Sprintf("%.3f", gap.Seconds()))
	parts := []string{sil}
	for i, u := range us {
		raw := filepath.Join(dir, fmt.Sprintf("%s-%d-raw.wav", name, i))
		out := filepath.Join(dir, fmt.Sprintf("%s-%d.wav", name, i))
		run(t, "flite", "-voice", u.voice, "-t", u.text, "-o", raw)
		run(t, "sox", raw, "-r", "16000", "-c", "1", "-b", "16", out)
		parts = append(parts, out, sil)
	}
	path := filepath.Join(dir, name+".wav")
	run(t, "sox", append(parts, path)...)
	return path
}

// silence writes a WAV of silence of length d.
func silence(t testing.TB, dir string, d time.Duration) string {
	t.Helper()
	need(t, "sox")
	path := filepath.Join(dir, fmt.Sprintf("silence-%s.wav", d))
	run(t, "sox", "-n", "-r", "16000", "-c", "1", "-b", "16", path, "trim", "0", fmt.Sprintf("%.3f", d.Seconds()))
	return path
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// ---- the hub's view ----

// message is one MQTT message seen by the spy.
type message = mosquittotest.Message

// spy is the hub's view: every topic, for the whole test.
type spy struct{ *mosquittotest.Watcher }

func newSpy(t testing.TB, b *mosquittotest.Broker) *spy {
	t.Helper()
	return &spy{mosquittotest.Watch(t, b, "#")}
}

func (s *spy) all() []message { return s.Messages() }

// on returns the messages seen on topics ending in suffix.
func (s *spy) on(suffix string) []message {
	var out []message
	for _, m := range s.all() {
		if strings.HasSuffix(m.Topic, suffix) {
			out = append(out, m)
		}
	}
	return out
}

func (s *spy) publish(t testing.TB, topic, payload string) {
	t.Helper()
	s.Publish(t, topic, payload)
}

// ---- the daemon ----

type daemonProc struct {
	t      testing.TB
	dir    string
	config string
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	exited chan error
}

// writeConfig writes an earshot config into dir from the shipped example,
// with overrides given as YAML sections.
func writeConfig(t testing.TB, dir string, sections map[string]string) string {
	t.Helper()
	base := map[string]string{
		"device_id": "device_id: test-speaker",
		"audio":     "audio:\n  input: default\n  preroll: 1s",
		"wake":      wakeSection(t),
		"speech":    "speech:\n  intents: " + absPath(t, "../../configs/intents.yaml") + "\n  max_utterance: 8s\n  end_silence: 700ms",
		"retention": "retention:\n  dir: " + filepath.Join(dir, "state") + "\n  window: 1h\n  max_bytes: 64MiB",
		"mqtt":      "mqtt:\n  broker: \"\"",
		"gpio":      "gpio:\n  mute_button: \"\"\n  mute_led: \"\"",
		"control":   "control:\n  socket: " + filepath.Join(dir, "control.sock"),
	}
	for k, v := range sections {
		base[k] = v
	}
	var b strings.Builder
	for _, k := range []string{"device_id", "audio", "wake", "speech", "retention", "mqtt", "gpio", "control"} {
		b.WriteString(base[k] + "\n")
	}
	path := filepath.Join(dir, "earshot.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wakeSection is writeConfig's wake section: hey jarvis, with the
// models of a source tree.
func wakeSection(t testing.TB) string {
	return "wake:\n  phrase: hey jarvis\n  sensitivity: 0.5\n  models: " + embeddingtest.Dir(t)
}

func absPath(t testing.TB, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// startDaemon runs `earshot run` and waits until its control socket answers.
func startDaemon(t testing.TB, config string, env []string, args ...string) *daemonProc {
	t.Helper()
	return startDaemonBin(t, binary, config, env, args...)
}

// startDaemonBin is startDaemon with another build of the binary.
func startDaemonBin(t testing.TB, bin, config string, env []string, args ...string) *daemonProc {
	t.Helper()
	d := &daemonProc{t: t, dir: filepath.Dir(config), config: config, stderr: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	d.cmd = exec.Command(bin, append([]string{"run", "--config", config}, args...)...)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stderr = d.stderr
	d.cmd.Stdout = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st control.Status
		if err := d.call(control.Request{Cmd: control.CmdStatus}, &st); err == nil {
			return d
		}
		select {
		case err := <-d.exited:
			t.Fatalf("daemon exited at start: %v\n%s", err, d.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not come up:\n%s", d.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemonProc) call(req control.Request, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return control.Client{Path: filepath.Join(d.dir, "control.sock")}.Call(ctx, req, out)
}

func (d *daemonProc) status() control.Status {
	d.t.Helper()
	var st control.Status
	if err := d.call(control.Request{Cmd: control.CmdStatus}, &st); err != nil {
		d.t.Fatalf("status: %v", err)
	}
	return st
}

func (d *daemonProc) history() []control.HistoryEntry {
	d.t.Helper()
	var h []control.HistoryEntry
	if err := d.call(control.Request{Cmd: control.CmdHistory}, &h); err != nil {
		d.t.Fatalf("history: %v", err)
	}
	return h
}

// signal sends sig and waits for the process to exit.
func (d *daemonProc) stop(sig syscall.Signal, timeout time.Duration) error {
	d.t.Helper()
	d.cmd.Process.Signal(sig)
	select {
	case err := <-d.exited:
		return err
	case <-time.After(timeout):
		d.t.Fatalf("daemon still running %s after %v", timeout, sig)
		return nil
	}
}

// earshot runs the binary and returns stdout, stderr and the exit code.
func earshot(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func decodeJSON(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
