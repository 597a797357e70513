package localbroker

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClientsMeetThroughTheBroker(t *testing.T) {
	b, err := Start("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan string, 4)
	if err := b.Subscribe("earshot/#", func(topic string, payload []byte, retained bool) {
		got <- topic + "=" + string(payload)
	}); err != nil {
		t.Fatal(err)
	}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("t"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	c.Publish("earshot/x/state", 1, false, "hi").Wait()
	select {
	case m := <-got:
		if m != "earshot/x/state=hi" {
			t.Errorf("got %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("message never arrived")
	}
	c.Disconnect(50) // before the broker goes, or paho starts reconnecting
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:1883", "192.0.2.1:1883", "nonsense"} {
		if b, err := Start(addr, nil); err == nil {
			b.Close()
			t.Errorf("Start(%q) accepted", addr)
		}
		if b, err := Open(Options{WebSocket: addr}); err == nil {
			b.Close()
			t.Errorf("Open(WebSocket: %q) accepted", addr)
		}
	}
}

// TestCloseWhileClientsLeave closes the broker while its clients are
// disconnecting, many times over. mochi's own Close deadlocks in this
// race (its client list's read lock is taken twice while a departing
// client waits for the write lock); Close must not. The window is a few
// instructions wide, so this is a guard for hangs rather than a sure
// reproduction (the race hung a CI run once).
func TestCloseWhileClientsLeave(t *testing.T) {
	for round := range 100 {
		b, err := Start("", nil)
		if err != nil {
			t.Fatal(err)
		}
		var clients []mqtt.Client
		for i := range 10 {
			c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).
				SetClientID(fmt.Sprintf("c%d-%d", round, i)).SetAutoReconnect(false))
			if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatalf("connect: %v", tok.Error())
			}
			clients = append(clients, c)
		}
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Go(func() { c.Disconnect(0) })
		}
		closed := make(chan error, 1)
		go func() { closed <- b.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second): // a hang, not a slow machine
			t.Fatalf("round %d: Close hung while clients disconnected", round)
		}
		wg.Wait()
	}
}

// TestWebSocket: a client over WebSocket reaches the broker on the port
// Open picked, and a port already taken is Open's error, not a listener
// that silently never serves.
func TestWebSocket(t *testing.T) {
	b, err := Open(Options{WebSocket: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan string, 1)
	if err := b.Subscribe("earshot/#", func(topic string, payload []byte, _ bool) { got <- string(payload) }); err != nil {
		t.Fatal(err)
	}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ws://" + b.WebSocketAddr() + "/mqtt").SetClientID("ws").SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect over websocket to %s: %v", b.WebSocketAddr(), tok.Error())
	}
	// Larger than one read, so a message is read across calls.
	big := strings.Repeat("x", 70000)
	c.Publish("earshot/x/state", 1, false, big).Wait()
	select {
	case m := <-got:
		if m != big {
			t.Errorf("got %d bytes, want %d", len(m), len(big))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("message never arrived")
	}
	c.Disconnect(50)

	taken := b.WebSocketAddr()
	if b2, err := Open(Options{WebSocket: taken}); err == nil {
		b2.Close()
		t.Fatalf("Open on the taken port %s succeeded", taken)
	} else if !strings.Contains(err.Error(), taken) {
		t.Errorf("error %q does not name the address %s", err, taken)
	}
}
