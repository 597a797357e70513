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

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is a running embedded broker.
type Broker struct {
	srv  *mochi.Server
	addr string
	ws   string
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

// Options says where the broker listens.
type Options struct {
	// Addr is the MQTT-over-TCP address; "" (or port 0) picks a free port
	// on 127.0.0.1.
	Addr string
	// WebSocket, if set, is a second address serving MQTT over WebSocket
	// (any path), as Home Assistant's and browser hubs' brokers do; port
	// 0 picks a free one (WebSocketAddr).
	WebSocket string
	Logger    *slog.Logger
}

// Start listens on addr ("127.0.0.1:0" picks a free port). Only loopback
// addresses are accepted: an open broker must never face a network.
func Start(addr string, logger *slog.Logger) (*Broker, error) {
	return Open(Options{Addr: addr, Logger: logger})
}

// Open starts a broker with the listeners o asks for, all on loopback.
func Open(o Options) (*Broker, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	for _, addr := range []string{o.Addr, o.WebSocket} {
		if err := loopback(addr); err != nil {
			return nil, err
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	srv := mochi.New(&mochi.Options{Logger: o.Logger, InlineClient: true})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, err
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "loopback", Address: o.Addr})
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("local broker on %s: %w", o.Addr, err)
	}
	b := &Broker{srv: srv, addr: tcp.Address()}
	if o.WebSocket != "" {
		ws := newWSListener("websocket", o.WebSocket)
		if err := srv.AddListener(ws); err != nil {
			b.Close()
			return nil, fmt.Errorf("local broker websocket on %s: %w", o.WebSocket, err)
		}
		b.ws = ws.Address()
	}
	if err := srv.Serve(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// loopback refuses an address that is not on a loopback interface; ""
// (no listener) passes.
func loopback(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("local broker address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("local broker address %q: only loopback is allowed", addr)
	}
	return nil
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

// WebSocketAddr is the host:port serving MQTT over WebSocket, "" for none.
func (b *Broker) WebSocketAddr() string { return b.ws }

// Close stops the broker; it is idempotent.
//
// mochi's own Close cannot be called first: it finds each listener's
// clients with Clients.GetByListener, which takes the client list's read
// lock twice (it calls Len inside), and a client detaching in between
// asks for the write lock, so both wait for ever (seen in CI). So the
// listeners are closed here first, their clients disconnected from a
// single read of the list, and every connection's goroutine waited for
// (CloseAll waits on them); mochi's Close then finds nothing left to
// detach.
func (b *Broker) Close() error {
	var err error
	b.once.Do(func() {
		b.srv.Listeners.CloseAll(b.disconnect)
		err = b.srv.Close()
	})
	return err
}

// disconnect drops every client that came in on listener.
func (b *Broker) disconnect(listener string) {
	for _, cl := range b.srv.Clients.GetAll() {
		if cl.Net.Listener == listener && !cl.Closed() {
			_ = b.srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
		}
	}
}
