package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	sdaemon "github.com/coreos/go-systemd/v22/daemon"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/listen"
	"github.com/earshot/earshot/device/config"
	"github.com/earshot/earshot/device/hub"
	"github.com/earshot/earshot/retention"
)

// queued is how much audio the capture goroutine holds for the listener.
// Some of the listener's steps take longer than a frame: reading a
// command with the second opinion takes about a second on a desktop core
// and several on a Pi, and a store on a slow card can stall. The
// microphone's own buffer holds well under a second, so without the
// queue what a person said right after a command was lost.
const queued = 5 * time.Second

// A chunk is what the capture goroutine hands the listener: a frame, or a
// mark in its place.
type chunk struct {
	pcm  []int16 // a frame of audio; nil with a mark
	mark mark
	done chan struct{} // inputEnded: closed once the listener is through
}

type mark uint8

const (
	audioFrame mark = iota
	// streamStopped: the microphone was stopped (mute). What was queued
	// went with it; the listener forgets what it had begun.
	streamStopped
	// inputEnded: a file input has been played out.
	inputEnded
)

// captureLoop owns the audio source: it is the only goroutine that starts,
// stops or reads it. Mute is checked before every frame, so a mute takes
// effect within one frame and the stream is stopped, not ignored, however
// busy the listener is: frames go to listenLoop through a queue.
func (d *Daemon) captureLoop(ctx context.Context, frames chan chunk, pool *framePool, wd *watchdog) error {
	stop := func() {
		if d.listening.Load() {
			if err := d.src.Stop(); err != nil {
				d.log.Error("stopping the microphone", "err", err)
			}
			d.listening.Store(false)
			// What the listener has not yet taken was heard before the
			// mute; it goes, wiped, and the listener starts afresh.
			for drained := false; !drained; {
				select {
				case c := <-frames:
					pool.put(c.pcm)
				default:
					drained = true
				}
			}
			frames <- chunk{mark: streamStopped} // room: this goroutine alone sends
		}
	}
	defer stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		changed := d.mute.Changed()
		if muted, _ := d.mute.Muted(); muted {
			stop()
			wd.ping()
			tick := time.NewTimer(wd.idle)
			select {
			case <-ctx.Done():
			case <-changed:
			case <-tick.C:
			}
			tick.Stop()
			continue
		}
		if !d.listening.Load() {
			if err := d.src.Start(); err != nil {
				return fmt.Errorf("audio.input %s: start: %w", d.cfg.Audio.Input, err)
			}
			d.listening.Store(true)
		}
		frame := pool.get()
		err := d.src.Read(frame)
		switch {
		case errors.Is(err, audio.ErrStopped):
			pool.put(frame)
			continue
		case errors.Is(err, io.EOF):
			pool.put(frame)
			d.log.Info("audio input ended", "input", d.cfg.Audio.Input)
			// The stream counts as running until the listener is through
			// what it heard.
			done := make(chan struct{})
			select {
			case frames <- chunk{mark: inputEnded, done: done}:
			case <-ctx.Done():
				return nil
			}
			select {
			case <-done:
			case <-ctx.Done():
				return nil
			}
			d.listening.Store(false)
			if err := d.src.Stop(); err != nil {
				d.log.Error("stopping the microphone", "err", err)
			}
			// Still alive: keep the watchdog fed until shutdown.
			for {
				tick := time.NewTimer(wd.idle)
				select {
				case <-ctx.Done():
					tick.Stop()
					return nil
				case <-tick.C:
					wd.ping()
				}
			}
		case err != nil:
			pool.put(frame)
			return fmt.Errorf("audio.input %s: %w", d.cfg.Audio.Input, err)
		}
		d.framesRead.Add(1)
		// A listener more than the queue behind holds the microphone
		// back, as it always did (a real device then overruns its own
		// buffer, which capture counts and logs; a source faster than
		// real time is paced), but a mute still stops it.
		select {
		case frames <- chunk{pcm: frame}:
		case <-changed:
			pool.put(frame)
		case <-ctx.Done():
			pool.put(frame)
			return nil
		}
	}
}

// listenLoop hands the microphone's frames to the listener and acts on
// what it hears. It feeds the watchdog with every frame it takes, so a
// listener that stops taking them is restarted by systemd.
func (d *Daemon) listenLoop(ctx context.Context, frames <-chan chunk, pool *framePool, wd *watchdog) error {
	d.loopCtx = ctx
	for {
		var c chunk
		select {
		case <-ctx.Done():
			return nil
		case c = <-frames:
		}
		switch c.mark {
		case streamStopped:
			d.listener.Reset()
			continue
		case inputEnded:
			// A command still being spoken at the input's end is
			// completed, not dropped.
			if u, ok, err := d.listener.Flush(); err == nil && ok {
				d.handle(ctx, u)
			}
			d.listener.Reset()
			close(c.done)
			continue
		}
		wd.ping()
		u, ok, err := d.listener.Feed(c.pcm)
		pool.put(c.pcm)
		if err != nil {
			return fmt.Errorf("recogniser: %w", err)
		}
		if ok {
			d.handle(ctx, u)
		}
	}
}

// listen runs captureLoop and listenLoop until ctx ends or either fails.
func (d *Daemon) listen(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := max(1, d.queue) // room for the mute's mark (captureLoop's stop)
	frames := make(chan chunk, n)
	pool := &framePool{free: make(chan []int16, n+2)}
	wd := newWatchdog()
	errs := make(chan error, 2)
	go func() { errs <- d.captureLoop(ctx, frames, pool, wd) }()
	go func() { errs <- d.listenLoop(ctx, frames, pool, wd) }()
	err := <-errs
	cancel()
	return errors.Join(err, <-errs)
}

// framePool keeps the queue's frames for reuse: the microphone delivers
// fifty a second, for as long as the device runs.
type framePool struct{ free chan []int16 }

func (p *framePool) get() []int16 {
	select {
	case f := <-p.free:
		return f
	default:
		return make([]int16, audio.FrameSamples)
	}
}

// put takes a frame back, wiped: it held what the microphone heard.
func (p *framePool) put(f []int16) {
	if f == nil {
		return
	}
	clear(f)
	select {
	case p.free <- f:
	default:
	}
}

// watchdog feeds systemd's watchdog, when one is set, at most every
// third of its interval; ping is safe for concurrent use. idle is how
// often a loop with no frames flowing (muted, input ended) wakes just to
// ping: every second, or a third of the interval if that is shorter.
type watchdog struct {
	interval time.Duration // 0: no watchdog
	idle     time.Duration
	mu       sync.Mutex
	last     time.Time
}

func newWatchdog() *watchdog {
	w := &watchdog{idle: time.Second}
	if w.interval, _ = sdaemon.SdWatchdogEnabled(false); w.interval > 0 {
		w.idle = min(w.idle, w.interval/3)
	}
	return w
}

func (w *watchdog) ping() {
	if w.interval <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.last) >= w.interval/3 {
		sdaemon.SdNotify(false, sdaemon.SdNotifyWatchdog)
		w.last = time.Now()
	}
}

// handle acts on one complete utterance. The transcript goes only into the
// encrypted store; the hub gets the intent and its slots. The plaintext
// audio is wiped (and its buffer given back to the listener) on the way out.
func (d *Daemon) handle(ctx context.Context, u listen.Utterance) {
	defer d.listener.Recycle(u.Audio)
	// A record is dated when it was heard in full: a window shorter than
	// the utterance still keeps it for the whole window.
	now := time.Now()
	switch u.Intent {
	case intents.ForgetLast:
		if d.forgetLast() {
			d.earcons.Play(ctx, earconForgotten)
		}
		return
	case intents.ForgetToday:
		y, m, dd := now.Date()
		r, err := d.store.DeleteSince(time.Date(y, m, dd, 0, 0, 0, 0, now.Location()))
		if d.afterDelete("ForgetToday", r, err) {
			d.earcons.Play(ctx, earconForgotten)
		}
		return
	}
	rec, err := d.store.Append(retention.Record{
		Time:       now,
		Duration:   u.Duration,
		Transcript: u.Transcript,
		Intent:     u.Intent,
		Slots:      u.Slots,
	}, u.Audio)
	id := rec.ID
	keepUntil := now // nothing kept: a hub that honours keep_until keeps nothing either
	switch {
	case errors.Is(err, retention.ErrNotKept):
		// window 0: nothing is kept, the command still acts.
		id = retention.NewID(now)
	case err != nil:
		d.log.Error("storing the recording failed; the command still acts", "err", err)
		id = retention.NewID(now)
	default:
		keepUntil = rec.Time.Add(d.store.Stats().Window)
		d.mu.Lock()
		d.lastID = id
		d.mu.Unlock()
	}
	if u.Intent == "" {
		d.log.Info("utterance not understood; kept on the device only", "id", id)
		d.earcons.Play(ctx, earconNotUnderstood)
	} else {
		d.log.Info("command understood", "id", id, "intent", u.Intent)
		if d.link != nil {
			d.link.PublishAction(hub.Action{ID: id, Device: d.cfg.DeviceID, Time: now, Intent: u.Intent, Slots: u.Slots, KeepUntil: keepUntil})
		}
	}
	d.log.Debug("utterance", "id", id, "transcript", u.Transcript) // DEBUG only: never at INFO or above
	if d.link != nil {
		d.link.PublishState()
	}
	d.notifyStatus()
}

// forgetLast deletes the newest record: what the user just said before
// asking to forget it. It reports whether something was forgotten.
func (d *Daemon) forgetLast() bool {
	d.mu.Lock()
	id := d.lastID
	d.lastID = ""
	d.mu.Unlock()
	if id == "" {
		if recs, err := d.store.List(retention.Filter{Limit: 1}); err == nil && len(recs) > 0 {
			id = recs[0].ID
		}
	}
	if id == "" {
		d.log.Info("ForgetLast: nothing to forget")
		return false
	}
	r, err := d.store.Delete(id)
	return d.afterDelete("ForgetLast", r, err)
}

// afterDelete publishes a deletion's receipt, or logs why it failed. What
// did go before a failure is published too.
func (d *Daemon) afterDelete(what string, r retention.Receipt, err error) bool {
	if err != nil && r.Records > 0 {
		d.published(r)
	}
	if err != nil {
		d.log.Error(what+" failed", "err", err)
		return false
	}
	d.published(r)
	return true
}

// watchMute keeps the LED and the hub's state in step with the mute gate.
func (d *Daemon) watchMute(ctx context.Context) error {
	for {
		changed := d.mute.Changed()
		muted, source := d.mute.Muted()
		if d.led != nil {
			d.led.Set(muted)
		}
		if d.link != nil {
			d.link.PublishState()
		}
		d.log.Info("mute", "muted", muted, "source", source)
		d.notifyStatus()
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// reloadLoop applies SIGHUP: a new intents file and a window no longer
// than the ceiling in force, without touching the audio stream.
func (d *Daemon) reloadLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.opts.Reload:
			if err := d.Reload(); err != nil {
				d.log.Error("reload refused; keeping the running configuration", "err", err)
			}
		}
	}
}

// Reload re-reads the config file and the intents file it names.
func (d *Daemon) Reload() error {
	cfg, err := config.Load(d.cfg.Path)
	if err != nil {
		return err
	}
	g, err := intents.Load(cfg.Speech.Intents)
	if err != nil {
		return err
	}
	if err := d.listener.SetGrammar(g); err != nil {
		return fmt.Errorf("speech.intents: %w", err)
	}
	if d.link != nil {
		d.link.SetIntents(g.Intents())
	}
	// The config's window is a ceiling: a reload may lower it, and the
	// window in force stays the shorter of it and the hub's.
	if ceiling := d.store.Stats().Ceiling; cfg.Retention.Window > ceiling {
		d.log.Warn("reload cannot lengthen the retention window; restart the service for that",
			"ceiling", ceiling, "asked", cfg.Retention.Window)
	} else if r, err := d.store.SetCeiling(cfg.Retention.Window); err != nil {
		return fmt.Errorf("retention.window: %w", err)
	} else {
		d.published(r)
	}
	d.log.Info("reloaded", "intents", len(g.Intents()), "window", d.store.Stats().Window)
	if d.link != nil {
		d.link.PublishState()
	}
	return nil
}
