package listen

import (
	"fmt"
	"time"

	"github.com/earshot/earshot/audio"
)

// Feed takes one 20 ms frame. ok is true when it completed an utterance.
func (l *Listener) Feed(frame []int16) (Utterance, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return Utterance{}, false, ErrClosed
	}
	if len(frame) != audio.FrameSamples {
		return Utterance{}, false, fmt.Errorf("listen: frame of %d samples, expected %d", len(frame), audio.FrameSamples)
	}
	speech := l.vad.IsSpeech(frame)
	if speech {
		l.silent = 0
	} else {
		l.silent++
	}
	switch l.st {
	case idle:
		l.hist.Write(frame)
		if !speech {
			return Utterance{}, false, nil
		}
		l.lead = l.hist.Snapshot(l.lead[:0])
		if n := frames(spotLead) * audio.FrameSamples; len(l.lead) > n {
			l.lead = l.lead[len(l.lead)-n:]
		}
		l.st = spotting
		if err := l.spot(l.lead); err != nil {
			return Utterance{}, false, err
		}
	case spotting:
		l.hist.Write(frame)
		if err := l.spot(frame); err != nil {
			return Utterance{}, false, err
		}
		if l.st == spotting && l.silent >= frames(spotHangover) {
			// Speech is over without a wake word; the spotter sleeps
			// until the next speech.
			l.st = idle
			if err := l.dec.EndUtt(); err != nil {
				return Utterance{}, false, fmt.Errorf("listen: %w", err)
			}
		}
	case capturing:
		l.rec = append(l.rec, frame...)
		l.recFrames++
		if speech {
			// The VAD's hangover carries the wake phrase a few frames
			// past the hit; only speech beyond that is the command.
			l.speechFrames++
			l.heard = l.speechFrames > commandOnset
		}
		if err := l.process(frame); err != nil {
			return Utterance{}, false, l.fail(err)
		}
		if !l.cfg.SkipVerify && l.recFrames%frames(partialEvery) == 0 {
			// The final search can end without any path through the
			// grammar (all pruned); the last partial hypothesis stands in.
			l.partial, _ = l.dec.Hyp()
		}
		if !l.cfg.SkipVerify && l.recFrames == frames(earlyCheck) {
			if err := l.checkEarly(); err != nil || l.st != capturing {
				return Utterance{}, false, err
			}
		}
		wait := commandWait
		if l.heard {
			wait = l.cfg.EndSilence
			if !l.cfg.SkipVerify && quickEnd < wait && l.silent == frames(quickEnd) && l.complete() {
				return l.finish()
			}
		}
		if l.silent >= frames(wait) || l.recFrames >= frames(l.cfg.MaxUtterance) {
			return l.finish()
		}
	}
	return Utterance{}, false, nil
}

// Flush ends an utterance being captured, as at the end of a file.
func (l *Listener) Flush() (Utterance, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return Utterance{}, false, ErrClosed
	}
	if l.st != capturing {
		l.resetLocked()
		return Utterance{}, false, nil
	}
	return l.finish()
}

// spot runs keyword spotting on pcm and starts capturing on a hit.
func (l *Listener) spot(pcm []int16) error {
	if err := l.process(pcm); err != nil {
		return l.fail(err)
	}
	if hyp, _ := l.dec.Hyp(); hyp == "" {
		return nil
	}
	l.log.Debug("wake phrase spotted")
	// The history holds pre-roll + wake phrase; decode it again in the
	// verifying search, then keep recording the command.
	if err := l.dec.SetSearch(searchVerify); err != nil {
		return l.fail(err)
	}
	l.rec = l.hist.Snapshot(make([]int16, 0, l.hist.Cap()+frames(l.cfg.MaxUtterance)*audio.FrameSamples))
	l.recFrames, l.speechFrames = 0, 0
	l.heard = false
	l.silent = 0
	l.st = capturing
	if l.cfg.SkipVerify {
		return nil // the baseline decodes only the command after the hit
	}
	// Verify only the wake phrase and a little before it: the rest of
	// the pre-roll is for the recording, and decoding it would cost CPU
	// and memory on every (mostly false) hit.
	lead := l.rec
	if n := frames(wakeSpan+spotLead) * audio.FrameSamples; len(lead) > n {
		lead = lead[len(lead)-n:]
	}
	if err := l.process(lead); err != nil {
		return l.fail(err)
	}
	return nil
}

// checkEarly settles the verification soon after the hit. Most hits on
// ordinary speech are false, and carrying the phone loop through seconds of
// speech costs CPU and memory. A partial hypothesis cannot tell (it favours
// the phone loop mid-word), so the utterance is ended to get a final one;
// if it holds the wake phrase the decode restarts on the same audio.
func (l *Listener) checkEarly() error {
	if err := l.dec.EndUtt(); err != nil {
		return l.fail(err)
	}
	hyp, _ := l.dec.Hyp()
	if hyp != "" && !judge(hyp, l.wake).wake {
		l.log.Debug("wake phrase rejected early by verification")
		return l.abandon()
	}
	redo := l.rec
	if n := (frames(wakeSpan+spotLead) + l.recFrames) * audio.FrameSamples; len(redo) > n {
		redo = redo[len(redo)-n:]
	}
	if err := l.process(redo); err != nil {
		return l.fail(err)
	}
	return nil
}

// abandon drops the utterance being captured and resumes spotting.
func (l *Listener) abandon() error {
	l.partial = ""
	clear(l.rec)
	l.rec = nil
	l.st = idle
	l.silent, l.heard, l.recFrames, l.speechFrames = 0, false, 0, 0
	l.hist.Reset()
	if err := l.dec.SetSearch(searchWake); err != nil {
		return l.fail(err)
	}
	return nil
}

// finish decodes the captured utterance and hands it over.
func (l *Listener) finish() (Utterance, bool, error) {
	rec := l.rec
	l.rec = nil
	if err := l.dec.EndUtt(); err != nil {
		return Utterance{}, false, l.fail(err)
	}
	hyp, _ := l.dec.Hyp()
	if hyp == "" {
		hyp = l.partial
	}
	l.partial = ""
	l.st = idle
	l.silent, l.heard, l.recFrames = 0, false, 0
	l.hist.Reset()
	if err := l.dec.SetSearch(searchWake); err != nil {
		return Utterance{}, false, l.fail(err)
	}
	var v verdict
	if l.cfg.SkipVerify {
		v = verdict{wake: true, transcript: hyp, complete: hyp != ""}
	} else {
		v = judge(hyp, l.wake)
	}
	if !v.wake {
		l.log.Debug("wake phrase rejected by verification")
		clear(rec)
		return Utterance{}, false, nil
	}
	u := Utterance{
		Audio:      rec,
		Transcript: v.transcript,
		Duration:   time.Duration(len(rec)) * time.Second / audio.SampleRate,
		Slots:      map[string]string{},
	}
	if v.complete {
		if m, ok := l.gram.Match(v.transcript); ok {
			u.Intent, u.Slots = m.Intent, m.Slots
		}
	}
	l.log.Debug("utterance", "intent", u.Intent, "transcript", u.Transcript, "duration", u.Duration)
	return u, true, nil
}

// fail resets after a decoder error so the next frame starts cleanly.
func (l *Listener) fail(err error) error {
	l.resetLocked()
	return fmt.Errorf("listen: %w", err)
}

// process decodes pcm, counting what was decoded so tests and benchmarks
// can see how much audio the VAD spared.
func (l *Listener) process(pcm []int16) error {
	l.decoded += int64(len(pcm))
	return l.dec.Process(pcm)
}

// complete reports whether the command heard so far is a whole sentence of
// the grammar, after the wake phrase.
func (l *Listener) complete() bool {
	hyp, _ := l.dec.Hyp()
	v := judge(hyp, l.wake)
	if !v.wake || !v.complete {
		return false
	}
	_, ok := l.gram.Match(v.transcript)
	return ok
}
