// Package mosquittotest runs a real mosquitto broker for end-to-end tests:
// on a free loopback port, nothing persisted, anonymous unless the test
// adds TLS, passwords and an ACL; it can be killed and started again on
// the same port. Without the mosquitto binary a test is skipped, and fails
// under CI (`make deps` installs it), so a missing broker never passes for
// a tested one.
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

// Options adds to the broker's configuration.
type Options struct {
	// Config is appended to mosquitto.conf after the listener: TLS files,
	// password_file, acl_file, allow_anonymous false. Without it anyone
	// may connect.
	Config string
}

// Broker is a running mosquitto.
type Broker struct {
	URL  string // tcp://127.0.0.1:port
	Addr string // 127.0.0.1:port

	t    testing.TB
	bin  string
	conf string

	mu     sync.Mutex
	logs   bytes.Buffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs an anonymous mosquitto until the test ends.
func Start(t testing.TB) *Broker {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith runs mosquitto with o until the test ends.
func StartWith(t testing.TB, o Options) *Broker {
	t.Helper()
	bin := Bin(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &Broker{Addr: ln.Addr().String(), t: t, bin: bin}
	ln.Close()
	b.URL = "tcp://" + b.Addr
	_, port, _ := net.SplitHostPort(b.Addr)
	conf := fmt.Sprintf("persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlistener %s 127.0.0.1\n", port)
	if u, err := user.Current(); err == nil {
		conf = "user " + u.Username + "\n" + conf // as root, mosquitto would drop to an account that cannot read TempDir
	}
	if o.Config == "" {
		o.Config = "allow_anonymous true\n"
	}
	b.conf = filepath.Join(t.TempDir(), "mosquitto.conf")
	if err := os.WriteFile(b.conf, []byte(conf+o.Config), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Restart()
	t.Cleanup(b.Kill)
	return b
}

// Bin finds the mosquitto binary, or skips the test (fails it under CI).
func Bin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err == nil {
		return bin
	}
	bin = "/usr/sbin/mosquitto" // Debian installs it outside a user's PATH
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if os.Getenv("CI") != "" {
		t.Fatal("mosquitto is missing; `make deps` installs it")
	}
	t.Skip("mosquitto not installed (make deps)")
	return ""
}

// Restart starts the broker again, on the same port with the same
// configuration, after Kill, and returns once it listens.
func (b *Broker) Restart() {
	b.t.Helper()
	cmd := exec.Command(b.bin, "-c", b.conf)
	cmd.Stdout, cmd.Stderr = b, b
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start mosquitto: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	b.mu.Lock()
	b.cmd, b.exited = cmd, exited
	b.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b.t.Fatalf("mosquitto exited: %s", b.Logs())
		default:
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("mosquitto not listening on %s: %s", b.Addr, b.Logs())
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

// Kill stops the broker the hard way (SIGKILL: no will, no goodbye) and
// waits for it; idempotent.
func (b *Broker) Kill() {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Message is one message a Watcher saw.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
	At       time.Time // when the Watcher received it
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
				w.msgs = append(w.msgs, Message{m.Topic(), bytes.Clone(m.Payload()), m.Retained(), time.Now()})
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
