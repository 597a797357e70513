package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/earshot/earshot/device/control"
)

// TestDaemonServesVoiceCommandsToHub runs the real binary on spoken
// commands with a real mosquitto: action records arrive with only intent and
// slots, the device keeps the transcripts, a CLI wipe empties the history
// and publishes a receipt, and SIGTERM leaves "offline" retained.
func TestDaemonServesVoiceCommandsToHub(t *testing.T) {
	dir := t.TempDir()
	b := startMosquitto(t)
	sp := newSpy(t, b)
	wav := speak(t, dir, "commands", 1500*time.Millisecond,
		utterance{"hey jarvis, turn on the kitchen lights", "slt"},
		utterance{"hey jarvis, set a timer for five minutes", "rms"},
	)
	cfg := writeConfig(t, dir, map[string]string{
		"audio": "audio:\n  input: \"file:" + wav + "\"\n  preroll: 1s",
		"mqtt":  "mqtt:\n  broker: " + b.url + "\n  topic_prefix: earshot\n  discovery: true",
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
