package listen

import (
	"fmt"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/vad"
	"github.com/earshot/earshot/audio/wakenet"
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
		// (l.lead keeps the whole snapshot's buffer so the next one
		// reuses it; only its tail goes to the spotter.)
		l.lead = l.hist.Snapshot(l.lead[:0])
		l.st, l.spotFrames = spotting, 0
		if l.stream != nil {
			// The window before the onset, not the whole pre-roll: each
			// 10 ms costs an FFT.
			l.stream.Reset()
			l.stream.Push(last(l.lead, wakenet.WindowSamples))
		}
		if err := l.spot(last(l.lead, frames(spotLead))); err != nil {
			return Utterance{}, false, err
		}
	case spotting:
		l.hist.Write(frame)
		if l.stream != nil {
			l.stream.Push(frame)
		}
		if err := l.spot(frame); err != nil {
			return Utterance{}, false, err
		}
		if l.st != spotting {
			break
		}
		l.spotFrames++
		if l.silent >= frames(rearmPause) {
			l.spotFrames = 0
		}
		switch {
		case l.silent >= frames(spotHangover):
			// Speech is over without a wake word; the spotter sleeps
			// until the next speech.
			l.st = idle
		case l.spotFrames >= frames(spotSpan) && !l.cfg.SkipVerify:
			// (The plain-KWS baseline spots all speech, as PocketSphinx does.)
			l.st = talking
		default:
			return Utterance{}, false, nil
		}
		if err := l.spotter.EndUtt(); err != nil {
			return Utterance{}, false, fmt.Errorf("listen: %w", err)
		}
	case talking:
		l.hist.Write(frame)
		if l.silent >= frames(rearmPause) {
			l.st = idle
		}
	case capturing:
		l.rec = append(l.rec, frame...)
		l.recFrames++
		switch {
		case speech:
			// The VAD's hangover carries the wake phrase a few frames
			// past the hit; only speech beyond that is the command.
			l.speechFrames++
			l.heard = l.heard || l.speechFrames > commandOnset
		case l.inWake:
			// The first pause after the hit ends the wake phrase (see
			// wakeTail): the command starts after it.
			l.inWake = false
			if !l.heard {
				l.speechFrames = 0
			}
		}
		if err := l.process(frame); err != nil {
			return Utterance{}, false, l.fail(err)
		}
		// quiet counts frames far below the command's loudest so far: a
		// level-independent end of speech that does not wait for the
		// VAD to follow a fading last sound down to the noise floor.
		if p := vad.Power(frame); p > l.peak {
			l.peak, l.quiet = p, 0
		} else if p*quietRatio < l.peak {
			l.quiet++
		} else {
			l.quiet = 0
		}
		// The verifier's hypothesis moves only while it decodes: not for
		// a candidate only the classifier keeps (see process).
		decoding := !l.cfg.SkipVerify && !l.onlyNet
		if decoding && l.recFrames%frames(partialEvery) == 0 {
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
			// From finalEnd to quickEnd the hypothesis is read on every
			// frame: the decoder reports a last word only once it has
			// left it, which can take a few frames of silence.
			ended := l.silent >= frames(finalEnd) || l.quiet >= frames(finalEnd)
			if decoding && ended && l.silent <= frames(quickEnd) {
				if whole, final := l.complete(); final || (whole && l.silent >= frames(quickEnd)) {
					return l.finish()
				}
			}
		}
		if l.silent >= frames(wait) || l.recFrames >= frames(l.cfg.MaxUtterance) ||
			(l.onlyNet && l.recFrames >= frames(commandSpan)) {
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
	scanned := false
	if hyp, _ := l.spotter.Hyp(); hyp == "" {
		if scanned = l.scan(); !scanned {
			return nil
		}
	}
	l.log.Debug("wake phrase spotted", "by_classifier", scanned)
	l.stats.Hits++
	// The history holds pre-roll + wake phrase; decode it again in the
	// verifying search, then keep recording the command.
	if err := l.spotter.EndUtt(); err != nil {
		return l.fail(err)
	}
	buf := l.spare
	l.spare = nil
	if buf == nil {
		buf = make([]int16, 0, l.hist.Cap()+frames(l.cfg.MaxUtterance)*audio.FrameSamples)
	}
	l.rec = l.hist.Snapshot(buf)
	if l.cfg.Candidates != nil {
		l.cfg.Candidates(last(l.rec, wakenet.ContextSamples))
	}
	if l.net != nil && !scanned {
		l.score = l.net.Score(last(l.rec, wakenet.WindowSamples))
		if l.score < l.net.Net.Reject {
			// Most hits on ordinary speech end here, before the
			// verifier spends anything on them.
			l.stats.Dropped++
			return l.abandon()
		}
	}
	if l.dec != l.spotter {
		// The verifier starts from the cepstral mean of what was just
		// said, not PocketSphinx's own estimate, which on a new channel
		// is mostly the model's initial one for seconds.
		l.dec.UseTrackedMean()
	}
	if err := l.dec.SetSearch(searchVerify); err != nil {
		return l.fail(err)
	}
	l.recFrames, l.peak, l.quiet = 0, 0, 0
	l.speechFrames, l.inWake = -frames(wakeTail), true
	l.heard = false
	l.silent = 0
	l.st = capturing
	if l.cfg.SkipVerify {
		return nil // the baseline decodes only the command after the hit
	}
	// Verify only the wake phrase and a little before it: the rest of
	// the pre-roll is for the recording, and decoding it would cost CPU
	// and memory on every (mostly false) hit.
	if err := l.process(last(l.rec, frames(wakeSpan+spotLead))); err != nil {
		return l.fail(err)
	}
	return nil
}

// scan reports whether the classifier, scoring the latest window of
// speech every other frame, hears the wake phrase where the keyword
// spotter did not (see wakenet.Thresholds.Scan); l.score is then its
// score.
func (l *Listener) scan() bool {
	if l.stream == nil || !l.stream.Ready() {
		return false
	}
	l.scanTick++
	if l.scanTick%scanEvery != 0 {
		return false
	}
	s, ok := l.net.ScanStream(l.stream, l.net.Net.Scan)
	if !ok {
		return false
	}
	l.score = s
	l.stats.Scanned++
	return true
}

// commandSpan is how much audio after the hit the second looks at an
// utterance decode (the command search, the warped looks, the deletion
// check), and how long a candidate only the classifier keeps is heard.
// A command follows the wake phrase at once (at most maxGap phones of
// garbage before it), and the corpus grammar's longest takes under 3 s;
// the rest of a long utterance - a false wake in running speech, mostly -
// only costs memory: 10 s of it through the command search took the dev
// corpus's peak to 41 MB.
const commandSpan = 5 * time.Second

// wakeTail is how much of the wake phrase may still follow a hit: speech
// up to the first pause after it, and this much of it, is not yet the
// command. The spotter can fire at "jar-" and the classifier's scan score
// a window high before the phrase has ended; counted as the command, the
// rest of "jarvis" shortened the wait for it from 1.5 s to
// speech.end_silence, and a pause after the wake phrase ended the
// utterance (rms, "hey jarvis … pause the music", 0.53 s apart: the
// spotter fired 360 ms before the end of "jarvis").
const wakeTail = 300 * time.Millisecond

// warpTail is how much audio after the hit the early warped look takes.
const warpTail = 300 * time.Millisecond

// scanEvery is how many frames apart the classifier scores the speech:
// 40 ms, the step of its input.
const scanEvery = 2

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
	rejected := hyp != "" && !judge(hyp, l.wake, l.first).wake
	// A candidate only the classifier keeps needs a command at once after
	// the wake phrase (see finish): it ends when the second looks' span
	// does, not at speech.max_utterance, and the verifier, whose "no"
	// stands unless the second looks find a command, decodes no more of
	// it (see process).
	l.onlyNet = rejected && l.sure()
	if rejected && !l.sure() {
		// With the classifier in doubt the verifier looks again, warped,
		// before the candidate is dropped.
		heard := false
		if l.doubt() {
			// Only the wake phrase: a second look at all that was said
			// since costs more than the rest of a false candidate.
			hit := len(l.rec) - l.recFrames*audio.FrameSamples
			from := max(0, hit-frames(wakeSpan+spotLead)*audio.FrameSamples)
			to := min(len(l.rec), hit+frames(warpTail)*audio.FrameSamples)
			v, _, _, err := l.verifyWarped(l.rec[from:to])
			l.wipeWarped()
			if err != nil {
				return l.fail(err)
			}
			heard = v.wake
		}
		if !heard {
			l.log.Debug("wake phrase rejected early by verification", "hyp", hyp, "score", l.score)
			return l.abandon()
		}
	}
	if l.onlyNet {
		return nil
	}
	if err := l.process(last(l.rec, frames(wakeSpan+spotLead)+l.recFrames)); err != nil {
		return l.fail(err)
	}
	return nil
}

// abandon drops the utterance being captured and resumes spotting.
func (l *Listener) abandon() error {
	l.recycle(l.rec)
	l.rec = nil
	// Speech that goes on after a false wake phrase is talk, not a
	// command: as after the spotting span, the spotter waits for a pause.
	next := idle
	if l.silent < frames(rearmPause) {
		next = talking
	}
	if err := l.endCandidate(next); err != nil {
		return l.fail(err)
	}
	return nil
}

// endCandidate ends a candidate's verification, accepted or not, and
// returns to spotting in state next. The verifier's utterance has ended.
func (l *Listener) endCandidate(next state) error {
	l.partial = ""
	l.st = next
	l.silent, l.heard, l.recFrames, l.speechFrames = 0, false, 0, 0
	l.onlyNet = false
	l.hist.Reset()
	// The search's history of the utterance is freed: give it back.
	sphinx.TrimHeap()
	return l.spotter.SetSearch(searchWake)
}

// finish decodes the captured utterance and hands it over.
func (l *Listener) finish() (Utterance, bool, error) {
	if err := l.dec.EndUtt(); err != nil {
		return Utterance{}, false, l.fail(err)
	}
	rec := l.rec
	l.rec = nil
	hyp, _ := l.dec.Hyp()
	if hyp == "" {
		hyp = l.partial
	}
	// What the second looks decode: the wake span and commandSpan after
	// the hit, however long the utterance went on.
	span := last(rec, frames(wakeSpan+spotLead)+l.recFrames)
	span = span[:min(len(span), frames(wakeSpan+spotLead+commandSpan)*audio.FrameSamples)]
	if err := l.endCandidate(idle); err != nil {
		return Utterance{}, false, l.fail(err)
	}
	var v verdict
	rescued := false
	if l.cfg.SkipVerify {
		v = verdict{wake: true, transcript: hyp, complete: hyp != ""}
	} else {
		v = judge(hyp, l.wake, l.first)
	}
	switch {
	case v.wake && l.net != nil && l.score < l.net.Net.Accept:
		l.log.Debug("wake phrase rejected by the classifier", "hyp", hyp, "score", l.score)
		l.stats.Vetoed++
		l.recycle(rec)
		return Utterance{}, false, nil
	case !v.wake && l.sure():
		// The classifier is sure where the verifier is not; what follows
		// is left to the command search, and without a command the
		// candidate is dropped (below).
		l.log.Debug("wake phrase rescued by the classifier", "hyp", hyp, "score", l.score)
		rescued = true
		v = verdict{wake: true, after: minCommandPhones}
	case !v.wake && l.doubt():
		// Both may be right: the verifier takes a second look, warped.
		wv, whyp, _, err := l.verifyWarped(span)
		defer l.wipeWarped()
		if err != nil {
			l.recycle(rec)
			return Utterance{}, false, l.fail(err)
		}
		if wv.wake {
			l.log.Debug("wake phrase heard warped", "hyp", whyp, "score", l.score)
			l.stats.Rewarped++
			v, hyp = wv, whyp
		}
	}
	if !v.wake {
		l.log.Debug("wake phrase rejected by verification", "hyp", hyp)
		l.recycle(rec)
		return Utterance{}, false, nil
	}
	l.log.Debug("wake phrase verified", "hyp", hyp, "score", l.score)
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
	if u.Intent == "" && !l.cfg.SkipVerify && v.after >= minCommandPhones {
		err := l.recoverCommand(&u, span)
		if err == nil && u.Intent == "" {
			var warped []int16
			if rescued {
				// The wake phrase is taken as heard: only the command
				// search hears the audio warped, not the verifying
				// search too, whose history of seconds of speech through
				// the phone loop costs megabytes.
				warped = l.warpAudio(span)
				err = l.recoverCommand(&u, warped)
			} else {
				warped, err = l.lookWarped(&u, span)
			}
			defer l.wipeWarped()
			if u.Intent != "" {
				// The deletion check hears what the command came from.
				span = warped
			}
		}
		if err != nil {
			l.recycle(rec)
			return Utterance{}, false, l.fail(err)
		}
	}
	if u.Intent == "" && !l.sure() && l.lateCommand(v) {
		// "Say jarvis slowly, turn on the living room lights": a command
		// of the grammar, but after words that are not. The wake phrase
		// was said in a sentence, not to the device, unless the
		// classifier is sure of it.
		l.log.Debug("wake phrase dropped: command after other words", "score", l.score)
		l.stats.Embedded++
		l.recycle(rec)
		return Utterance{}, false, nil
	}
	if rescued {
		if u.Intent == "" {
			// Only the classifier heard a wake phrase, and nothing in the
			// grammar follows it: the verifier's "no" stands. As a wake
			// without a command, it would be stored and answered with an
			// earcon; mostly it is speech not meant for the device.
			l.log.Debug("rescued wake phrase dropped: no command", "score", l.score)
			l.stats.Unconfirmed++
			l.recycle(rec)
			return Utterance{}, false, nil
		}
		l.stats.Rescued++
	}
	l.stats.Accepted++
	if intents.IsBuiltin(u.Intent) && !l.cfg.SkipVerify {
		if err := l.confirmDeletion(&u, span); err != nil {
			l.recycle(rec)
			return Utterance{}, false, l.fail(err)
		}
	}
	l.log.Debug("utterance", "intent", u.Intent, "transcript", u.Transcript, "duration", u.Duration)
	return u, true, nil
}

// sure reports whether the classifier is sure the candidate is the wake
// phrase, whatever the verifier makes of it.
func (l *Listener) sure() bool {
	return l.net != nil && l.score >= l.net.Net.Rescue
}

// doubt reports whether the classifier would accept the candidate the
// verifier rejected (sure or not): it is not abandoned early, and
// the verifier looks again, warped.
func (l *Listener) doubt() bool {
	return l.net != nil && l.score >= l.net.Net.Accept
}

// lateCommand reports whether the verifier heard a whole command of the
// grammar after the wake phrase, but not right after it: more than
// maxGap phones of something else came between.
func (l *Listener) lateCommand(v verdict) bool {
	if !v.wake || v.complete || v.transcript == "" {
		return false
	}
	_, ok := l.gram.Match(v.transcript)
	return ok
}

// minCommandPhones is how much the verifier must have heard after the
// wake phrase, in phones of garbage or words, for the command search to
// look for a command there: the shortest commands have four.
const minCommandPhones = 3

// recoverCommand decodes an accepted utterance in which verification
// found no command (the phone loop explained it better) once more, in
// the command search (see commandJSGF). pcm is the audio the verifier
// decoded. The search is made for the occasion and removed afterwards:
// its lexical tree is most of a megabyte, and it is needed for a few
// utterances in ten.
func (l *Listener) recoverCommand(u *Utterance, pcm []int16) error {
	hyp, err := l.decodeAgain(searchCommand, l.commandJSGF, commandRule, pcm)
	if err != nil {
		return err
	}
	v := judge(hyp, l.wake, l.first)
	if !v.wake || !v.complete {
		l.log.Debug("no command in the command search either", "hyp", hyp)
		return nil
	}
	if m, ok := l.gram.Match(v.transcript); ok {
		l.log.Debug("command found in the command search", "hyp", hyp)
		u.Transcript, u.Intent, u.Slots = v.transcript, m.Intent, m.Slots
	}
	return nil
}

// warpRate is the rate lookWarped resamples an utterance to before it is
// read as 16 kHz audio again: every frequency rises by a ninth (and the
// speech is a ninth faster). Lower voices than most of those the acoustic
// model learnt from, and speech in noise, then match it better: a crude,
// one-step vocal tract length normalisation. (PocketSphinx fixes its own
// frequency warp when a decoder is made; a second decoder would cost
// about 5 MB.)
const warpRate = 14400

// lookWarped decodes pcm, the audio of an accepted utterance in which
// neither verification nor the command search understood a command, once
// more in the verifying search and then, if need be, in the command
// search, with its frequencies raised (see warpRate). It returns the
// warped audio, plaintext speech for the caller to wipe (wipeWarped).
//
// On the generated corpus this finds 5 of the 8 commands missing after a
// wake phrase (under white and pink noise, and flite's 8 kHz voice), held
// out 2 of 6, at no measurable CPU; of 66 commands outside the
// grammar, two more get an intent (LightsOn), none a deletion. The
// recording is untouched. Decoding every rejected candidate warped as
// well found 4 to 6 more wake phrases on the corpus, but cost up to 25 %
// more CPU (rtf 0.018) and 2 more false wakes, and held out did not pay.
func (l *Listener) lookWarped(u *Utterance, pcm []int16) ([]int16, error) {
	v, hyp, warped, err := l.verifyWarped(pcm)
	if err != nil {
		return warped, err
	}
	if m, ok := l.gram.Match(v.transcript); v.wake && v.complete && ok {
		u.Transcript, u.Intent, u.Slots = v.transcript, m.Intent, m.Slots
	} else if v.wake && v.after >= minCommandPhones {
		if err := l.recoverCommand(u, warped); err != nil {
			return warped, err
		}
	}
	if u.Intent == "" {
		l.log.Debug("no command warped either", "hyp", hyp)
	} else {
		l.log.Debug("command found warped", "hyp", hyp)
	}
	return warped, nil
}

// verifyWarped decodes pcm in the verifying search with its frequencies
// raised (see warpRate) and returns the verdict, the hypothesis and the
// warped audio, plaintext speech for the caller to wipe (wipeWarped).
func (l *Listener) verifyWarped(pcm []int16) (verdict, string, []int16, error) {
	warped := l.warpAudio(pcm)
	l.dec.UseTrackedMean()
	l.stats.Verified += int64(len(warped))
	if err := l.dec.Process(warped); err != nil {
		return verdict{}, "", warped, err
	}
	if err := l.dec.EndUtt(); err != nil {
		return verdict{}, "", warped, err
	}
	hyp, _ := l.dec.Hyp()
	return judge(hyp, l.wake, l.first), hyp, warped, nil
}

// warpAudio returns pcm with its frequencies raised (see warpRate), in
// l.warped: plaintext speech for the caller to wipe (wipeWarped).
func (l *Listener) warpAudio(pcm []int16) []int16 {
	l.warp.Reset()
	warped := l.warped[:0]
	for len(pcm) > 0 {
		n := min(len(pcm), audio.FrameSamples)
		warped = l.warp.Process(warped, pcm[:n])
		pcm = pcm[n:]
	}
	l.warped = warped
	return warped
}

// wipeWarped wipes the warped audio of lookWarped, plaintext speech.
func (l *Listener) wipeWarped() {
	clear(l.warped[:cap(l.warped)])
	l.warped = l.warped[:0]
	l.warp.Reset()
}

// confirmDeletion decodes an utterance whose command is a built-in
// privacy intent once more, in a search where the wake phrase is given
// and the phone loop after it costs what it costs in verification (see
// commandJSGF), and drops the intent unless the same one comes out. Those
// intents delete recordings, which cannot be undone, and the verifier
// alone took flite's clean "hey jarvis, play some jazz", with no music in
// the grammar, for "erase what I just said". On the corpus this costs one
// of the 34 deletions (under noise); of 66 commands outside the grammar,
// none was taken for a deletion with it or without.
func (l *Listener) confirmDeletion(u *Utterance, pcm []int16) error {
	hyp, err := l.decodeAgain(searchDeletion, l.deletionJSGF, commandRule, pcm)
	if err != nil {
		return err
	}
	v := judge(hyp, l.wake, l.first)
	if m, ok := l.gram.Match(v.transcript); v.complete && ok && m.Intent == u.Intent {
		return nil
	}
	l.log.Debug("deletion not confirmed", "intent", u.Intent, "hyp", hyp)
	u.Intent, u.Slots = "", map[string]string{}
	return nil
}

// decodeAgain decodes pcm, audio the verifier has decoded, once more in
// a search made for the occasion from jsgf, and removes the search
// afterwards.
func (l *Listener) decodeAgain(search, jsgf, rule string, pcm []int16) (string, error) {
	// The verifying search keeps the history of its last utterance until
	// it starts the next: an empty one frees it first, so the two are
	// not held at once (1.8 MB more peak on the held-out corpus).
	if err := l.dec.StartUtt(); err != nil {
		return "", err
	}
	if err := l.dec.EndUtt(); err != nil {
		return "", err
	}
	sphinx.TrimHeap()
	if err := l.dec.SetJSGF(search, jsgf, intents.GrammarName+"."+rule); err != nil {
		return "", err
	}
	if err := l.dec.SetSearch(search); err != nil {
		return "", err
	}
	if err := l.dec.Process(pcm); err != nil {
		return "", err
	}
	if err := l.dec.EndUtt(); err != nil {
		return "", err
	}
	hyp, _ := l.dec.Hyp()
	if err := l.dec.SetSearch(searchVerify); err != nil {
		return "", err
	}
	if err := l.dec.UnsetSearch(search); err != nil {
		return "", err
	}
	sphinx.TrimHeap()
	return hyp, nil
}

// fail resets after a decoder error so the next frame starts cleanly.
func (l *Listener) fail(err error) error {
	l.resetLocked()
	return fmt.Errorf("listen: %w", err)
}

// process decodes pcm, counting what was decoded so tests and benchmarks
// can see how much audio the VAD spared and what verification costs.
func (l *Listener) process(pcm []int16) error {
	if l.st == capturing && l.onlyNet {
		// Only recorded, for the second looks. Decoding a rescued
		// candidate on to commandSpan put the held-out corpus's peak at
		// 40 MB (a false one in a 10.8 s sentence: the verifier's history
		// of running speech through the phone loop); of 960 wake phrases
		// in four corpora it found one that stopping here loses, and
		// lost one that stopping here finds.
		return nil
	}
	if l.st == capturing {
		l.stats.Verified += int64(len(pcm))
		return l.dec.Process(pcm)
	}
	l.stats.Spotted += int64(len(pcm))
	if l.dec != l.spotter {
		// The verifier follows what is spotted: its noise estimate, left
		// where its last candidate ended, cost two wake phrases in 240 on
		// the corpus, and the cepstral mean it starts from comes from
		// here (see spot).
		if err := l.dec.Track(pcm); err != nil {
			return err
		}
	}
	return l.spotter.Process(pcm)
}

// Stats counts the listener's work since it was created.
type Stats struct {
	// Spotted and Verified are samples given to keyword spotting and to
	// the verifying grammar search (which may see the same audio twice).
	Spotted, Verified int64
	// Hits are keyword-spotting candidates; Accepted the utterances
	// verification passed.
	Hits, Accepted int
	// What the wake-word classifier (Config.WakeNet) did: candidates it
	// dropped before verification, wake phrases the verifier heard and it
	// rejected, candidates the verifier rejected and it accepted (with a
	// command found after them), and those it would have accepted but
	// no command followed.
	Dropped, Vetoed, Rescued, Unconfirmed int
	// Embedded counts wake phrases dropped because a command of the
	// grammar followed them only after other words (see lateCommand) and
	// the classifier was not sure of them.
	Embedded int
	// Rewarped counts candidates the verifier rejected and, with the
	// classifier in doubt, accepted warped; Scanned the candidates the
	// classifier found where the keyword spotter did not (in Hits too).
	Rewarped, Scanned int
}

// Stats returns the work counters.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// complete reports whether the command heard so far is a whole sentence of
// the grammar, after the wake phrase, and whether it is final: no sentence
// of the grammar goes on from it.
func (l *Listener) complete() (whole, final bool) {
	hyp, _ := l.dec.Hyp()
	v := judge(hyp, l.wake, l.first)
	if !v.wake || !v.complete {
		return false, false
	}
	m, ok := l.gram.Match(v.transcript)
	if !ok || intents.IsBuiltin(m.Intent) {
		// A deletion cannot be undone, so it waits for the end silence:
		// "erase that" may be the start of "erase everything I asked
		// today", heard so far. (Corpus w0035, klatt under white noise:
		// a stop inside "everything" read as 40 ms of silence, and
		// ForgetToday was taken for ForgetLast. The same on the dev
		// corpus, w0182.)
		return false, false
	}
	return true, !l.gram.Continues(v.transcript)
}

// Recycle wipes the audio of an utterance the caller is done with (stored
// encrypted, say) and gives its buffer back for the next recording: no
// plaintext copy lingers in freed memory, and no new buffer is needed.
// The caller must not use pcm afterwards.
func (l *Listener) Recycle(pcm []int16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		clear(pcm[:cap(pcm)])
		return
	}
	l.recycle(pcm)
}

// recycle wipes a recording that is not handed over and keeps its buffer
// for the next candidate: most candidates are rejected, and a fresh
// buffer for each was most of the daemon's garbage.
func (l *Listener) recycle(rec []int16) {
	clear(rec[:cap(rec)])
	if cap(rec) > cap(l.spare) {
		l.spare = rec[:0]
	}
}

// last returns the last n frames of pcm, or all of it if it is shorter.
func last(pcm []int16, n int) []int16 {
	if n *= audio.FrameSamples; len(pcm) > n {
		return pcm[len(pcm)-n:]
	}
	return pcm
}
