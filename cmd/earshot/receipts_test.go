package main

// Receipts from every source the daemon binary has — voice, hub, CLI and
// `earshot purge` — name the actions they forget, and a hub that honours
// them (cmd/earshot-hub-example) ends up keeping nothing.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/earshot/earshot/device/hub/mosquittotest"
	"github.com/earshot/earshot/internal/syncbuf"
	"github.com/earshot/earshot/retention"
)

var (
	hubExampleOnce sync.Once
	hubExample     string
	hubExampleErr  error
)

// startHubExample builds (once) and runs cmd/earshot-hub-example against
// the broker, keeping its action log at path.
func startHubExample(t *testing.T, b *mosquittotest.Broker, path string) {
	t.Helper()
	hubExampleOnce.Do(func() {
		hubExample = filepath.Join(filepath.Dir(binary), "earshot-hub-example")
		out, err := exec.Command("go", "build", "-race", "-o", hubExample, "../earshot-hub-example").CombinedOutput()
		if err != nil {
			hubExampleErr = err
			hubExample = string(out)
		}
	})
	if hubExampleErr != nil {
		t.Fatalf("build earshot-hub-example: %v\n%s", hubExampleErr, hubExample)
	}
	cmd := exec.Command(hubExample, "--broker", b.URL, "--log", path, "--client-id", "hub-"+filepath.Base(t.TempDir()))
	logs := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil || t.Failed() {
			t.Logf("earshot-hub-example (%v):\n%s", err, logs.String())
		}
	})
}

// hubLog returns the ids in the example hub's action log.
func hubLog(path string) []string {
	data, _ := os.ReadFile(path)
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var a struct{ ID string }
		if json.Unmarshal([]byte(line), &a) == nil && a.ID != "" {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

type receiptMsg struct {
	ID    string   `json:"id"`
	Scope string   `json:"scope"`
	IDs   []string `json:"ids"`
	Part  int      `json:"part"`
	Parts int      `json:"parts"`
}

func receiptsSeen(t *testing.T, sp *spy) []receiptMsg {
	var out []receiptMsg
	for _, m := range sp.on("/receipt") {
		var r receiptMsg
		decodeJSON(t, m.Payload, &r)
		out = append(out, r)
	}
	return out
}

func actionsSeen(t *testing.T, sp *spy) []string {
	var ids []string
	for _, m := range sp.on("/action") {
		var a struct{ ID string }
		decodeJSON(t, m.Payload, &a)
		ids = append(ids, a.ID)
	}
	return ids
}

func TestEveryActionOnTheBusIsForgottenByReceipt(t *testing.T) {
	dir := t.TempDir()
	b := mosquittotest.Start(t)
	sp := newSpy(t, b)
	logPath := filepath.Join(dir, "hub-actions.jsonl")
	startHubExample(t, b, logPath)

	wav := speak(t, dir, "session", 1500*time.Millisecond,
		utterance{"hey jarvis, turn on the kitchen lights", "slt"},       // A1
		utterance{"hey jarvis, set a timer for five minutes", "rms"},     // A2
		utterance{"hey jarvis, switch off the bedroom lights", "rms"},    // A3
		utterance{"hey jarvis, delete what I just said", "slt"},          // voice: forgets A3
		utterance{"hey jarvis, what is the weather like on mars", "awb"}, // not understood: kept, no action
		utterance{"hey jarvis, delete everything I said today", "slt"},   // voice: forgets A1, A2 and the above
		utterance{"hey jarvis, turn on the office lights", "rms"},        // A4: hub deletes it
		utterance{"hey jarvis, set a timer for ten minutes", "slt"},      // A5: CLI deletes it
		utterance{"hey jarvis, turn off the kitchen lights", "rms"},      // A6: delete --all
	)
	cfg := writeConfig(t, dir, map[string]string{
		"audio": "audio:\n  input: \"file:" + wav + "\"\n  preroll: 1s",
		"mqtt":  "mqtt:\n  broker: " + b.URL + "\n  topic_prefix: earshot",
	})
	d := startDaemon(t, cfg, nil, "--realtime=false")
	waitFor(t, "six actions and the two voice receipts", 120*time.Second, func() bool {
		return len(actionsSeen(t, sp)) == 6 && len(receiptsSeen(t, sp)) == 2
	})
	acts := actionsSeen(t, sp)
	voice := receiptsSeen(t, sp)
	if voice[0].Scope != "record" || !slices.Equal(voice[0].IDs, acts[2:3]) {
		t.Errorf("ForgetLast receipt %+v, want scope record naming %v", voice[0], acts[2])
	}
	// ForgetToday names the not-understood record too: it is counted and
	// named, and a hub finds no action under its id.
	if voice[1].Scope != "since" || len(voice[1].IDs) != 3 || !slices.Equal(voice[1].IDs[:2], acts[:2]) {
		t.Errorf("ForgetToday receipt %+v, want scope since naming %v and the not-understood record", voice[1], acts[:2])
	}
	waitFor(t, "the hub example keeping only the last three", 20*time.Second, func() bool { return slices.Equal(hubLog(logPath), acts[3:]) })

	// The hub deletes one record: its receipt comes before the reply.
	sp.publish(t, "earshot/test-speaker/cmd/delete", `{"id":"h1","scope":"record","record":"`+acts[3]+`"}`)
	waitFor(t, "the reply to h1", 20*time.Second, func() bool { return len(sp.on("/reply")) > 0 })
	if rs := receiptsSeen(t, sp); len(rs) != 3 || !slices.Equal(rs[2].IDs, acts[3:4]) {
		t.Errorf("receipts before the hub's reply: %+v", rs)
	}
	// The CLI deletes one, then everything.
	if out, errOut, code := earshot(t, "delete", acts[4], "--config", cfg); code != 0 {
		t.Fatalf("delete %s: exit %d\n%s%s", acts[4], code, out, errOut)
	}
	out, errOut, code := earshot(t, "delete", "--all", "--json", "--config", cfg)
	var all []retention.Receipt
	if decodeJSON(t, []byte(out), &all); code != 0 || len(all) != 1 || !slices.Equal(all[0].IDs, acts[5:]) {
		t.Fatalf("delete --all: exit %d, receipts %+v\n%s", code, all, errOut)
	}
	waitFor(t, "five receipts", 20*time.Second, func() bool { return len(receiptsSeen(t, sp)) == 5 })
	waitFor(t, "the hub example's log empty", 20*time.Second, func() bool { return len(hubLog(logPath)) == 0 })

	// Every action that reached the bus is named by exactly one receipt.
	named := map[string]int{}
	for _, r := range receiptsSeen(t, sp) {
		if r.Part != 1 || r.Parts != 1 {
			t.Errorf("receipt %s: part %d of %d", r.ID, r.Part, r.Parts)
		}
		for _, id := range r.IDs {
			named[id]++
		}
	}
	for _, id := range acts {
		if named[id] != 1 {
			t.Errorf("action %s named by %d receipts, want 1", id, named[id])
		}
	}
	if err := d.stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	// `earshot purge` with the daemon stopped: a record heard two hours
	// ago (stored under a longer window) goes under the configured hour,
	// with a receipt that names it.
	st, err := retention.Open(filepath.Join(dir, "state", "store"), retention.Options{Window: 3 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	old, err := st.Append(retention.Record{Time: time.Now().Add(-2 * time.Hour), Intent: "LightsOn"}, make([]int16, 800))
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code = earshot(t, "purge", "--json", "--config", cfg)
	var purged []retention.Receipt
	if decodeJSON(t, []byte(out), &purged); code != 0 || len(purged) != 1 || purged[0].Scope != retention.ScopeWindow || !slices.Equal(purged[0].IDs, []string{old.ID}) {
		t.Errorf("purge: exit %d, receipts %+v, want one naming %s\n%s", code, purged, old.ID, errOut)
	}
}
