// Package mosquittotest runs a real mosquitto broker for end-to-end tests:
// anonymous, on a free loopback port, nothing persisted. Without the
// mosquitto binary a test is skipped, and fails under CI (`make deps`
// installs it), so a missing broker never passes for a tested one.
package mosquittotest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Broker is a running mosquitto.
type Broker struct {
	URL  string // tcp://127.0.0.1:port
	Addr string

	mu     sync.Mutex
	logs   bytes.Buffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs mosquitto until the test ends.
func Start(t testing.TB) *Broker {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto" // Debian installs it outside a user's PATH
		if _, serr := os.Stat(bin); serr != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("mosquitto is missing; `make deps` installs it")
			}
			t.Skip("mosquitto not installed (make deps)")
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &Broker{Addr: ln.Addr().String()}
	ln.Close()
	b.URL = "tcp://" + b.Addr
	_, port, _ := net.SplitHostPort(b.Addr)
	conf := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n", port)
	if u, err := user.Current(); err == nil {
		conf = "user " + u.Username + "\n" + conf // as root, mosquitto would drop to an account that cannot read TempDir
	}
	path := filepath.Join(t.TempDir(), "mosquitto.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command(bin, "-c", path)
	b.cmd.Stdout, b.cmd.Stderr = b, b
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start mosquitto: %v", err)
	}
	b.exited = make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(b.exited) }()
	t.Cleanup(b.Kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.Addr, time.Second)
		if err == nil {
			c.Close()
			return b
		}
		select {
		case <-b.exited:
			t.Fatalf("mosquitto exited: %s", b.Logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto not listening on %s: %s", b.Addr, b.Logs())
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

// Write collects the broker's output.
func (b *Broker) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logs.Write(p)
}

// Logs is what the broker printed.
func (b *Broker) Logs() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logs.String()
}

// Kill stops the broker with SIGKILL and waits for it; idempotent.
func (b *Broker) Kill() {
	_ = b.cmd.Process.Kill()
	<-b.exited
}

// Message is one message a Watcher saw.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Watcher is an MQTT client that records every message under a filter, as
// a hub would see them.
type Watcher struct {
	client mqtt.Client
	mu     sync.Mutex
	msgs   []Message
}

// Watch subscribes to filter (QoS1) and returns once the subscription holds.
func Watch(t testing.TB, b *Broker, filter string) *Watcher {
	t.Helper()
	w := &Watcher{}
	subscribed := make(chan error, 1)
	opts := mqtt.NewClientOptions().AddBroker(b.URL).SetClientID(fmt.Sprintf("watch-%d", time.Now().UnixNano())).
		SetOnConnectHandler(func(c mqtt.Client) {
			tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
				w.mu.Lock()
				w.msgs = append(w.msgs, Message{m.Topic(), bytes.Clone(m.Payload()), m.Retained()})
				w.mu.Unlock()
			})
			go func() { tok.Wait(); subscribed <- tok.Error() }() // the handler must not block
		})
	w.client = mqtt.NewClient(opts)
	if tok := w.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher connect: %v", tok.Error())
	}
	t.Cleanup(func() { w.client.Disconnect(50) })
	select {
	case err := <-subscribed:
		if err != nil {
			t.Fatalf("watcher subscribe %s: %v", filter, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("watcher: no subscription to %s", filter)
	}
	return w
}

// Messages returns what was seen so far, in order.
func (w *Watcher) Messages() []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Message(nil), w.msgs...)
}

// Publish sends a QoS1 message and waits for the broker's ack.
func (w *Watcher) Publish(t testing.TB, topic, payload string) {
	t.Helper()
	if tok := w.client.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}
