package localbroker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// wsListener serves MQTT over WebSocket, as mochi's own listener does,
// but binds its address in Init: mochi's binds in Serve, on a goroutine
// of its own, so a port already taken was only logged and Open
// succeeded with no WebSocket listener at all. Bound first, the failure
// is Open's error, and ":0" can pick a free port (Broker.WebSocketAddr).
type wsListener struct {
	id, addr string
	ln       net.Listener
	srv      *http.Server
	up       websocket.Upgrader
	log      *slog.Logger
	// establish is set by Serve before its server accepts: every
	// handler runs after it.
	establish listeners.EstablishFn
}

var _ listeners.Listener = (*wsListener)(nil)

func newWSListener(id, addr string) *wsListener {
	return &wsListener{id: id, addr: addr, up: websocket.Upgrader{
		Subprotocols: []string{"mqtt"},
		// A browser hub on another origin may connect: the broker is
		// on loopback, for the demo and tests.
		CheckOrigin: func(*http.Request) bool { return true },
	}}
}

func (l *wsListener) ID() string       { return l.id }
func (l *wsListener) Protocol() string { return "ws" }

// Address is the bound address once Init has run ("127.0.0.1:0" becomes
// the port picked).
func (l *wsListener) Address() string {
	if l.ln != nil {
		return l.ln.Addr().String()
	}
	return l.addr
}

func (l *wsListener) Init(log *slog.Logger) error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return err
	}
	l.ln, l.log = ln, log
	l.srv = &http.Server{Handler: http.HandlerFunc(l.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// Serve serves until Close; after Close it returns at once (the
// server's Serve after Shutdown does).
func (l *wsListener) Serve(establish listeners.EstablishFn) {
	l.establish = establish
	if err := l.srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		l.log.Error("websocket listener stopped", "error", err, "listener", l.id)
	}
}

func (l *wsListener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := l.up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	defer c.Close()
	if err := l.establish(l.id, &wsConn{Conn: c.NetConn(), c: c}); err != nil {
		l.log.Debug("websocket client ended", "error", err, "listener", l.id)
	}
}

// Close may come twice (the broker's Close, then mochi's own) and
// before Serve.
func (l *wsListener) Close(closeClients listeners.CloseFn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.srv.Shutdown(ctx)
	// Shutdown closes only the sockets Serve took: not this one, when
	// Serve never ran.
	_ = l.ln.Close()
	closeClients(l.id)
}

// wsConn is a WebSocket connection as the stream of bytes MQTT is: each
// binary message is read through, writes are one message each.
type wsConn struct {
	net.Conn
	c *websocket.Conn
	r io.Reader // the message being read, nil between messages
}

func (ws *wsConn) Read(p []byte) (int, error) {
	for {
		if ws.r == nil {
			op, r, err := ws.c.NextReader()
			if err != nil {
				return 0, err
			}
			if op != websocket.BinaryMessage {
				return 0, fmt.Errorf("websocket: a message of type %d, MQTT is sent in binary messages", op)
			}
			ws.r = r
		}
		n, err := ws.r.Read(p)
		if errors.Is(err, io.EOF) {
			ws.r = nil
			if n == 0 {
				continue // an empty message, or the end of one: read the next
			}
			err = nil
		}
		return n, err
	}
}

func (ws *wsConn) Write(p []byte) (int, error) {
	if err := ws.c.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}
