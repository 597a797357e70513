// Command earshot-hub-example is a reference hub for earshot speakers. It
// subscribes to their action records and deletion receipts, keeps the
// actions in a log file (one JSON record a line) and deletes from it
// whatever a receipt names, and whatever outlives its keep_until: what the
// device forgot, the hub forgets. The rules are in ledger.go; this file
// only connects them to MQTT and a file.
//
//	earshot-hub-example --broker tcp://hub.local:1883 --log /var/lib/hub/actions.jsonl
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

func main() {
	broker := flag.String("broker", "tcp://127.0.0.1:1883", "MQTT broker URL")
	prefix := flag.String("prefix", "earshot", "earshot's mqtt.topic_prefix")
	logPath := flag.String("log", "actions.jsonl", "the action log this hub keeps")
	clientID := flag.String("client-id", "earshot-hub-example", "MQTT client id (a persistent session: receipts sent while the hub was away still arrive)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, log, *broker, *prefix, *logPath, *clientID); err != nil {
		log.Error("earshot-hub-example", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, broker, prefix, path, clientID string) error {
	h := &hub{path: path, log: log, wake: make(chan struct{}, 1)}
	if err := h.load(); err != nil {
		return err
	}
	opts := mqtt.NewClientOptions().AddBroker(broker).SetClientID(clientID).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetOnConnectHandler(func(c mqtt.Client) {
			// Resubscribe on every connection, in case the broker lost the session.
			c.Subscribe(prefix+"/+/action", 1, h.onMessage)
			c.Subscribe(prefix+"/+/receipt", 1, h.onMessage)
		})
	client := mqtt.NewClient(opts)
	client.Connect() // retries in the background until ctx ends
	defer client.Disconnect(250)
	log.Info("hub example running", "broker", broker, "log", path)
	expire := time.NewTicker(time.Minute)
	defer expire.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
		case <-expire.C:
		}
		if err := h.apply(time.Now()); err != nil {
			return err
		}
	}
}

// hub owns the ledger and its file. paho's handler only queues messages:
// it must not block, and the file is written by the run loop.
type hub struct {
	path string
	log  *slog.Logger
	wake chan struct{}

	mu      sync.Mutex
	pending []mqtt.Message // in arrival order: an action before its receipt
	ledger  ledger
}

func (h *hub) onMessage(_ mqtt.Client, m mqtt.Message) {
	h.mu.Lock()
	h.pending = append(h.pending, m)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// apply handles what arrived, forgets what expired, and rewrites the log.
func (h *hub) apply(now time.Time) error {
	h.mu.Lock()
	msgs := h.pending
	h.pending = nil
	h.mu.Unlock()
	for _, m := range msgs {
		levels := strings.Split(m.Topic(), "/")
		device, kind := levels[len(levels)-2], levels[len(levels)-1]
		var err error
		if kind == "action" {
			err = h.ledger.Action(m.Payload(), now)
		} else {
			err = h.ledger.Receipt(device, m.Payload())
		}
		if err != nil {
			h.log.Warn("message ignored", "topic", m.Topic(), "err", err)
		}
	}
	h.ledger.Expire(now)
	return h.save()
}

// save replaces the log file by a new one holding what the ledger keeps,
// synced before the rename, so a forgotten action is not in the log that
// survives a crash.
func (h *hub) save() error {
	var b bytes.Buffer
	for _, a := range h.ledger.actions {
		b.Write(a.Raw)
		b.WriteByte('\n')
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".actions-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), h.path)
}

// load reads the log kept by an earlier run; expired records go at the
// next apply.
func (h *hub) load() error {
	f, err := os.Open(h.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if err := h.ledger.Action(sc.Bytes(), time.Time{}); err != nil {
			return fmt.Errorf("%s: %w", h.path, err)
		}
	}
	return sc.Err()
}

func errBad(what string, payload []byte, err error) error {
	if err == nil {
		err = errors.New("no id")
	}
	if len(payload) > 80 {
		payload = append(payload[:80:80], "…"...)
	}
	return fmt.Errorf("%s %q: %w", what, payload, err)
}
