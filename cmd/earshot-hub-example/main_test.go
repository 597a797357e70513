package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"

	"github.com/earshot/earshot/device/localbroker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func actionJSON(id, device, at, until string) string {
	return `{"id":"` + id + `","device":"` + device + `","time":"` + at + `","intent":"LightsOn","slots":{"room":"kitchen"},"keep_until":"` + until + `"}`
}

func kept(l *ledger) []string {
	var ids []string
	for _, a := range l.actions {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestLedger(t *testing.T) {
	const at, until = "2026-11-27T11:00:00Z", "2026-11-28T11:00:00Z"
	fill := func(t *testing.T) *ledger {
		l := &ledger{}
		for _, a := range []string{
			actionJSON("A", "kitchen", at, until),
			actionJSON("B", "kitchen", at, until),
			actionJSON("C", "den", at, until),
			actionJSON("D", "kitchen", "2026-11-27T12:30:00Z", until),
		} {
			if err := l.Action([]byte(a), now); err != nil {
				t.Fatal(err)
			}
		}
		return l
	}
	tests := []struct {
		name, device, receipt string
		want                  []string
	}{
		{"names two", "kitchen", `{"scope":"record","ids":["B","C"],"part":1,"parts":1}`, []string{"A", "D"}},
		{"names one it never saw", "kitchen", `{"scope":"record","ids":["Z"]}`, []string{"A", "B", "C", "D"}},
		{"all with ids", "kitchen", `{"scope":"all","time":"2026-11-27T12:00:00Z","ids":["A"]}`, []string{"B", "C", "D"}},
		{"all, ids unknown: that device up to its time", "kitchen", `{"scope":"all","time":"2026-11-27T12:00:00Z","ids":[]}`, []string{"C", "D"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := fill(t)
			if err := l.Receipt(tc.device, []byte(tc.receipt)); err != nil {
				t.Fatal(err)
			}
			if got := kept(l); !slices.Equal(got, tc.want) {
				t.Errorf("kept %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("keep_until", func(t *testing.T) {
		l := fill(t)
		if err := l.Action([]byte(actionJSON("E", "den", at, "2026-11-27T12:00:00Z")), now); err != nil || len(l.actions) != 4 {
			t.Errorf("an action at its keep_until was kept: %v, %v", kept(l), err)
		}
		l.Expire(now.Add(24 * time.Hour))
		if len(l.actions) != 0 {
			t.Errorf("kept past keep_until: %v", kept(l))
		}
	})
	t.Run("bad input", func(t *testing.T) {
		l := fill(t)
		for _, bad := range []string{`{`, `{"device":"x"}`, `[]`, `{"id":"x","keep_until":"soon"}`} {
			if err := l.Action([]byte(bad), now); err == nil {
				t.Errorf("Action(%s) accepted", bad)
			}
		}
		if err := l.Receipt("kitchen", []byte(`{"ids":"A"}`)); err == nil {
			t.Error("a receipt with ids as a string was accepted")
		}
		if got := kept(l); len(got) != 4 {
			t.Errorf("bad input changed the ledger: %v", got)
		}
	})
}

// FuzzLedger: no input panics, and after a receipt nothing it names is kept.
func FuzzLedger(f *testing.F) {
	f.Add([]byte(actionJSON("A", "k", "2026-11-27T11:00:00Z", "2026-11-28T00:00:00Z")), []byte(`{"scope":"record","ids":["A"]}`))
	f.Add([]byte(`{"id":""}`), []byte(`{"scope":"all","time":"2026-11-27T12:00:00Z","ids":[]}`))
	f.Fuzz(func(t *testing.T, act, rcpt []byte) {
		l := &ledger{}
		_ = l.Action(act, now)
		var r receipt
		if l.Receipt("k", rcpt) != nil {
			return
		}
		_ = json.Unmarshal(rcpt, &r)
		for _, a := range l.actions {
			if slices.Contains(r.IDs, a.ID) {
				t.Fatalf("kept %s after a receipt naming it", a.ID)
			}
		}
	})
}

// TestHubKeepsAndForgets runs the example against an embedded broker: an
// action lands in the log file, and its receipt takes it out again.
func TestHubKeepsAndForgets(t *testing.T) {
	b, err := localbroker.Start("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	path := filepath.Join(t.TempDir(), "actions.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), b.URL(), "earshot", path, "hub-test")
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	logHas := func(want ...string) func() bool {
		return func() bool {
			data, _ := os.ReadFile(path)
			lines := strings.Fields(string(data))
			if len(lines) != len(want) {
				return false
			}
			for i, w := range want {
				if !strings.Contains(lines[i], `"id":"`+w+`"`) {
					return false
				}
			}
			return true
		}
	}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("speaker"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(50)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	// The hub subscribes in the background: send until the first is logged.
	waitFor(t, "the first action logged", func() bool {
		c.Publish("earshot/kitchen/action", 1, false, actionJSON("A", "kitchen", "2026-11-27T11:00:00Z", future)).Wait()
		return logHas("A")()
	})
	c.Publish("earshot/kitchen/action", 1, false, actionJSON("B", "kitchen", "2026-11-27T11:00:01Z", future)).Wait()
	waitFor(t, "both logged", logHas("A", "B"))
	c.Publish("earshot/kitchen/receipt", 1, false, `{"id":"R","scope":"record","records":1,"ids":["A"],"part":1,"parts":1}`).Wait()
	waitFor(t, "A forgotten", logHas("B"))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}
