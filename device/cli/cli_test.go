package cli

import (
	"github.com/earshot/earshot/audio/embedding/embeddingtest"

	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/retention"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &Env{Stdout: &out, Stderr: &errb, Version: "test"})
	return out.String(), errb.String(), code
}

// fakeDaemon serves the control socket with canned answers.
type fakeDaemon struct{ deleted []control.Request }

func (f *fakeDaemon) Status() control.Status {
	old := time.Now().Add(-90 * time.Minute)
	return control.Status{DeviceID: "den", Muted: true, MuteSource: "button", Window: "2h", Ceiling: "24h",
		Records: 2, Bytes: 3 << 20, Oldest: &old, Hub: "connected", FramesRead: 42}
}

func (f *fakeDaemon) History(since time.Time) ([]control.HistoryEntry, error) {
	return []control.HistoryEntry{
		{ID: "01AAA", Time: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), Intent: "LightsOn", Slots: map[string]string{"room": "living room"},
			Transcript: "turn on the living room lights", Duration: 2300 * time.Millisecond},
		{ID: "01BBB", Time: time.Date(2026, 11, 27, 8, 5, 0, 0, time.UTC), Transcript: "", Duration: time.Second},
	}, nil
}

func (f *fakeDaemon) Audio(id string) (control.Audio, error) {
	if id != "01AAA" {
		return control.Audio{}, retention.ErrNotFound
	}
	return control.Audio{ID: id, SampleRate: 16000, PCM: control.EncodePCM([]int16{1, -1, 300, -300})}, nil
}

func (f *fakeDaemon) Delete(req control.Request) (control.DeleteResult, error) {
	f.deleted = append(f.deleted, req)
	t := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	return control.DeleteResult{Receipts: []retention.Receipt{{ID: "01RRR", Time: t, Scope: retention.ScopeAll, Records: 2, Bytes: 4096, Oldest: &t, Newest: &t}}}, nil
}

func (f *fakeDaemon) Mute(string) error   { return nil }
func (f *fakeDaemon) Unmute(string) error { return retentionErr("muted at device") }

type retentionErr string

func (e retentionErr) Error() string { return string(e) }

// serve runs a control server and returns a config file pointing at it.
func serve(t *testing.T, svc control.Service) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "c.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&control.Server{Path: sock, Service: svc}).Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for (control.Client{Path: sock}).Call(ctx, control.Request{Cmd: control.CmdStatus}, nil) != nil {
		if time.Now().After(deadline) {
			t.Fatal("control socket never came up")
		}
		time.Sleep(5 * time.Millisecond) // polling for the listener
	}
	return writeConfig(t, dir, "control: {socket: "+sock+"}\n")
}

func writeConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	intents, _ := filepath.Abs("../../configs/intents.yaml")
	path := filepath.Join(dir, "earshot.yaml")
	body := "device_id: den\nspeech: {intents: " + intents + "}\nwake: {models: " + embeddingtest.Dir(t) + "}\nretention: {dir: " + filepath.Join(dir, "state") + "}\n" + extra
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	noDaemon := writeConfig(t, dir, "control: {socket: "+filepath.Join(dir, "none.sock")+"}\n")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("device_id: den\nretention:\n  window: forever\n"), 0o600)
	tests := []struct {
		args []string
		code int
		want string // in stderr
	}{
		{nil, ExitUsage, "usage:"},
		{[]string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{[]string{"status", "--config", noDaemon}, ExitUnreachable, "daemon unreachable"},
		{[]string{"history", "--config", noDaemon}, ExitUnreachable, "is the daemon running"},
		{[]string{"delete", "--config", noDaemon}, ExitUsage, "exactly one of --all"},
		{[]string{"delete", "01AAA", "--all", "--config", noDaemon}, ExitUsage, "exactly one of"},
		{[]string{"history", "--since", "last tuesday", "--config", noDaemon}, ExitUsage, "--since: want RFC 3339"},
		{[]string{"status", "extra", "--config", noDaemon}, ExitUsage, `unexpected argument "extra"`},
		{[]string{"status", "--bogus"}, ExitUsage, "flag provided but not defined"},
		{[]string{"export", "01AAA", "--config", noDaemon}, ExitUsage, "-o FILE.wav"},
		{[]string{"check-config", bad}, ExitUsage, "bad.yaml:3: retention.window"},
		{[]string{"purge", "--config", bad}, ExitUsage, "bad.yaml:3:"},
		{[]string{"status", "--config", filepath.Join(dir, "missing.yaml")}, ExitUsage, "missing.yaml"},
		{[]string{"eval", "--config", noDaemon}, ExitUsage, "--corpus DIR is required"},
		{[]string{"eval", "--corpus", dir, "--log-level", "loud", "--config", noDaemon}, ExitUsage, "--log-level"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("earshot %v: exit %d, stderr %q; want exit %d with %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := writeConfig(t, dir, "")
	out, stderr, code := runCLI(t, "check-config", good)
	if code != 0 || !strings.Contains(out, "ok (") || !strings.Contains(out, "grammar: 38 states, 90 transitions, 48 words") || strings.Contains(stderr, "large") {
		t.Errorf("good config: exit %d\n%s%s", code, out, stderr)
	}
	// A word the recogniser could never hear is caught before the daemon runs.
	odd := filepath.Join(dir, "odd.yaml")
	os.WriteFile(odd, []byte("intents:\n  Dance: [\"do the flibbertigibbetz\"]\n"), 0o600)
	cfg := filepath.Join(dir, "odd-earshot.yaml")
	os.WriteFile(cfg, []byte("device_id: den\nspeech: {intents: "+odd+"}\nwake: {models: "+embeddingtest.Dir(t)+"}\n"), 0o600)
	_, stderr, code = runCLI(t, "check-config", cfg)
	if code != ExitUsage || !strings.Contains(stderr, "flibbertigibbetz") || !strings.Contains(stderr, "not in the speech dictionary") {
		t.Errorf("unknown word: exit %d, %s", code, stderr)
	}
	// A grammar past the sizes that decode cheaply is reported, and
	// still valid. Random runs of number words share little, so 100 of
	// them make hundreds of states.
	numbers := strings.Fields("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty")
	rng := mrand.New(mrand.NewPCG(22, 4))
	var big strings.Builder
	big.WriteString("intents:\n  Count:\n")
	for range 100 {
		var words []string
		for range 10 {
			words = append(words, numbers[rng.IntN(len(numbers))])
		}
		big.WriteString("    - \"count " + strings.Join(words, " ") + "\"\n")
	}
	os.WriteFile(odd, []byte(big.String()), 0o600)
	out, stderr, code = runCLI(t, "check-config", cfg)
	if code != 0 || !strings.Contains(stderr, "odd.yaml: the command grammar is large") || !strings.Contains(out, "grammar: ") {
		t.Errorf("large grammar: exit %d\n%s%s", code, out, stderr)
	}
	// A broken intents file names its line.
	os.WriteFile(odd, []byte("intents:\n  Dance: [\"do the (tango\"]\n"), 0o600)
	_, stderr, code = runCLI(t, "check-config", cfg)
	if code != ExitUsage || !strings.Contains(stderr, "odd.yaml:2") {
		t.Errorf("broken intents: exit %d, %s", code, stderr)
	}
}

func TestClientCommandsAgainstADaemon(t *testing.T) {
	fd := &fakeDaemon{}
	cfg := serve(t, fd)

	out, _, code := runCLI(t, "status", "--config", cfg)
	for _, want := range []string{"yes, by button (microphone stopped)", "2h (shortened from 24h)", "records      2", "3.0 MiB", "connected", "1h30m0s ago"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	out, _, code = runCLI(t, "history", "--config", cfg)
	for _, want := range []string{"ID", "TRANSCRIPT", "room=living room", "\"turn on the living room lights\"", "2.3s", "(not understood)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runCLI(t, "history", "--json", "--config", cfg)
	if !strings.Contains(out, `"transcript": "turn on the living room lights"`) {
		t.Errorf("history --json:\n%s", out)
	}

	out, _, code = runCLI(t, "delete", "--all", "--config", cfg)
	if code != 0 || !strings.Contains(out, "deleted 2 record(s), 4.0 KiB (scope all") || !strings.Contains(out, "receipt 01RRR") {
		t.Errorf("delete --all: %d\n%s", code, out)
	}
	runCLI(t, "delete", "--before", "2026-11-27", "--config", cfg)
	if len(fd.deleted) != 2 || !fd.deleted[0].All || fd.deleted[1].Before == nil {
		t.Errorf("daemon saw deletes %+v", fd.deleted)
	}

	_, stderr, code := runCLI(t, "unmute", "--config", cfg)
	if code != ExitUsage || !strings.Contains(stderr, "muted at device") {
		t.Errorf("refused unmute: %d %s", code, stderr)
	}
}

func TestExportWritesAPrivateWAVAndNeverOverwrites(t *testing.T) {
	cfg := serve(t, &fakeDaemon{})
	wav := filepath.Join(t.TempDir(), "x.wav")
	out, stderr, code := runCLI(t, "export", "01AAA", "-o", wav, "--config", cfg)
	if code != 0 {
		t.Fatalf("export: %d %s%s", code, out, stderr)
	}
	fi, err := os.Stat(wav)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("exported file: %v %v", fi, err)
	}
	f, _ := os.Open(wav)
	pcm, rate, err := capture.ReadWAV(f)
	f.Close()
	if err != nil || rate != 16000 || len(pcm) != 4 || pcm[2] != 300 || pcm[3] != -300 {
		t.Errorf("exported WAV: %v %d %v", pcm, rate, err)
	}
	if _, _, code := runCLI(t, "export", "01AAA", "-o", wav, "--config", cfg); code == 0 {
		t.Error("export overwrote an existing file")
	}
	_, stderr, code = runCLI(t, "export", "01ZZZ", "-o", wav+"2", "--config", cfg)
	if code == 0 || !strings.Contains(stderr, "not found") {
		t.Errorf("export of an unknown id: %d %s", code, stderr)
	}
	if _, err := os.Stat(wav + "2"); !os.IsNotExist(err) {
		t.Error("a failed export left a file")
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 15, 4, 5, 0, time.Local)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"today", time.Date(2026, 11, 27, 0, 0, 0, 0, time.Local)},
		{"2h", now.Add(-2 * time.Hour)},
		{"1d", now.Add(-24 * time.Hour)},
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.Local)},
		{"2026-11-20 08:30", time.Date(2026, 11, 20, 8, 30, 0, 0, time.Local)},
		{"2026-11-20T08:30:00Z", time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday-ish", "-2h", "0s", "2026-13-01"} {
		if _, err := parseTime(bad, now); err == nil {
			t.Errorf("parseTime(%q) accepted", bad)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, "version")
	if code != 0 || !strings.Contains(out, "earshot test") || !strings.Contains(out, "engine") {
		t.Errorf("version: %d\n%s", code, out)
	}
}

// check-config said ok for configs `earshot run` then refused. Both now go
// through daemon.Check: each config here fails both, with the same
// FILE:LINE: key: reason, and every problem of a file is reported at once.
func TestCheckConfigRefusesWhatRunRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pass := write("mqtt.pass", "s3cret\n", 0o600)
	empty := write("empty.pass", "", 0o600)
	notPEM := write("ca.pem", "not a certificate", 0o600)
	notWAV := write("not.wav", "RIFF? no", 0o600)
	regular := write("notes.txt", "keep me", 0o600)
	passDir := filepath.Join(dir, "pass.d")
	os.Mkdir(passDir, 0o700)
	cert, key, otherKey := testKeyPair(t, dir)
	// A finite language whose deterministic automaton is exponential in its
	// spelling (audio/intents TestCommandLanguageTooLarge): the command
	// grammar cannot be compiled for the decoder.
	var huge strings.Builder
	huge.WriteString("intents:\n  X:\n")
	for j := range 18 {
		huge.WriteString("    - \"" + strings.Repeat("(a | b) ", j) + "a" + strings.Repeat(" (a | b)", 18) + "\"\n")
	}
	tooLarge := write("too-large.yaml", huge.String(), 0o600)

	tests := []struct {
		name, yaml string
		want       []string
		intents    string // the intents file [configs/intents.yaml]
	}{
		{"plaintext to the network", "mqtt: {broker: \"tcp://192.0.2.7:1883\"}", []string{"c.yaml:5: mqtt.broker:", "plaintext", "allow_insecure"}, ""},
		{"plain ws to the network", "mqtt: {broker: \"ws://192.0.2.7/mqtt\"}", []string{"c.yaml:5: mqtt.broker:", "allow_insecure"}, ""},
		{"port out of range", "mqtt: {broker: \"tcp://127.0.0.1:99999\"}", []string{"c.yaml:5: mqtt.broker:", "port 99999"}, ""},
		{"missing password file", "mqtt: {broker: \"tcp://127.0.0.1\", username: e, password_file: " + filepath.Join(dir, "none") + "}", []string{"c.yaml:5: mqtt.password_file:", "no such file"}, ""},
		{"empty password file", "mqtt: {broker: \"tcp://127.0.0.1\", username: e, password_file: " + empty + "}", []string{"c.yaml:5: mqtt.password_file:", "empty"}, ""},
		{"password file is a directory", "mqtt: {broker: \"tcp://127.0.0.1\", username: e, password_file: " + passDir + "}", []string{"c.yaml:5: mqtt.password_file:", "is a directory"}, ""},
		{"password without user", "mqtt: {broker: \"tcp://127.0.0.1\", password_file: " + pass + "}", []string{"c.yaml:1: mqtt.username:", "(default value)"}, ""},
		{"missing ca file", "mqtt: {broker: \"ssl://127.0.0.1\", ca_file: " + filepath.Join(dir, "none.pem") + "}", []string{"c.yaml:5: mqtt.ca_file:", "no such file"}, ""},
		{"unparsable ca file", "mqtt: {broker: \"ssl://127.0.0.1\", ca_file: " + notPEM + "}", []string{"c.yaml:5: mqtt.ca_file:", "no PEM certificates"}, ""},
		{"key not matching its certificate", "mqtt: {broker: \"ssl://127.0.0.1\", cert_file: " + cert + ", key_file: " + otherKey + "}", []string{"c.yaml:5: mqtt.key_file:", "does not match"}, ""},
		{"missing input file", "audio: {input: \"file:" + filepath.Join(dir, "none.wav") + "\"}", []string{"c.yaml:5: audio.input:", "none.wav"}, ""},
		{"input not a WAV", "audio: {input: \"file:" + notWAV + "\"}", []string{"c.yaml:5: audio.input:", "not.wav"}, ""},
		{"control socket is a file", "control: {socket: " + regular + "}", []string{"c.yaml:5: control.socket:", "a regular file, not a socket"}, ""},
		{"wake word not in the dictionary", "wake: {phrase: hey jarvisx}", []string{"c.yaml:5: wake.phrase: words not in the speech dictionary", "jarvisx"}, ""},
		{"all at once", "mqtt: {broker: \"tcp://192.0.2.7\", cert_file: " + cert + ", key_file: " + key + "}\ncontrol: {socket: " + regular + "}",
			[]string{"c.yaml:5: mqtt.broker:", "c.yaml:5: mqtt.cert_file: set, but mqtt.broker", "c.yaml:6: control.socket:"}, ""},
		{"command grammar too large to compile", "", []string{"too-large.yaml: command language: grammar too large"}, tooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			intents := tc.intents
			if intents == "" {
				intents, _ = filepath.Abs("../../configs/intents.yaml")
			}
			sub := t.TempDir()
			cfg := filepath.Join(sub, "c.yaml")
			body := "device_id: den\nspeech: {intents: " + intents + "}\nretention: {dir: " + filepath.Join(sub, "state") + "}\n" +
				"gpio: {mute_button: \"\", mute_led: \"\"}\n" + tc.yaml + "\n"
			if !strings.Contains(tc.yaml, "control:") {
				body += "control: {socket: " + filepath.Join(sub, "c.sock") + "}\n"
			}
			os.WriteFile(cfg, []byte(body), 0o600)
			_, checkErr, code := runCLI(t, "check-config", cfg)
			if code != ExitUsage {
				t.Errorf("check-config: exit %d, want %d\n%s", code, ExitUsage, checkErr)
			}
			for _, w := range tc.want {
				if !strings.Contains(checkErr, w) {
					t.Errorf("check-config said\n%s\nwithout %q", checkErr, w)
				}
			}
			_, runErr, code := runCLI(t, "run", "--config", cfg)
			if code != ExitUsage {
				t.Errorf("run: exit %d\n%s", code, runErr)
			}
			if got, want := strings.TrimPrefix(runErr, "earshot run: "), strings.TrimPrefix(checkErr, "earshot check-config: "); got != want {
				t.Errorf("run and check-config disagree:\nrun:          %s\ncheck-config: %s", got, want)
			}
		})
	}
}

// testKeyPair writes a self-signed certificate with its key, and a key of
// another pair.
func testKeyPair(t *testing.T, dir string) (cert, key, otherKey string) {
	t.Helper()
	writeKey := func(name string) (*ecdsa.PrivateKey, string) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalECPrivateKey(k)
		p := filepath.Join(dir, name)
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
		return k, p
	}
	k, key := writeKey("device.key")
	_, otherKey = writeKey("other.key")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "device"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert = filepath.Join(dir, "device.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	return cert, key, otherKey
}

// Help is output the user asked for: stdout and exit 0, at every level.
// A usage error is stderr and exit 1, said once.
func TestHelpVersionAndUsage(t *testing.T) {
	tests := []struct {
		args               []string
		code               int
		stdout, stderr     []string // substrings
		noStdout, noStderr bool
	}{
		{args: []string{"--help"}, stdout: []string{"usage:", "earshot play ID", "earshot version"}, noStderr: true},
		{args: []string{"-h"}, stdout: []string{"usage:"}, noStderr: true},
		{args: []string{"help"}, stdout: []string{"usage:"}, noStderr: true},
		{args: []string{"help", "delete"}, stdout: []string{"usage: earshot delete ID… | --all | --before T | --since T", "-before"}, noStderr: true},
		{args: []string{"play", "--help"}, stdout: []string{"usage: earshot play ID", "play a recording", "-device", "-config"}, noStderr: true},
		{args: []string{"export", "-h"}, stdout: []string{"usage: earshot export ID -o F.wav", "-o"}, noStderr: true},
		{args: []string{"check-config", "--help"}, stdout: []string{"usage: earshot check-config F"}, noStderr: true},
		{args: []string{"--version"}, stdout: []string{"earshot test", "engine"}, noStderr: true},
		{args: nil, code: ExitUsage, stderr: []string{"usage:"}, noStdout: true},
		{args: []string{"help", "frobnicate"}, code: ExitUsage, stderr: []string{`unknown command "frobnicate"`}, noStdout: true},
	}
	for _, tt := range tests {
		out, errOut, code := runCLI(t, tt.args...)
		if code != tt.code {
			t.Errorf("earshot %v: exit %d, want %d", tt.args, code, tt.code)
		}
		for _, w := range tt.stdout {
			if !strings.Contains(out, w) {
				t.Errorf("earshot %v: stdout lacks %q:\n%s", tt.args, w, out)
			}
		}
		for _, w := range tt.stderr {
			if !strings.Contains(errOut, w) {
				t.Errorf("earshot %v: stderr lacks %q:\n%s", tt.args, w, errOut)
			}
		}
		if tt.noStderr && errOut != "" {
			t.Errorf("earshot %v: stderr %q, want nothing", tt.args, errOut)
		}
		if tt.noStdout && out != "" {
			t.Errorf("earshot %v: stdout %q, want nothing", tt.args, out)
		}
	}
	// An unknown flag is reported once, with the command's usage once.
	_, errOut, code := runCLI(t, "status", "--bogus")
	if code != ExitUsage || strings.Count(errOut, "flag provided but not defined: -bogus") != 1 || strings.Count(errOut, "usage: earshot status") != 1 {
		t.Errorf("unknown flag: exit %d, stderr:\n%s", code, errOut)
	}
}

// history --json gave durations in nanoseconds; it is seconds, a number.
func TestHistoryJSONShape(t *testing.T) {
	cfg := serve(t, &fakeDaemon{})
	out, _, code := runCLI(t, "history", "--json", "--config", cfg)
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || len(got) != 2 {
		t.Fatalf("history --json: exit %d, %v\n%s", code, err, out)
	}
	if got[0]["duration"] != 2.3 || got[1]["duration"] != 1.0 {
		t.Errorf("durations %v, %v: want seconds (2.3, 1)", got[0]["duration"], got[1]["duration"])
	}
	for _, k := range []string{"id", "time", "intent", "slots", "transcript", "duration"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("history entry lacks %q: %v", k, got[0])
		}
	}
}

// The manual page (docs/earshot.1, installed as earshot(1)) names every
// command the binary has.
func TestManualPageNamesEveryCommand(t *testing.T) {
	page, err := os.ReadFile("../../docs/earshot.1")
	if err != nil {
		t.Fatal(err)
	}
	for name := range commands() {
		if !strings.Contains(string(page), "earshot "+strings.ReplaceAll(name, "-", `\-`)) {
			t.Errorf("docs/earshot.1 does not describe `earshot %s`", name)
		}
	}
}
