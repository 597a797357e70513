// Package localbroker runs an embedded MQTT broker (mochi-mqtt) on a
// loopback address, for `make demo` and for tests that want a real broker
// without a mosquitto process. It is not for production: it accepts any
// client and keeps nothing on disk.
package localbroker

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is a running embedded broker.
type Broker struct {
	srv  *mochi.Server
	addr string
	once sync.Once

	mu  sync.Mutex
	sub int
}

// nextSub numbers inline subscriptions: mochi keys them by filter and id.
func (b *Broker) nextSub() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sub++
	return b.sub
}

// Start listens on addr ("127.0.0.1:0" picks a free port). Only loopback
// addresses are accepted: an open broker must never face a network.
func Start(addr string, logger *slog.Logger) (*Broker, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("local broker address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("local broker address %q: only loopback is allowed", addr)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := mochi.New(&mochi.Options{Logger: logger, InlineClient: true})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, err
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "loopback", Address: addr})
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("local broker on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		return nil, err
	}
	return &Broker{srv: srv, addr: tcp.Address()}, nil
}

// URL is the broker's address for an MQTT client, tcp://host:port.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Subscribe calls fn for every message matching filter, from the broker's
// own goroutines; fn must not block.
func (b *Broker) Subscribe(filter string, fn func(topic string, payload []byte, retained bool)) error {
	return b.srv.Subscribe(filter, b.nextSub(), func(_ *mochi.Client, _ packets.Subscription, pk packets.Packet) {
		fn(pk.TopicName, append([]byte(nil), pk.Payload...), pk.FixedHeader.Retain)
	})
}

// Publish injects a message as if a client had sent it.
func (b *Broker) Publish(topic string, payload []byte, retain bool) error {
	return b.srv.Publish(topic, payload, retain, 1)
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return b.addr }

// detachWait bounds how long Close waits for departed clients.
const detachWait = 500 * time.Millisecond

// Close stops the broker; it is idempotent. It first lets clients that
// have just disconnected be detached: mochi's Close takes its client
// list's read lock twice over (GetByListener calls Len), and a detach
// asking for the write lock in between deadlocks both (seen in CI).
func (b *Broker) Close() error {
	var err error
	b.once.Do(func() {
		deadline := time.Now().Add(detachWait)
		for atomic.LoadInt64(&b.srv.Info.ClientsConnected) > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		err = b.srv.Close()
	})
	return err
}
