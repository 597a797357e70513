package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/device/hub/mosquittotest"
	"github.com/earshot/earshot/retention"
)

// TestDaemonServesVoiceCommandsToHub runs the real binary on spoken
// commands with a real mosquitto: action records arrive with only intent and
// slots, the device keeps the transcripts, a CLI wipe empties the history
// and publishes a receipt, and SIGTERM leaves "offline" retained.
func TestDaemonServesVoiceCommandsToHub(t *testing.T) {
	dir := t.TempDir()
	b := mosquittotest.Start(t)
	sp := newSpy(t, b)
	wav := speak(t, dir, "commands", 1500*time.Millisecond,
		utterance{"hey jarvis, turn on the kitchen lights", "slt"},
		utterance{"hey jarvis, set a timer for five minutes", "rms"},
	)
	cfg := writeConfig(t, dir, map[string]string{
		"audio": "audio:\n  input: \"file:" + wav + "\"\n  preroll: 1s",
		"mqtt":  "mqtt:\n  broker: " + b.URL + "\n  topic_prefix: earshot\n  discovery: true",
	})
	d := startDaemon(t, cfg, nil, "--realtime=false")

	waitFor(t, "two action records at the broker", 60*time.Second, func() bool { return len(sp.on("/action")) >= 2 })
	var got []map[string]any
	for _, m := range sp.on("/action") {
		if m.Topic != "earshot/test-speaker/action" {
			t.Errorf("action on topic %s", m.Topic)
		}
		var a map[string]any
		decodeJSON(t, m.Payload, &a)
		keys := make([]string, 0, len(a))
		for k := range a {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if strings.Join(keys, ",") != "device,id,intent,keep_until,slots,time" {
			t.Errorf("action record fields = %v, want exactly id, device, time, intent, slots, keep_until", keys)
		}
		// The hub may keep it as long as the device keeps its record: the 1h window.
		at, _ := time.Parse(time.RFC3339, fmt.Sprint(a["time"]))
		until, _ := time.Parse(time.RFC3339, fmt.Sprint(a["keep_until"]))
		if d := until.Sub(at); d < time.Hour-time.Second || d > time.Hour+time.Second {
			t.Errorf("keep_until %v is %v after time %v, want the 1h window", a["keep_until"], d, a["time"])
		}
		got = append(got, a)
	}
	if got[0]["intent"] != "LightsOn" || got[0]["slots"].(map[string]any)["room"] != "kitchen" {
		t.Errorf("first action = %v", got[0])
	}
	if got[1]["intent"] != "SetTimer" || got[1]["slots"].(map[string]any)["minutes"] != "5" {
		t.Errorf("second action = %v", got[1])
	}

	// The device keeps what was said, under the same ids the hub saw.
	h := d.history()
	if len(h) != 2 {
		t.Fatalf("history has %d records, want 2: %+v", len(h), h)
	}
	if h[0].Transcript != "turn on the kitchen lights" || h[0].ID != got[0]["id"] {
		t.Errorf("history[0] = %+v, action id %v", h[0], got[0]["id"])
	}
	out, _, code := earshot(t, "history", "--config", cfg)
	if code != 0 || !strings.Contains(out, "set a timer for five minutes") || !strings.Contains(out, "minutes=5") {
		t.Errorf("earshot history (exit %d):\n%s", code, out)
	}

	// Nothing said but slot values reached the hub.
	for _, m := range sp.all() {
		for _, w := range []string{"turn", "jarvis", "set a", "five", "the kitchen"} {
			if strings.Contains(strings.ToLower(string(m.Payload)), w) {
				t.Errorf("%s carries %q: %s", m.Topic, w, m.Payload)
			}
		}
	}

	// A CLI wipe empties the history and publishes a receipt.
	out, errOut, code := earshot(t, "delete", "--all", "--config", cfg)
	if code != 0 || !strings.Contains(out, "deleted 2 record(s)") {
		t.Fatalf("delete --all: exit %d\n%s%s", code, out, errOut)
	}
	if h := d.history(); len(h) != 0 {
		t.Errorf("history after delete --all: %+v", h)
	}
	waitFor(t, "the all receipt", 10*time.Second, func() bool {
		for _, m := range sp.on("/receipt") {
			var r struct {
				Scope   string `json:"scope"`
				Records int    `json:"records"`
			}
			json.Unmarshal(m.Payload, &r)
			if r.Scope == "all" && r.Records == 2 {
				return true
			}
		}
		return false
	})
	if st := d.status(); st.Records != 0 || st.Hub != "connected" {
		t.Errorf("status after wipe = %+v", st)
	}

	// SIGTERM: a clean, prompt exit that leaves "offline" retained.
	start := time.Now()
	if err := d.stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	t.Logf("SIGTERM to exit: %v", time.Since(start))
	if _, err := os.Stat(filepath.Join(dir, "control.sock")); !os.IsNotExist(err) {
		t.Errorf("control socket left behind: %v", err)
	}
	late := newSpy(t, b)
	waitFor(t, "retained availability", 10*time.Second, func() bool { return len(late.on("/availability")) > 0 })
	if m := late.on("/availability")[0]; string(m.Payload) != "offline" || !m.Retained {
		t.Errorf("availability after SIGTERM = %q retained=%v", m.Payload, m.Retained)
	}
}

// TestDaemonKillMidUtterance kills the daemon while it is hearing a command:
// a restart keeps what was stored and brings back nothing deleted.
func TestDaemonKillMidUtterance(t *testing.T) {
	dir := t.TempDir()
	wav := speak(t, dir, "three", 1200*time.Millisecond,
		utterance{"hey jarvis, turn off the bedroom lights", "slt"},
		utterance{"hey jarvis, turn on the office lights", "rms"},
		utterance{"hey jarvis, set a timer for ten minutes", "slt"},
	)
	cfg := writeConfig(t, dir, map[string]string{"audio": "audio:\n  input: \"file:" + wav + "\""})
	d := startDaemon(t, cfg, nil, "--realtime=true")

	waitFor(t, "the first command stored", 60*time.Second, func() bool { return len(d.history()) >= 1 })
	first := d.history()[0]
	var res control.DeleteResult
	if err := d.call(control.Request{Cmd: control.CmdDelete, IDs: []string{first.ID}}, &res); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second command stored", 60*time.Second, func() bool { return len(d.history()) >= 1 })
	kept := d.history()
	// Input is paced in real time: 2 s after the second command was stored,
	// past the 1.2 s gap, the third command is being spoken. Kill then.
	mark := d.status().FramesRead
	waitFor(t, "the third command under way", 60*time.Second, func() bool { return d.status().FramesRead >= mark+100 })
	d.cmd.Process.Kill()
	<-d.exited

	// Restart on silence: what was stored is there, what was deleted is not.
	cfg2 := writeConfig(t, dir, map[string]string{"audio": "audio:\n  input: \"file:" + silence(t, dir, 2*time.Second) + "\""})
	d2 := startDaemon(t, cfg2, nil, "--realtime=false")
	after := d2.history()
	for _, e := range after {
		if e.ID == first.ID {
			t.Errorf("deleted record %s came back after SIGKILL", first.ID)
		}
	}
	for _, k := range kept {
		found := slices.ContainsFunc(after, func(e control.HistoryEntry) bool { return e.ID == k.ID && e.Transcript == k.Transcript })
		if !found {
			t.Errorf("record %s (%q) lost after SIGKILL", k.ID, k.Transcript)
		}
	}
}

// TestSystemdNotifyWatchdogAndReload checks the service integration:
// READY=1 once listening, WATCHDOG=1 from the audio loop, STATUS= lines,
// and SIGHUP reloading intents and a shorter window without dropping the
// audio stream; a broken intents file is refused and the daemon carries on.
func TestSystemdNotifyWatchdogAndReload(t *testing.T) {
	dir := t.TempDir()
	notify := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var mu sync.Mutex
	var got []string
	ready := make(chan time.Time, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			for _, l := range strings.Split(string(buf[:n]), "\n") {
				got = append(got, l)
				if l == "READY=1" {
					select {
					case ready <- time.Now():
					default:
					}
				}
			}
			mu.Unlock()
		}
	}()
	count := func(prefix string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, l := range got {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
		return n
	}

	intents := filepath.Join(dir, "intents.yaml")
	os.WriteFile(intents, []byte("intents:\n  LightsOn: [\"turn on the lights\"]\n"), 0o600)
	cfg := writeConfig(t, dir, map[string]string{
		"audio":  "audio:\n  input: \"file:" + silence(t, dir, 30*time.Second) + "\"",
		"speech": "speech:\n  intents: " + intents,
	})
	start := time.Now()
	d := startDaemon(t, cfg, []string{"NOTIFY_SOCKET=" + notify, "WATCHDOG_USEC=300000"}, "--realtime=true")
	select {
	case at := <-ready:
		t.Logf("start to READY=1: %v", at.Sub(start))
	case <-time.After(30 * time.Second):
		t.Fatal("no READY=1")
	}
	waitFor(t, "watchdog pings from the audio loop", 10*time.Second, func() bool { return count("WATCHDOG=1") >= 3 })
	if count("STATUS=") == 0 {
		t.Error("no STATUS= line")
	}

	frames := d.status().FramesRead
	// Reload: a new intents file and a shorter window.
	os.WriteFile(intents, []byte("intents:\n  LightsOn: [\"turn on the lights\"]\n  LightsOff: [\"turn off the lights\"]\n"), 0o600)
	writeConfig(t, dir, map[string]string{
		"audio":     "audio:\n  input: \"file:" + filepath.Join(dir, "silence-30s.wav") + "\"",
		"speech":    "speech:\n  intents: " + intents,
		"retention": "retention:\n  dir: " + filepath.Join(dir, "state") + "\n  window: 20m",
	})
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reloaded window", 10*time.Second, func() bool { return d.status().Window == "20m" })
	// LightsOn, LightsOff and the two built-ins.
	waitFor(t, "the reload logged with four intents", 10*time.Second, func() bool {
		return regexp.MustCompile(`msg=reloaded .*intents=4`).MatchString(d.stderr.String())
	})
	// A broken intents file is refused; the daemon keeps running and listening.
	os.WriteFile(intents, []byte("intents:\n  LightsOn: [\"turn on the {nothing}\"]\n"), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the refusal", 10*time.Second, func() bool { return strings.Contains(d.stderr.String(), "reload refused") })
	st := d.status()
	if !st.Listening || st.FramesRead <= frames || st.Window != "20m" {
		t.Errorf("after reloads: %+v (frames before %d)", st, frames)
	}
	if err := d.stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Error(err)
	}
	if count("STOPPING=1") != 1 {
		t.Error("no STOPPING=1 on SIGTERM")
	}

	// A file input that has ended (the demo) or a muted microphone reads no
	// frames, and the watchdog must still be fed or systemd kills the daemon.
	for _, tc := range []struct{ name, mute string }{{"input ended", ""}, {"muted", `{"muted":true,"source":"cli"}`}} {
		os.RemoveAll(filepath.Join(dir, "state", "mute.json"))
		if tc.mute != "" {
			os.WriteFile(filepath.Join(dir, "state", "mute.json"), []byte(tc.mute), 0o600)
		}
		cfg := writeConfig(t, dir, map[string]string{"audio": "audio:\n  input: \"file:" + silence(t, dir, 200*time.Millisecond) + "\""})
		d := startDaemon(t, cfg, []string{"NOTIFY_SOCKET=" + notify, "WATCHDOG_USEC=300000"}, "--realtime=false")
		waitFor(t, tc.name+": the frame loop idle", 10*time.Second, func() bool { return !d.status().Listening })
		before := count("WATCHDOG=1")
		waitFor(t, tc.name+": watchdog pings while idle", 10*time.Second, func() bool { return count("WATCHDOG=1") >= before+3 })
		d.stop(syscall.SIGTERM, 10*time.Second)
	}
}

// TestDaemonSurvivesIdleControlClients: with 128 file descriptors and 200
// idle connections to the control socket, the daemon used to fail its
// recordings and then die of "accept4: too many open files". It must keep
// listening and storing, and serve the CLI again.
func TestDaemonSurvivesIdleControlClients(t *testing.T) {
	need(t, "prlimit")
	dir := t.TempDir()
	wav := speak(t, dir, "late", 3*time.Second, utterance{"hey jarvis, turn on the kitchen lights", "slt"})
	wrapper := filepath.Join(dir, "earshot-128")
	os.WriteFile(wrapper, []byte("#!/bin/sh\nexec prlimit --nofile=128:128 -- "+binary+" \"$@\"\n"), 0o755)
	cfg := writeConfig(t, dir, map[string]string{"audio": "audio:\n  input: \"file:" + wav + "\""})
	d := startDaemonBin(t, wrapper, cfg, nil, "--realtime=true")

	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range 200 {
		c, err := net.Dial("unix", filepath.Join(dir, "control.sock"))
		if err != nil {
			t.Fatalf("connection %d: %v", len(idle), err)
		}
		idle = append(idle, c)
	}
	// The command is spoken 3 s in; the CLI may be told "busy" meanwhile.
	var h []control.HistoryEntry
	waitFor(t, "the command stored", 60*time.Second, func() bool {
		select {
		case err := <-d.exited:
			t.Fatalf("daemon exited: %v\n%s", err, d.stderr.String())
		default:
		}
		return d.call(control.Request{Cmd: control.CmdHistory}, &h) == nil && len(h) == 1
	})
	if h[0].Intent != "LightsOn" {
		t.Errorf("stored %+v", h[0])
	}
	if strings.Contains(d.stderr.String(), "storing the recording failed") {
		t.Errorf("a recording failed:\n%s", d.stderr.String())
	}
}

// TestJournalStream: when systemd connects stderr to the journal
// (JOURNAL_STREAM names that very stream), the binary logs with syslog
// priorities and without times.
func TestJournalStream(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, nil)
	store := filepath.Join(dir, "state", "store")
	st, err := retention.Open(store, retention.Options{Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, journaled := range []bool{true, false} {
		os.WriteFile(filepath.Join(store, "stray.txt"), []byte("?"), 0o600) // purge warns and quarantines it
		errFile, err := os.Create(filepath.Join(dir, "stderr"))
		if err != nil {
			t.Fatal(err)
		}
		var fi syscall.Stat_t
		syscall.Fstat(int(errFile.Fd()), &fi)
		cmd := exec.Command(binary, "purge", "--config", cfg)
		cmd.Stderr = errFile
		cmd.Env = append(os.Environ(), "JOURNAL_STREAM=0:0")
		if journaled {
			cmd.Env = append(os.Environ(), fmt.Sprintf("JOURNAL_STREAM=%d:%d", fi.Dev, fi.Ino))
		}
		if out, err := cmd.Output(); err != nil {
			t.Fatalf("purge: %v\n%s", err, out)
		}
		errFile.Close()
		logs, _ := os.ReadFile(errFile.Name())
		if got := strings.HasPrefix(string(logs), `<4>level=WARN msg="quarantined file"`) && !strings.Contains(string(logs), "time="); got != journaled {
			t.Errorf("journal stream %v: stderr\n%s", journaled, logs)
		}
	}
}

// TestNoSoundCardSaysOnlyWhy: without a sound card, `earshot run` printed
// some 60 lines of ALSA and JACK diagnostics before its own error.
func TestNoSoundCardSaysOnlyWhy(t *testing.T) {
	if cards, err := os.ReadFile("/proc/asound/cards"); err == nil && !strings.Contains(string(cards), "no soundcards") {
		t.Skip("this machine has a sound card")
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, nil) // audio.input: default
	_, stderr, code := earshot(t, "run", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "earshot run: audio.input") {
		t.Errorf("exit %d, %d lines on stderr, want the one error:\n%s", code, len(lines), stderr)
	}
}

// TestSocketPermissionDenied: a user outside the group earshot was told
// "is the daemon running?" about a daemon that was running.
func TestSocketPermissionDenied(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run the CLI as another user")
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		os.Chmod(d, 0o755) // the other user may look, not write
	}
	bin := filepath.Join(dir, "earshot")
	if b, err := os.ReadFile(binary); err != nil || os.WriteFile(bin, b, 0o755) != nil {
		t.Fatalf("copy binary: %v", err)
	}
	sock := filepath.Join(dir, "control.sock")
	ln, err := net.Listen("unix", sock) // root:root 0660, as the daemon makes it
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	os.Chmod(sock, 0o660)
	cfg := filepath.Join(dir, "earshot.yaml")
	os.WriteFile(cfg, []byte("device_id: den\ncontrol: {socket: "+sock+"}\n"), 0o644)

	cmd := exec.Command(bin, "status", "--config", cfg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("status as nobody: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "permission denied") || !strings.Contains(stderr.String(), "group earshot") ||
		strings.Contains(stderr.String(), "is the daemon running") {
		t.Errorf("status as nobody said:\n%s", stderr.String())
	}
}
