package hub

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot/earshot/internal/syncbuf"
	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestEndToEndMosquitto runs the link against a real mosquitto with TLS
// (CA and client certificates generated here), password authentication and
// an ACL that lets the device publish only under its own prefix. The device
// reaches the broker through a TCP proxy so the test can take it away
// without touching the broker, and the broker itself is killed and
// restarted mid-stream.
func TestEndToEndMosquitto(t *testing.T) {
	p := newPKI(t)
	broker := newMosquitto(t, p, []brokerUser{
		{"earshot", "device-secret", "topic write earshot/kitchen-speaker/#\ntopic read earshot/kitchen-speaker/cmd/#"},
		{"hub", "hub-secret", "topic readwrite #"},
	})
	proxy := newProxy(t, broker.Addr)

	dir := t.TempDir()
	passFile := filepath.Join(dir, "mqtt.pass")
	if err := os.WriteFile(passFile, []byte("device-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, key := p.issue(t, "kitchen-speaker", false)
	clock := &testClock{}
	cfg := testConfig(proxy.addr)
	cfg.Broker = "ssl://" + proxy.addr
	cfg.Username, cfg.PasswordFile = "earshot", passFile
	cfg.CAFile, cfg.CertFile, cfg.KeyFile = p.CAFile, cert, key
	cfg.Clock = clock.Now
	hubTLS := p.clientTLS(t, "hub")
	hubOpts := func(o *mqtt.ClientOptions) { o.SetTLSConfig(hubTLS).SetUsername("hub").SetPassword("hub-secret") }

	obs := newObserver(t, "ssl://"+broker.Addr, "earshot/#", hubOpts)
	store := newFakeStore()
	l := runLink(t, cfg, store, &fakeMuter{})
	obs.waitFor("online", hasPayload(topicAvail, "online"))

	l.PublishAction(Action{ID: "a1", Intent: "LightsOn", Slots: map[string]string{"room": "kitchen"}})
	obs.waitFor("a1", func(m []message) bool { return slices.Contains(actionIDs(m, topicAction), "a1") })

	t.Run("device briefly away", func(t *testing.T) {
		proxy.held.Store(true)
		proxy.cut()
		obs.waitFor("last will", hasPayload(topicAvail, "offline"))
		// QoS1 to the persistent session: the broker keeps it for the device.
		obs.publish(topicCmd+"delete", `{"id":"while-away","scope":"all"}`)
		proxy.held.Store(false)
		msgs := obs.waitFor("reply to the command sent while away", replyTo("while-away"))
		if r, _ := findReply(msgs, "while-away"); r["ok"] != true {
			t.Errorf("reply = %v", r)
		}
		if calls := store.Calls(); !slices.Equal(calls, []string{"all"}) {
			t.Errorf("store calls = %q", calls)
		}
		obs.waitFor("online again", func(m []message) bool {
			avail := onTopic(m, topicAvail)
			return string(avail[len(avail)-1].Payload) == "online"
		})
	})

	t.Run("broker killed and restarted", func(t *testing.T) {
		proxy.held.Store(true) // keep the device away until the hub is listening again
		broker.Kill()
		waitUntil(t, "link down", func() bool { return !l.Connected() })
		now := clock.Now()
		l.PublishAction(Action{ID: "fresh", Time: now, Intent: "LightsOn"})
		l.PublishAction(Action{ID: "stale", Time: now.Add(-50 * time.Second), Intent: "LightsOff"})
		clock.Advance(20 * time.Second) // TTL 60 s: stale is 70 s old now, fresh 20 s

		broker.Restart()
		obs2 := newObserver(t, "ssl://"+broker.Addr, "earshot/#", hubOpts)
		proxy.held.Store(false)
		obs2.waitFor("online after restart", hasPayload(topicAvail, "online"))
		obs2.waitFor("fresh", func(m []message) bool { return slices.Contains(actionIDs(m, topicAction), "fresh") })
		l.PublishAction(Action{ID: "sentinel", Time: clock.Now(), Intent: "LightsOn"})
		msgs := obs2.waitFor("sentinel", func(m []message) bool { return slices.Contains(actionIDs(m, topicAction), "sentinel") })
		if ids := actionIDs(msgs, topicAction); !slices.Equal(ids, []string{"fresh", "sentinel"}) {
			t.Errorf("actions after restart = %q, want [fresh sentinel] (each once, stale never)", ids)
		}
	})
}

// TestEndToEndRefusesUntrustedBrokers: a wrong password, a certificate for
// another name and a CA the device does not trust each keep the link down,
// and Run still stops cleanly.
func TestEndToEndRefusesUntrustedBrokers(t *testing.T) {
	p := newPKI(t)
	broker := newMosquitto(t, p, []brokerUser{{"earshot", "right", "topic write earshot/#"}})
	_, port, _ := net.SplitHostPort(broker.Addr)
	dir := t.TempDir()
	right, wrong := filepath.Join(dir, "right.pass"), filepath.Join(dir, "wrong.pass")
	for f, pw := range map[string]string{right: "right", wrong: "wrong-password"} {
		if err := os.WriteFile(f, []byte(pw), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, key := p.issue(t, "dev", false)
	otherCA := newPKI(t).CAFile

	tests := []struct {
		name, broker, passFile, caFile, wantLog string
	}{
		{"wrong password", "ssl://" + broker.Addr, wrong, p.CAFile, "not Authorized"},
		{"certificate for another name", "ssl://localhost:" + port, right, p.CAFile, "certificate"},
		{"untrusted CA", "ssl://" + broker.Addr, right, otherCA, "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(broker.Addr)
			cfg.Broker = tc.broker
			cfg.Username, cfg.PasswordFile = "earshot", tc.passFile
			cfg.CAFile, cfg.CertFile, cfg.KeyFile = tc.caFile, cert, key
			logs := &syncbuf.Buffer{}
			cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
			l := runLink(t, cfg, newFakeStore(), &fakeMuter{})
			waitUntil(t, "a refused connection", func() bool { return strings.Contains(logs.String(), "hub broker unreachable") })
			if l.Connected() {
				t.Error("connected to a broker it should not trust")
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("logs do not say why (%q): %s", tc.wantLog, logs)
			}
			if strings.Contains(logs.String(), "wrong-password") || strings.Contains(logs.String(), "right\"") {
				t.Errorf("password in logs: %s", logs)
			}
		})
	}
}
