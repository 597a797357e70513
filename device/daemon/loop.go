package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	sdaemon "github.com/coreos/go-systemd/v22/daemon"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/listen"
	"github.com/earshot/earshot/device/config"
	"github.com/earshot/earshot/device/hub"
	"github.com/earshot/earshot/retention"
)

// captureLoop owns the audio source: it is the only goroutine that starts,
// stops or reads it. Mute is checked before every frame, so a mute takes
// effect within one frame and the stream is stopped, not ignored.
func (d *Daemon) captureLoop(ctx context.Context) error {
	d.loopCtx = ctx
	frame := make([]int16, audio.FrameSamples)
	watchdog, _ := sdaemon.SdWatchdogEnabled(false)
	// While no frames flow (muted, input ended) the loop wakes this often
	// just to feed the watchdog.
	idleTick := time.Second
	if watchdog > 0 && watchdog/3 < idleTick {
		idleTick = watchdog / 3
	}
	var lastPing time.Time
	ping := func() {
		if watchdog > 0 && time.Since(lastPing) >= watchdog/3 {
			sdaemon.SdNotify(false, sdaemon.SdNotifyWatchdog)
			lastPing = time.Now()
		}
	}
	stop := func() {
		if d.listening.Load() {
			if err := d.src.Stop(); err != nil {
				d.log.Error("stopping the microphone", "err", err)
			}
			d.listening.Store(false)
			d.listener.Reset()
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
			ping()
			tick := time.NewTimer(idleTick)
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
		err := d.src.Read(frame)
		switch {
		case errors.Is(err, audio.ErrStopped):
			continue
		case errors.Is(err, io.EOF):
			// A file input has been played out; a command still being
			// spoken at its end is completed, not dropped.
			d.log.Info("audio input ended", "input", d.cfg.Audio.Input)
			if u, ok, err := d.listener.Flush(); err == nil && ok {
				d.handle(ctx, u)
			}
			stop()
			// Still alive: keep the watchdog fed until shutdown.
			for {
				tick := time.NewTimer(idleTick)
				select {
				case <-ctx.Done():
					tick.Stop()
					return nil
				case <-tick.C:
					ping()
				}
			}
		case err != nil:
			return fmt.Errorf("audio.input %s: %w", d.cfg.Audio.Input, err)
		}
		d.framesRead.Add(1)
		ping()
		u, ok, err := d.listener.Feed(frame)
		if err != nil {
			return fmt.Errorf("recogniser: %w", err)
		}
		if ok {
			d.handle(ctx, u)
		}
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
