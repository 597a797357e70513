package listen

import (
	"fmt"
	"math"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/vad"
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
	if r, ok := l.vad.(revising); ok && r.Revised() {
		// What the VAD called speech was the room: the talk span starts
		// again, and a stage asleep for it wakes at the next onset.
		l.span = 0
		if l.st == talking {
			l.st = idle
		}
	}
	if l.guard > 0 {
		// The earcon is playing: what the microphone hears now is the
		// device itself.
		l.guard--
		speech = false
	}
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
		// Speech begins: the wake stage hears it from a little before.
		l.lead = l.hist.Snapshot(l.lead[:0])
		l.wake.Reset()
		l.st, l.span, l.onsetAgo = listening, 0, 1
		l.spoke = l.spoke[:0]
		l.remember(speech)
		if err := l.listen(last(l.lead, frames(l.tune.Lead))); err != nil {
			return Utterance{}, false, err
		}
	case listening:
		l.hist.Write(frame)
		l.onsetAgo++
		l.remember(speech)
		if err := l.listen(frame); err != nil {
			return Utterance{}, false, err
		}
		l.span++
		if l.silent >= frames(l.tune.Rearm) {
			l.span = 0
		}
		switch {
		case l.st != listening:
		case l.silent >= frames(l.tune.Hangover):
			l.st = idle
		case l.span >= frames(l.tune.Span) && !l.cfg.SkipVerify:
			// (The plain-KWS baseline spots all speech, as PocketSphinx
			// is usually run.)
			l.st = talking
			l.stats.Talking++
		}
	case talking:
		l.hist.Write(frame)
		if l.silent >= frames(l.tune.Rearm) {
			l.st = idle
		}
	case capturing:
		return l.capture(frame, speech)
	}
	return Utterance{}, false, nil
}

// listen gives pcm to the wake stage and starts a candidate on a hit.
func (l *Listener) listen(pcm []int16) error {
	l.stats.Heard += int64(len(pcm))
	if !l.cfg.SkipVerify {
		// The verifier follows the channel it will decode: its noise
		// estimate and the cepstral mean it starts from come from here.
		if err := l.dec.Track(pcm); err != nil {
			return l.fail(err)
		}
	}
	hit, err := l.wake.Push(pcm)
	if err != nil {
		return l.fail(err)
	}
	if !hit.OK {
		return nil
	}
	buf := l.spare
	l.spare = nil
	if buf == nil {
		buf = make([]int16, 0, l.hist.Cap()+frames(l.tune.WakeSpan+l.cfg.CommandWait+l.cfg.MaxUtterance)*audio.FrameSamples)
	}
	l.rec = l.hist.Snapshot(buf)
	return l.start(hit)
}

// start starts a candidate at a hit told at the end of l.rec.
func (l *Listener) start(hit Hit) error {
	l.stats.Hits++
	if hit.Sure {
		l.stats.Sure++
	}
	score, sure := hit.Score, hit.Sure
	l.log.Debug("wake phrase candidate", "score", score, "sure", sure, "late_ms", hit.Late*1000/audio.SampleRate)
	l.hitAt = len(l.rec)
	l.score, l.sure = score, sure
	l.recFrames, l.speechAfter, l.heard, l.alone, l.peak, l.quiet, l.silent = 0, 0, false, false, 0, 0, 0
	l.partial, l.sinceHit, l.commandAt = "", 0, 0
	l.st = capturing
	// The stage told the hit after the phrase's end: what was heard since
	// is after the wake phrase, and if it was speech the command has
	// begun (the quick path).
	late := min(hit.Late/audio.FrameSamples, len(l.spoke))
	for i := len(l.spoke) - late; i < len(l.spoke); i++ {
		l.sinceHit++
		if l.spoke[i] {
			l.speechAfter++
		}
	}
	if l.speechAfter >= frames(l.tune.CommandOnset) {
		l.heard, l.commandAt = true, l.sinceHit-l.speechAfter
	}
	if l.cfg.SkipVerify {
		// The plain-KWS baseline decodes only the command after the hit.
		return l.wrap(l.dec.SetSearch(searchVerify))
	}
	l.dec.UseTrackedMean()
	// A candidate the wake stage is sure of has its wake phrase given: the
	// search decides only the command. Otherwise the phrase must beat the
	// phone loop where it was said.
	search := searchVerify
	if sure {
		search = searchCommand
	}
	if err := l.dec.SetSearch(search); err != nil {
		return l.fail(err)
	}
	wakeSpan := last(l.rec, frames(l.tune.WakeSpan)+l.sinceHit)
	l.decodeFrom = len(l.rec) - len(wakeSpan)
	l.decodedAtHit = len(wakeSpan)/audio.FrameSamples - l.sinceHit
	l.speechFrom = leadFrom(len(wakeSpan)/audio.FrameSamples, l.onsetAgo)
	return l.process(wakeSpan)
}

// capture records and decodes one frame of a candidate, and ends it.
func (l *Listener) capture(frame []int16, speech bool) (Utterance, bool, error) {
	l.rec = append(l.rec, frame...)
	l.onsetAgo++
	l.remember(speech)
	moved, err := l.overtaken(frame)
	if err != nil {
		return Utterance{}, false, err
	}
	if !moved {
		l.recFrames++
		l.sinceHit++
		if speech {
			l.speechAfter++
			if !l.heard && l.speechAfter >= frames(l.tune.CommandOnset) {
				l.heard = true
				l.recFrames = 0 // max_utterance counts from the command
				l.commandAt = l.sinceHit - l.speechAfter
			}
		}
		if err := l.process(frame); err != nil {
			return Utterance{}, false, err
		}
	}
	if !l.heard && !l.alone && l.silent >= frames(l.tune.Alone) {
		// The wake phrase came alone: say so, and wait for the command.
		l.alone = true
		l.speechAfter = 0
		l.stats.Alone++
		if l.cfg.Listening != nil {
			l.cfg.Listening()
			l.guard = frames(l.tune.EarconGuard)
		}
	}
	// quiet counts frames far below the command's loudest so far: a
	// level-independent end of speech that does not wait for the VAD to
	// follow a fading last sound down to the noise floor.
	if p := vad.Power(frame); p > l.peak {
		l.peak, l.quiet = p, 0
	} else if p*math.Pow(10, l.tune.QuietDB/10) < l.peak {
		l.quiet++
	} else {
		l.quiet = 0
	}
	if !l.cfg.SkipVerify && l.recFrames%frames(l.tune.PartialEvery) == 0 {
		// The final search can end without any path through the grammar
		// (all pruned); the last partial hypothesis stands in.
		l.partial, _ = l.dec.Hyp()
	}
	wait := l.cfg.CommandWait
	if l.heard {
		wait = l.cfg.EndSilence
		// From FinalEnd to QuickEnd the hypothesis is read on every
		// frame: the decoder reports a last word only once it has left
		// it, which can take a few frames of silence.
		ended := l.silent >= frames(l.tune.FinalEnd) || l.quiet >= frames(l.tune.FinalEnd)
		if !l.cfg.SkipVerify && ended && l.silent <= frames(l.tune.QuickEnd) {
			if whole, final := l.complete(); final || (whole && l.silent >= frames(l.tune.QuickEnd)) {
				return l.finish()
			}
		}
	}
	if l.heard && l.silent >= frames(wait) && l.sinceHit < frames(l.cfg.CommandWait) && !l.cfg.SkipVerify {
		// What was heard after the wake phrase holds no word, and no more
		// than a breath, a cough, a click (maxGap phones): the command may
		// still come. So may the rest of a command begun and not
		// finished ("make me a … large latte"), or a word the search made
		// of a breath. More is speech outside the grammar ("hey jarvis,
		// what's the weather"), an utterance not understood, and ends.
		// With a second opinion to decide on the phrase, the command is
		// judged as if the phrase were given: a phrase the verifier did
		// not hear would otherwise make every command nothing said, and
		// the wait run to speech.command_wait.
		v := judge(l.segments(), l.phrase, l.sure || l.cfg.Opinion != nil, l.commandFrom(), l.speechFrom)
		switch {
		case v.gap > maxGap:
		case v.transcript == "":
			l.heard, l.speechAfter, l.commandAt = false, 0, 0
			return Utterance{}, false, nil
		default:
			if _, whole := l.gram.Match(v.transcript); !whole {
				return Utterance{}, false, nil
			}
		}
	}
	if l.silent >= frames(wait) || (l.heard && l.recFrames >= frames(l.cfg.MaxUtterance)) {
		return l.finish()
	}
	return Utterance{}, false, nil
}

// overtaken lets the wake stage go on hearing what follows a candidate it
// was not sure of, for Tuning.WakeSpan: a candidate under the head's
// trained threshold can be the rising edge of the phrase, or a sound
// just before it ("a-" of "amelia"), and the phrase itself peak after
// it. A higher peak takes the candidate's place, its search started
// again at the new phrase's end. moved reports that it did (the frame
// is then decoded).
func (l *Listener) overtaken(frame []int16) (moved bool, err error) {
	if l.sure || l.alone || l.cfg.SkipVerify || l.score >= 1 || l.sinceHit >= frames(l.tune.WakeSpan) {
		// (The keyword spotter's hits all score 1: none is higher.)
		return false, nil
	}
	l.stats.Heard += int64(len(frame))
	hit, err := l.wake.Push(frame)
	if err != nil {
		return false, l.fail(err)
	}
	if !hit.OK || hit.Score <= l.score {
		return false, nil
	}
	l.log.Debug("wake phrase candidate moved", "from", l.score, "to", hit.Score)
	l.stats.Moved++
	if err := l.dec.EndUtt(); err != nil {
		return false, l.fail(err)
	}
	return true, l.start(hit)
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

// endCandidate ends a candidate, accepted or not, and returns to idle.
// The verifier's utterance has ended.
func (l *Listener) endCandidate() {
	l.partial = ""
	l.st = idle
	l.silent, l.heard, l.alone, l.recFrames, l.speechAfter = 0, false, false, 0, 0
	l.hist.Reset()
	// The search's history of the utterance is freed: give it back.
	sphinx.TrimHeap()
}

// fail resets after a decoder error so the next frame starts cleanly.
func (l *Listener) fail(err error) error {
	l.resetLocked()
	return fmt.Errorf("listen: %w", err)
}

func (l *Listener) wrap(err error) error {
	if err != nil {
		return l.fail(err)
	}
	return nil
}

// process decodes pcm in the running candidate.
func (l *Listener) process(pcm []int16) error {
	l.stats.Verified += int64(len(pcm))
	return l.wrap(l.dec.Process(pcm))
}

// Stats counts the listener's work since it was created.
type Stats struct {
	// Heard and Verified are samples given to the wake stage and to the
	// verifier.
	Heard, Verified int64
	// Hits are the wake stage's candidates, Sure those it was sure of;
	// Rejected the others the verifier did not hear the phrase in;
	// Accepted the utterances handed over, Alone the wake phrases said
	// alone (an earcon, then a wait for the command).
	// Moved counts the candidates that gave way to a higher peak of
	// the head's score just after them.
	Hits, Sure, Rejected, Accepted, Alone, Moved int
	// Overruled counts the candidates whose verdict the second opinion
	// changed (Config.Opinion): rejected by the verifier and taken, or
	// taken and rejected.
	Overruled int
	// ReadAgain counts the commands the decoder did not understand and
	// Config.Reader's reading did; Corrected, those whose intent or
	// slots the reading changed.
	ReadAgain, Corrected int
	// Talking counts the stretches of speech that went on for
	// Tuning.Span without the wake phrase.
	Talking int
}

// Stats returns the work counters.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
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
// for the next candidate.
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

func seconds(n int) time.Duration { return time.Duration(n) * time.Second / audio.SampleRate }

// spokeFrames is how many frames of VAD decisions the listener keeps, for
// a hit the wake stage tells late: more than the head's wait for its
// peak (maxRise windows) and a window.
const spokeFrames = (maxRise + 2) * 4

// remember keeps the VAD's decision for the frame just heard.
func (l *Listener) remember(speech bool) {
	if len(l.spoke) == spokeFrames {
		copy(l.spoke, l.spoke[1:])
		l.spoke = l.spoke[:spokeFrames-1]
	}
	l.spoke = append(l.spoke, speech)
}
