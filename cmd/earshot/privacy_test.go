package main

// The privacy acceptance suite: the product's promises checked end to end,
// the way a skeptical reviewer would, on the real binary with a real
// mosquitto, with speech fed through PortAudio (ALSA file plugin) and
// through file: input.

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/portaudio/alsatest"
	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/device/hub/mosquittotest"
	"github.com/earshot/earshot/retention"
)

// spoken is what the privacy runs say; slot values are the only words
// allowed to leave the device.
var spoken = []utterance{
	{"hey jarvis, turn on the kitchen lights", "slt"},
	{"hey jarvis, what is the weather like on mars", "awb"},
	{"hey jarvis, set a timer for five minutes", "rms"},
	{"hey jarvis, switch off the bedroom lights", "slt"},
	{"hey jarvis, delete what I just said", "slt"},
}

var (
	slotValues = map[string]bool{"kitchen": true, "bedroom": true}
	// Words the hub knows from the product, not from speech: slot names
	// from the intents file, "delete", which names the Home Assistant
	// "Delete voice history" button, and "switch", the Home Assistant
	// component of the mute switch (default_entity_id "switch.earshot_…").
	schemaWords = map[string]bool{"minutes": true, "room": true, "delete": true, "switch": true}
)

// forbiddenWords are the words said that may never leave the device.
func forbiddenWords() []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range spoken {
		for _, w := range strings.FieldsFunc(strings.ToLower(u.text), func(r rune) bool { return !unicode.IsLetter(r) }) {
			if len(w) < 3 || slotValues[w] || schemaWords[w] || seen[w] || w == "the" || w == "off" || w == "for" {
				continue
			}
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

var (
	alnumRuns = regexp.MustCompile(`[A-Za-z0-9]+`)
	letters   = regexp.MustCompile(`^[A-Za-z]+$`)
	wavHeader = regexp.MustCompile(`(?s)RIFF....WAVE`)
)

// spokenWord returns a forbidden word that appears as a whole word in p:
// a run of letters between characters that are neither letters nor
// digits. A run with digits in it is an identifier, not a word: a
// record's ULID, 01M8H3VY570SET834KHAA90F5W, once failed the test as
// the spoken word "set".
func spokenWord(p []byte, forbidden []string) (string, bool) {
	tokens := map[string]bool{}
	for _, tok := range alnumRuns.FindAll(p, -1) {
		if letters.Match(tok) {
			tokens[strings.ToLower(string(tok))] = true
		}
	}
	for _, w := range forbidden {
		if tokens[w] {
			return w, true
		}
	}
	return "", false
}

func TestSpokenWord(t *testing.T) {
	forbidden := []string{"set", "timer"}
	for _, tt := range []struct {
		p    string
		want bool
	}{
		{`{"id":"01M8H3VY570SET834KHAA90F5W","intent":"SetTimer"}`, false},
		{`msg=utterance transcript="set a timer for five minutes"`, true},
		{`{"text":"SET"}`, true},
		{`hey_timer`, true},
	} {
		if _, got := spokenWord([]byte(tt.p), forbidden); got != tt.want {
			t.Errorf("spokenWord(%s) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// payloadLeaks returns why a hub payload is not allowed, or "".
func payloadLeaks(p []byte, forbidden []string) string {
	if w, ok := spokenWord(p, forbidden); ok {
		return "carries the spoken word " + w
	}
	if wavHeader.Match(p) {
		return "carries a WAV header"
	}
	if len(p) > 256 && entropy(p) > 6.0 {
		return "carries a high-entropy blob"
	}
	if regexp.MustCompile(`[A-Za-z0-9+/=]{120,}`).Match(p) {
		return "carries a long base64 run"
	}
	return ""
}

// entropy is the Shannon entropy of p in bits per byte.
func entropy(p []byte) float64 {
	var n [256]float64
	for _, b := range p {
		n[b]++
	}
	h := 0.0
	for _, c := range n {
		if c > 0 {
			q := c / float64(len(p))
			h -= q * math.Log2(q)
		}
	}
	return h
}

// pcmProbes picks short runs of the input's speech samples (not silence):
// if any appears byte for byte in a file, that file holds plaintext audio.
func pcmProbes(t *testing.T, wav string) [][]byte {
	t.Helper()
	pcm := readPCM(t, wav)
	raw := alsatest.Raw(pcm)
	rng := rand.New(rand.NewPCG(1, 2))
	var probes [][]byte
	for tries := 0; len(probes) < 200 && tries < 100000; tries++ {
		i := rng.IntN(len(pcm) - 16)
		loud := 0
		for _, s := range pcm[i : i+16] {
			if s > 500 || s < -500 {
				loud++
			}
		}
		if loud >= 8 {
			probes = append(probes, raw[2*i:2*i+32])
		}
	}
	if len(probes) < 100 {
		t.Fatalf("only %d speech probes in %s", len(probes), wav)
	}
	return probes
}

// readPCM reads a 16 kHz WAV.
func readPCM(t testing.TB, wav string) []int16 {
	t.Helper()
	f, err := os.Open(wav)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, _, err := capture.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// alsaInput makes ALSA's default capture device play wav (the real
// PortAudio path, no sound card) and returns the daemon's environment and
// the raw file the default output device writes to.
func alsaInput(t *testing.T, wav string) (env []string, played string) {
	files := alsatest.Setup(t, alsatest.Raw(readPCM(t, wav)))
	return []string{"ALSA_CONFIG_PATH=" + files.Config}, files.Outfile
}

// diskLeaks scans every file under dir for plaintext.
func diskLeaks(t *testing.T, dir string, words []string, probes [][]byte) []string {
	t.Helper()
	var leaks []string
	files := 0
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lower := bytes.ToLower(data)
		for _, w := range words {
			// Short words turn up in ciphertext by chance ("hey" is ~1 in 4
			// per 500 KB); five letters or more do not (~1e-5).
			if len(w) >= 5 && bytes.Contains(lower, []byte(w)) {
				leaks = append(leaks, path+": the word "+w)
			}
		}
		if wavHeader.Match(data) {
			leaks = append(leaks, path+": a WAV header")
		}
		for _, p := range probes {
			if bytes.Contains(data, p) {
				leaks = append(leaks, path+": a run of the input's PCM")
				break
			}
		}
		return nil
	})
	if files == 0 {
		t.Fatalf("no files under %s: nothing was checked", dir)
	}
	return leaks
}

// 1 and 2: nothing said leaves the device; nothing is in plaintext at rest.
func TestPrivacyNothingSaidLeavesNothingPlainAtRest(t *testing.T) {
	for _, input := range []string{"portaudio", "file"} {
		t.Run(input, func(t *testing.T) {
			dir := t.TempDir()
			b := mosquittotest.Start(t)
			sp := newSpy(t, b)
			wav := speak(t, dir, "spoken", 1200*time.Millisecond, spoken...)
			probes := pcmProbes(t, wav)

			// The checkers must be able to fail: they find the words and the
			// audio in plaintext where they are.
			if leaks := diskLeaks(t, dir, []string{"jarvis"}, probes); len(leaks) == 0 {
				t.Fatal("disk checker finds no PCM in the input WAV itself")
			}
			if payloadLeaks([]byte(`{"transcript":"what is the weather like on mars"}`), forbiddenWords()) == "" {
				t.Fatal("payload checker misses a transcript")
			}
			if _, ok := spokenWord([]byte(`level=DEBUG msg=utterance transcript="turn on the kitchen lights"`), forbiddenWords()); !ok {
				t.Fatal("log checker misses a transcript")
			}

			audio := "audio:\n  input: \"file:" + wav + "\""
			var env []string
			var speaker string
			if input == "portaudio" {
				env, speaker = alsaInput(t, wav)
				audio = "audio:\n  input: default"
			}
			cfg := writeConfig(t, dir, map[string]string{
				"audio": audio,
				"mqtt":  "mqtt:\n  broker: " + b.URL + "\n  discovery: true\n  hermes: true",
			})
			d := startDaemon(t, cfg, env, "--realtime=false")
			waitFor(t, "three actions and the ForgetLast receipt", 60*time.Second, func() bool {
				return len(sp.on("/action")) >= 3 && len(sp.on("/receipt")) >= 1
			})
			intents := map[string]bool{}
			for _, m := range sp.on("/action") {
				var a struct{ Intent string }
				decodeJSON(t, m.Payload, &a)
				intents[a.Intent] = true
			}
			if !intents["LightsOn"] || !intents["SetTimer"] || !intents["LightsOff"] {
				t.Errorf("actions seen: %v", intents)
			}
			h := d.history()
			if len(h) != 3 { // kitchen, weather (not understood), timer; bedroom forgotten
				t.Errorf("history after ForgetLast: %+v", h)
			}
			if speaker != "" {
				// SIGTERM cuts an earcon short: wait until one has played
				// to the end, however loaded the machine is.
				waitFor(t, "an earcon played", 30*time.Second, func() bool { return d.status().Earcons >= 1 })
			}
			if err := d.stop(syscall.SIGTERM, 10*time.Second); err != nil {
				t.Errorf("SIGTERM: %v", err)
			}
			if speaker != "" {
				// "what is the weather like on mars" got the not-understood
				// earcon, and "delete what I just said" the forgotten one.
				if fi, err := os.Stat(speaker); err != nil || fi.Size() < 2*1000 {
					t.Errorf("no earcon reached the speaker: %v %v", fi, err)
				}
			}

			forbidden := forbiddenWords()
			msgs := sp.all()
			if len(msgs) < 6 {
				t.Fatalf("only %d hub messages seen", len(msgs))
			}
			for _, m := range msgs {
				if why := payloadLeaks(m.Payload, forbidden); why != "" {
					t.Errorf("%s %s: %s", m.Topic, why, m.Payload)
				}
				if strings.HasPrefix(m.Topic, "hermes/") && !bytes.Contains(m.Payload, []byte(`"input":""`)) {
					t.Errorf("hermes payload with input: %s", m.Payload)
				}
			}
			if len(sp.on("hermes/intent/LightsOn")) == 0 {
				t.Error("no hermes intent seen: the hermes payloads went unchecked")
			}
			// The daemon logs at INFO (its default): never a word that was said.
			if w, ok := spokenWord([]byte(d.stderr.String()), forbidden); ok {
				t.Errorf("the daemon's INFO log carries the spoken word %q", w)
			}

			// At rest even slot values are sealed.
			words := append(forbidden, "kitchen", "bedroom")
			for _, leak := range diskLeaks(t, filepath.Join(dir, "state"), words, probes) {
				t.Error("plaintext at rest: " + leak)
			}
		})
	}
}

// 3: the window is hard, while running and while stopped.
func TestPrivacyWindowIsHard(t *testing.T) {
	dir := t.TempDir()
	b := mosquittotest.Start(t)
	sp := newSpy(t, b)
	wav := speak(t, dir, "two", 800*time.Millisecond, spoken[0], spoken[2])
	const window = 3 * time.Second
	cfg := writeConfig(t, dir, map[string]string{
		"audio":     "audio:\n  input: \"file:" + wav + "\"",
		"retention": "retention:\n  dir: " + filepath.Join(dir, "state") + "\n  window: 3s",
		"mqtt":      "mqtt:\n  broker: " + b.URL,
	})
	d := startDaemon(t, cfg, nil, "--realtime=false")
	waitFor(t, "a record", 60*time.Second, func() bool { return len(d.history()) > 0 })
	ids := map[string]time.Time{}
	// Until every record is gone, nothing older than window + 1 s is ever
	// listed or playable.
	waitFor(t, "the window to empty the store", 20*time.Second, func() bool {
		h := d.history()
		now := time.Now()
		for _, e := range h {
			ids[e.ID] = e.Time
			if age := now.Sub(e.Time); age > window+time.Second {
				t.Fatalf("record %s listed at age %s (window %s)", e.ID, age, window)
			}
		}
		for id, at := range ids {
			if now.Sub(at) > window+time.Second {
				var a control.Audio
				if err := d.call(control.Request{Cmd: control.CmdAudio, IDs: []string{id}}, &a); err == nil {
					t.Fatalf("record %s playable at age %s", id, now.Sub(at))
				}
			}
		}
		return len(h) == 0
	})
	st := d.status()
	if st.Records != 0 || st.Bytes != 0 {
		t.Errorf("after expiry: %d records, %d bytes", st.Records, st.Bytes)
	}
	waitFor(t, "a window receipt", 10*time.Second, func() bool {
		for _, m := range sp.on("/receipt") {
			if bytes.Contains(m.Payload, []byte(`"scope":"window"`)) {
				return true
			}
		}
		return false
	})
	for id := range ids {
		_, errOut, code := earshot(t, "export", id, "-o", filepath.Join(dir, id+".wav"), "--config", cfg)
		if code == 0 {
			t.Errorf("expired record %s exported", id)
		} else if !strings.Contains(errOut, "not found") {
			t.Errorf("export of expired %s: %s", id, errOut)
		}
	}
	d.stop(syscall.SIGTERM, 10*time.Second)

	// While stopped: a record stored just before shutdown expires, and
	// `earshot purge` destroys it without the daemon.
	wav1 := speak(t, dir, "one", 500*time.Millisecond, spoken[0])
	cfg = writeConfig(t, dir, map[string]string{
		"audio":     "audio:\n  input: \"file:" + wav1 + "\"",
		"retention": "retention:\n  dir: " + filepath.Join(dir, "state") + "\n  window: 3s",
	})
	d = startDaemon(t, cfg, nil, "--realtime=false")
	waitFor(t, "a record", 60*time.Second, func() bool { return len(d.history()) > 0 })
	stored := d.history()[0].Time
	d.stop(syscall.SIGTERM, 10*time.Second)
	if out, _, code := earshot(t, "purge", "--config", cfg); code != 0 || !strings.Contains(out, "nothing has expired") {
		t.Errorf("purge of a fresh record: exit %d: %s", code, out)
	}
	waitFor(t, "the record to age past the window", 10*time.Second, func() bool { return time.Since(stored) > window+time.Second })
	out, errOut, code := earshot(t, "purge", "--config", cfg)
	if code != 0 || !strings.Contains(out, "deleted 1 record(s)") || !strings.Contains(out, "scope window") {
		t.Errorf("purge while stopped: exit %d\n%s%s", code, out, errOut)
	}
	for _, leak := range diskLeaks(t, filepath.Join(dir, "state"), []string{"kitchen", "jarvis"}, pcmProbes(t, wav1)) {
		t.Error(leak)
	}

	// The purge's receipt reaches the hub at the next start, and only then.
	m := regexp.MustCompile(`receipt (\S+) at`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no receipt id in the purge's output: %s", out)
	}
	published := func() int {
		n := 0
		for _, r := range sp.on("/receipt") {
			if bytes.Contains(r.Payload, []byte(`"id":"`+m[1]+`"`)) {
				n++
			}
		}
		return n
	}
	if n := published(); n != 0 {
		t.Fatalf("purge receipt published %d times with no daemon running", n)
	}
	cfg = writeConfig(t, dir, map[string]string{
		"audio":     "audio:\n  input: \"file:" + silence(t, dir, time.Second) + "\"",
		"retention": "retention:\n  dir: " + filepath.Join(dir, "state") + "\n  window: 3s",
		"mqtt":      "mqtt:\n  broker: " + b.URL,
	})
	for start := range 2 {
		d = startDaemon(t, cfg, nil)
		waitFor(t, "hub link", 10*time.Second, func() bool { return d.status().Hub == "connected" })
		// Receipts go out before replies: after this reply, every receipt
		// of this start is at the broker.
		id := "barrier-" + itoa(start)
		sp.publish(t, "earshot/test-speaker/cmd/state", `{"id":"`+id+`"}`)
		waitFor(t, "reply "+id, 10*time.Second, func() bool {
			for _, r := range sp.on("/reply") {
				if bytes.Contains(r.Payload, []byte(id)) {
					return true
				}
			}
			return false
		})
		waitFor(t, "the purge receipt", 10*time.Second, func() bool { return published() >= 1 })
		d.stop(syscall.SIGTERM, 10*time.Second)
	}
	if n := published(); n != 1 {
		t.Errorf("purge receipt published %d times over two starts, want once", n)
	}
}

// 4: deletion is real, by CLI, by voice and by hub; a SIGKILL right after
// the acknowledgement brings nothing back. (The long press is tested with
// gpiotest pins in package daemon.)
func TestPrivacyDeletionIsReal(t *testing.T) {
	dir := t.TempDir()
	b := mosquittotest.Start(t)
	sp := newSpy(t, b)
	wav := speak(t, dir, "del", 1000*time.Millisecond,
		spoken[0], spoken[2], spoken[3], spoken[4]) // kitchen, timer, bedroom, "delete what I just said"
	mqttCfg := "mqtt:\n  broker: " + b.URL
	cfg := writeConfig(t, dir, map[string]string{"audio": "audio:\n  input: \"file:" + wav + "\"", "mqtt": mqttCfg})
	d := startDaemon(t, cfg, nil, "--realtime=false")
	waitFor(t, "the ForgetLast receipt", 60*time.Second, func() bool { return len(sp.on("/receipt")) >= 1 })
	var r retention.Receipt
	decodeJSON(t, sp.on("/receipt")[0].Payload, &r)
	if r.Scope != retention.ScopeRecord || r.Records != 1 {
		t.Errorf("ForgetLast receipt = %+v", r)
	}
	h := d.history()
	if len(h) != 2 || h[0].Intent != "LightsOn" || h[1].Intent != "SetTimer" {
		t.Fatalf("history after ForgetLast = %+v", h)
	}

	// By CLI, then SIGKILL as soon as it returns.
	out, errOut, code := earshot(t, "delete", h[0].ID, "--config", cfg)
	if code != 0 || !strings.Contains(out, "deleted 1 record(s)") {
		t.Fatalf("delete %s: %d %s%s", h[0].ID, code, out, errOut)
	}
	d.cmd.Process.Kill()
	<-d.exited
	silent := writeConfig(t, dir, map[string]string{"audio": "audio:\n  input: \"file:" + silence(t, dir, time.Second) + "\"", "mqtt": mqttCfg})
	d = startDaemon(t, silent, nil, "--realtime=false")
	if h2 := d.history(); len(h2) != 1 || h2[0].ID != h[1].ID {
		t.Fatalf("after CLI delete and SIGKILL: %+v", h2)
	}

	// By hub, then SIGKILL as soon as the reply is seen.
	waitFor(t, "hub link", 10*time.Second, func() bool { return d.status().Hub == "connected" })
	sp.publish(t, "earshot/test-speaker/cmd/delete", `{"id":"k1","scope":"record","record":"`+h[1].ID+`"}`)
	waitFor(t, "the reply", 10*time.Second, func() bool {
		for _, m := range sp.on("/reply") {
			if bytes.Contains(m.Payload, []byte(`"k1"`)) {
				return true
			}
		}
		return false
	})
	d.cmd.Process.Kill()
	<-d.exited
	d = startDaemon(t, silent, nil, "--realtime=false")
	if h3 := d.history(); len(h3) != 0 {
		t.Fatalf("after hub delete and SIGKILL: %+v", h3)
	}
	scopes := map[string]int{}
	for _, m := range sp.on("/receipt") {
		var r retention.Receipt
		decodeJSON(t, m.Payload, &r)
		scopes[string(r.Scope)] += r.Records
	}
	if scopes["record"] != 3 {
		t.Errorf("record receipts counted %v, want 3 records (voice, CLI, hub)", scopes)
	}
}

// 5: muted is deaf: no frame is read from PortAudio and nothing is heard.
func TestPrivacyMutedIsDeaf(t *testing.T) {
	dir := t.TempDir()
	env, _ := alsaInput(t, speak(t, dir, "cmd", 500*time.Millisecond, spoken[0]))
	// Muted before the daemon ever starts, as after a reboot.
	os.MkdirAll(filepath.Join(dir, "state"), 0o700)
	os.WriteFile(filepath.Join(dir, "state", "mute.json"), []byte(`{"muted":true,"source":"cli"}`), 0o600)
	cfg := writeConfig(t, dir, nil)
	d := startDaemon(t, cfg, env)

	st := d.status()
	if !st.Muted || st.Listening || st.FramesRead != 0 {
		t.Fatalf("started muted, status = %+v", st)
	}
	// The capture loop runs many times a second; a muted one reads nothing.
	for i := 0; i < 20; i++ {
		time.Sleep(25 * time.Millisecond) // sampling the counter over half a second
		if n := d.status().FramesRead; n != 0 {
			t.Fatalf("%d frames read while muted", n)
		}
	}
	if h := d.history(); len(h) != 0 {
		t.Fatalf("heard while muted: %+v", h)
	}
	out, _, code := earshot(t, "unmute", "--config", cfg)
	if code != 0 {
		t.Fatalf("unmute: %s", out)
	}
	waitFor(t, "the command heard after unmute", 60*time.Second, func() bool { return len(d.history()) == 1 })
	if h := d.history(); h[0].Intent != "LightsOn" {
		t.Errorf("after unmute heard %+v", h[0])
	}
	// And muting again stops the counter.
	earshot(t, "mute", "--config", cfg)
	waitFor(t, "the stream to stop", 10*time.Second, func() bool { return !d.status().Listening })
	n := d.status().FramesRead
	time.Sleep(200 * time.Millisecond) // ten frame periods
	if n2 := d.status().FramesRead; n2 != n {
		t.Errorf("frames read after mute: %d -> %d", n, n2)
	}
}

// 6: the hub gets only what it may.
func TestPrivacyHubGetsOnlyWhatItMay(t *testing.T) {
	dir := t.TempDir()
	b := mosquittotest.Start(t)
	sp := newSpy(t, b)
	state := filepath.Join(dir, "state")
	os.MkdirAll(state, 0o700)
	os.WriteFile(filepath.Join(state, "mute.json"), []byte(`{"muted":true,"source":"button"}`), 0o600)
	st, err := retention.Open(filepath.Join(state, "store"), retention.Options{Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := st.Append(retention.Record{Transcript: "turn on the kitchen lights", Intent: "LightsOn"}, make([]int16, 800)); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := writeConfig(t, dir, map[string]string{
		"audio": "audio:\n  input: \"file:" + silence(t, dir, time.Second) + "\"",
		"mqtt":  "mqtt:\n  broker: " + b.URL,
	})
	d := startDaemon(t, cfg, nil)
	waitFor(t, "hub link", 10*time.Second, func() bool { return d.status().Hub == "connected" })

	cmds := []struct{ topic, payload, id, want string }{
		{"cmd/unmute", `{"id":"u1"}`, "u1", "muted at device"},
		{"cmd/retention", `{"id":"r1","window":"48h"}`, "r1", ""},
		{"cmd/retention", `{"id":"r2","window":"-1h"}`, "r2", ""},
		{"cmd/delete", `{"id":"d1","scope":"everything"}`, "d1", ""},
		{"cmd/delete", `{"id":"d2","scope":"before","time":"yesterday"}`, "d2", ""},
		{"cmd/delete", `{"id":"d3","scope":"all","extra":true}`, "d3", ""},
		{"cmd/delete", `{"id":"d4","scope":"all","pad":"` + strings.Repeat("x", 5000) + `"}`, "d4", ""},
		{"cmd/reboot", `{"id":"x1"}`, "x1", ""},
	}
	for _, c := range cmds {
		sp.publish(t, "earshot/test-speaker/"+c.topic, c.payload)
	}
	sp.publish(t, "earshot/test-speaker/cmd/delete", `{"id":`) // not even JSON
	replies := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, m := range sp.on("/reply") {
			var r map[string]any
			if json.Unmarshal(m.Payload, &r) == nil {
				id, _ := r["id"].(string)
				out[id] = r
			}
		}
		return out
	}
	waitFor(t, "replies to the hub's commands", 20*time.Second, func() bool {
		rs := replies()
		for _, c := range cmds[:len(cmds)-2] { // the oversized and unknown ones may be answered without an id
			if rs[c.id] == nil {
				return false
			}
		}
		return true
	})
	rs := replies()
	for _, c := range cmds {
		r, ok := rs[c.id]
		if !ok {
			continue
		}
		if r["ok"] != false {
			t.Errorf("%s %s accepted: %v", c.topic, c.payload[:min(len(c.payload), 60)], r)
		}
		if c.want != "" && r["error"] != c.want {
			t.Errorf("%s: error %v, want %q", c.topic, r["error"], c.want)
		}
	}
	after := d.status()
	if !after.Muted || after.MuteSource != "button" || after.Records != 2 || after.Window != "1h" || after.FramesRead != 0 {
		t.Errorf("state changed by refused commands: %+v", after)
	}
	if len(sp.on("/receipt")) != 0 {
		t.Errorf("receipts published for refused commands: %d", len(sp.on("/receipt")))
	}
}
