// Package daemon wires earshot together: microphone → listener → encrypted
// store and hub link, the mute button and LED, and the control socket.
//
// It guarantees that while muted the capture stream is stopped (no frame is
// read), that only action records (intent and slots) are handed to the hub,
// and that every deletion, from any source, is published as a receipt.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdaemon "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sync/errgroup"
	"periph.io/x/conn/v3/gpio"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/listen"
	"github.com/earshot/earshot/device/config"
	"github.com/earshot/earshot/device/control"
	"github.com/earshot/earshot/device/hub"
	"github.com/earshot/earshot/device/panel"
	"github.com/earshot/earshot/retention"
)

// Options are the process-level pieces the daemon cannot make itself.
type Options struct {
	Logger *slog.Logger
	// Reload delivers SIGHUP: re-read the intents file and the window.
	Reload <-chan os.Signal
	// Pins, when set, replaces the GPIO lookup (tests pass gpiotest pins).
	Pins func(button, led string) (gpio.PinIn, gpio.PinOut, error)
	// Button and LED tune the panel; zero values are the product's
	// timings (5 s long press). Tests shorten them.
	Button panel.ButtonOptions
	LED    panel.LEDOptions
	// SocketGroup is the group allowed on the control socket ("" = none).
	SocketGroup string
	// Realtime paces file: inputs at real time (the demo); tests and eval
	// feed them as fast as possible.
	Realtime bool
	// Loop replays a file: input forever (tests of a microphone that never ends).
	Loop bool
	// Version is earshot's version, shown to Home Assistant.
	Version string
}

// Daemon is a configured, not yet running earshot.
type Daemon struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger

	store    *retention.Store
	mute     *MuteGate
	link     *hub.Link // nil without a broker
	listener listen.Recognizer
	// loopCtx is the listen loop's context, for what the listener's
	// callbacks start (they run on the listen loop's goroutine).
	loopCtx context.Context
	src     audio.Source
	button  *panel.Button // nil without GPIO
	led     *panel.LED    // nil without GPIO
	earcons *earconPlayer

	started    time.Time
	framesRead atomic.Uint64
	// queue is how many frames the listener may fall behind the
	// microphone (see queued).
	queue     int
	listening atomic.Bool
	receipts  chan retention.Receipt // from the store's own deletions (window, size)

	mu     sync.Mutex
	lastID string // the newest record stored, for ForgetLast
}

// New opens everything the daemon needs and fails with a clear error,
// naming the config key, when something is missing or wrong.
func New(cfg *config.Config, opts Options) (d *Daemon, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	d = &Daemon{cfg: cfg, opts: opts, log: log, started: time.Now(), receipts: make(chan retention.Receipt, 64),
		queue: int(queued / audio.FrameDuration)}
	opened := d // the error returns below set d to nil
	defer func() {
		if err != nil {
			opened.Close()
		}
	}()

	// Only the second opinion's files: FromConfig loads it, once.
	checked, err := check(cfg, listen.OpinionInBackground)
	if err != nil {
		return nil, err
	}
	for _, w := range checked.Warnings {
		log.Warn(w)
	}
	g := checked.Grammar
	d.store, err = retention.Open(cfg.Retention.StoreDir(), retention.Options{
		Window:    cfg.Retention.Window,
		MaxBytes:  cfg.Retention.MaxBytes,
		Keys:      retention.KeyMode(cfg.Retention.Keys),
		Logger:    log,
		OnReceipt: d.storeReceipt,
	})
	if err != nil {
		return nil, fmt.Errorf("retention.dir: %w", err)
	}
	var warn error
	d.mute, warn = OpenMuteGate(cfg.Retention.MuteStatePath())
	if warn != nil {
		log.Error("mute state", "err", warn)
	}
	// The second opinion (Moonshine, seconds to load) loads after READY,
	// while the microphone is heard; a file: input read as fast as it
	// goes is heard with it from its first frame, as `earshot eval`
	// hears a corpus.
	opinion := listen.OpinionInBackground
	if strings.HasPrefix(cfg.Audio.Input, capture.FilePrefix) && !opts.Realtime {
		opinion = listen.OpinionFirst
	}
	lc, err := listen.FromConfig(cfg, g, log, opinion)
	if err != nil {
		return nil, err
	}
	// A wake phrase said alone gets a rising "listening" earcon while the
	// listener waits for the command (the earcon player never blocks).
	lc.Listening = func() { d.earcons.Play(d.ctx(), earconListening) }
	d.listener, err = listen.New(lc)
	if err != nil {
		return nil, fmt.Errorf("wake/speech: %w", err)
	}
	d.src, err = capture.Open(cfg.Audio.Input, capture.Options{Realtime: opts.Realtime, Loop: opts.Loop, Logger: log.With("component", "capture")})
	if err != nil {
		return nil, fmt.Errorf("audio.input: %w", err)
	}
	// Earcons go to the speaker next to a real microphone; a file: input
	// (tests, the demo) has no one to hear them.
	d.earcons = newEarconPlayer(!strings.HasPrefix(cfg.Audio.Input, capture.FilePrefix), func(err error) {
		log.Warn("earcon not played", "err", err)
	})
	if err := d.openPanel(); err != nil {
		return nil, err
	}
	if cfg.MQTT.Broker != "" {
		hc := hubConfig(cfg, opts)
		hc.Intents = g.Intents()
		hc.Logger, hc.ReceiptAcked = log, d.receiptAcked
		d.link, err = hub.New(hc, hubStore{d.store, d}, d.mute)
		if err != nil {
			return nil, fmt.Errorf("mqtt: %w", err)
		}
	}
	d.publishUndelivered()
	return d, nil
}

// publishUndelivered hands the hub the receipts of deletions made while
// the daemon was stopped (earshot purge); each leaves the store's queue
// once the broker has it. Without a hub there is nobody to tell.
func (d *Daemon) publishUndelivered() {
	for _, r := range d.store.Undelivered() {
		d.log.Info("voice history deleted while the daemon was stopped", "scope", r.Scope, "records", r.Records, "receipt", r.ID)
		if d.link != nil {
			d.link.PublishReceipt(r)
		} else {
			d.receiptAcked(r.ID)
		}
	}
}

func (d *Daemon) receiptAcked(id string) {
	if err := d.store.Delivered(id); err != nil {
		d.log.Warn("receipt delivered but still queued; it will be published again at the next start", "receipt", id, "err", err)
	}
}

// ctx returns the capture loop's context.
func (d *Daemon) ctx() context.Context {
	if d.loopCtx == nil {
		return context.Background()
	}
	return d.loopCtx
}

// Run serves until ctx ends, then shuts everything down and returns.
// A failing component (a microphone that vanished) ends Run with its
// error so that systemd restarts the service.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.Close()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.store.Run(ctx) })
	g.Go(func() error { return d.forwardReceipts(ctx) })
	if d.link != nil {
		g.Go(func() error { return d.link.Run(ctx) })
	}
	g.Go(func() error {
		srv := &control.Server{Path: d.cfg.Control.Socket, Group: d.opts.SocketGroup, Service: service{d}, Logger: d.log.With("component", "control")}
		return srv.Run(ctx)
	})
	g.Go(func() error { return d.watchMute(ctx) })
	if d.button != nil {
		g.Go(func() error { return d.runButton(ctx) })
	}
	if d.led != nil {
		g.Go(func() error { return d.led.Run(ctx) })
	}
	if d.opts.Reload != nil {
		g.Go(func() error { return d.reloadLoop(ctx) })
	}
	g.Go(func() error { return d.listen(ctx) })
	sdaemon.SdNotify(false, sdaemon.SdNotifyReady)
	d.notifyStatus()
	err := g.Wait()
	d.earcons.Wait()
	sdaemon.SdNotify(false, sdaemon.SdNotifyStopping)
	return err
}

// Close releases the devices and the store; it is idempotent.
func (d *Daemon) Close() error {
	var errs []error
	if d.src != nil {
		errs = append(errs, d.src.Close())
	}
	if d.listener != nil {
		errs = append(errs, d.listener.Close())
	}
	if d.store != nil {
		errs = append(errs, d.store.Close())
	}
	return errors.Join(errs...)
}

// storeReceipt is the store's callback for deletions nobody asked for
// (window, size); it must not block, so receipts are queued.
func (d *Daemon) storeReceipt(r retention.Receipt) {
	select {
	case d.receipts <- r:
	default:
		d.log.Error("receipt queue full; receipt not published", "scope", r.Scope, "records", r.Records)
	}
}

func (d *Daemon) forwardReceipts(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-d.receipts:
			d.published(r)
		}
	}
}

// published announces a completed deletion to the hub and the log.
func (d *Daemon) published(r retention.Receipt) {
	// The store's own sweeps report empty passes too; those are not news.
	// A deletion someone asked for is always answered with a receipt.
	if r.Records == 0 && (r.Scope == retention.ScopeWindow || r.Scope == retention.ScopeSize) {
		return
	}
	d.log.Info("voice history deleted", "scope", r.Scope, "records", r.Records, "bytes", r.Bytes, "receipt", r.ID)
	if d.link != nil {
		d.link.PublishReceipt(r)
		d.link.PublishState()
	}
	d.notifyStatus()
}

func (d *Daemon) notifyStatus() {
	st := d.store.Stats()
	muted, _ := d.mute.Muted()
	state := "listening"
	if muted {
		state = "muted"
	}
	sdaemon.SdNotify(false, fmt.Sprintf("STATUS=%s; %d records kept, window %s", state, st.Records, hub.FormatWindow(st.Window)))
}
