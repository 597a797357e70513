package listen

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/vad"
)

// finish decodes the captured candidate and hands it over if it was the
// wake phrase.
func (l *Listener) finish() (Utterance, bool, error) {
	if err := l.dec.EndUtt(); err != nil {
		return Utterance{}, false, l.fail(err)
	}
	hyp, _ := l.dec.Hyp()
	ws := l.segments()
	l.log.Debug("final hypothesis", "hyp", hyp, "partial", l.partial, "frames", l.dec.Frames())
	sure, hitAt, from, speechFrom, heard := l.sure, l.hitAt, l.commandFrom(), l.speechFrom, l.heard
	commandStart := l.commandBegan()
	decodeFrom := l.decodeFrom
	if sure && heard && !l.cfg.SkipVerify && hyp != "" && judge(ws, l.phrase, true, from, speechFrom).transcript == "" {
		h, w, err := l.lookWider(from, speechFrom)
		if err != nil {
			return Utterance{}, false, l.fail(err) // (which wipes the recording)
		}
		if h != "" {
			hyp, ws = h, w
		}
	}
	rec := l.rec
	l.rec = nil
	trailed := hyp == ""
	if trailed {
		// The search ended outside the grammar, and the partial stands in.
		// Its words carry no time: all of its garbage counts.
		hyp, ws, speechFrom = l.partial, words(l.partial), 0
	}
	l.endCandidate()
	var v verdict
	if l.cfg.SkipVerify {
		v = verdict{wake: true, transcript: hyp, complete: hyp != ""}
	} else {
		v = judge(ws, l.phrase, sure, from, speechFrom)
		if !heard {
			// No speech followed the wake phrase: what words the search
			// made are of the phrase itself (a person's "hey savant",
			// the phrase given, heard as "play some rock").
			v.transcript, v.complete = "", false
		}
	}
	if l.cfg.Opinion != nil && !l.cfg.SkipVerify {
		var err error
		if v, err = l.secondOpinion(v, rec, decodeFrom, hitAt, speechFrom); err != nil {
			l.recycle(rec)
			return Utterance{}, false, l.fail(err)
		}
	}
	if !v.wake {
		l.log.Debug("wake phrase rejected by verification", "hyp", hyp, "score", l.score)
		l.stats.Rejected++
		l.recycle(rec)
		return Utterance{}, false, nil
	}
	l.log.Debug("wake phrase accepted", "hyp", hyp, "score", l.score, "sure", sure)
	u := Utterance{
		Audio:      rec,
		Transcript: v.transcript,
		Duration:   time.Duration(len(rec)) * time.Second / audio.SampleRate,
		Slots:      map[string]string{},
	}
	if v.complete {
		m, ok := l.gram.Match(v.transcript)
		if !ok && trailed {
			m, ok = l.wholePrefix(v.transcript)
		}
		if ok && takes(m.Intent, v) {
			u.Intent, u.Slots = m.Intent, m.Slots
		}
	}
	if l.commands != nil {
		// From where the command's speech began: Moonshine, given a
		// person's pause before it, often transcribes nothing at all.
		l.read(&u, rec[max(0, max(hitAt, commandStart)-frames(onsetSlack)*audio.FrameSamples):])
	}
	l.stats.Accepted++
	if intents.IsBuiltin(u.Intent) && !l.cfg.SkipVerify {
		if err := l.confirmDeletion(&u, rec, hitAt); err != nil {
			l.recycle(rec)
			return Utterance{}, false, l.fail(err)
		}
	}
	l.log.Debug("utterance", "intent", u.Intent, "transcript", u.Transcript, "duration", u.Duration)
	return u, true, nil
}

// opinionAfter is how much of what follows the hit the second opinion
// hears: the head tells a hit after the phrase's end, and a word is
// told from a longer one by what comes after it.
const opinionAfter = 300 * time.Millisecond

// secondOpinion asks Config.Opinion whether the candidate's speech began
// with the wake phrase, from where the VAD heard it begin to a little
// after the hit, and lets it overrule the verifier: the phrase the
// verifier heard is rejected when the opinion is that it was not said,
// and a phrase it did not hear is taken when the opinion is that it was,
// the command then read from the hit on by the search that has the
// phrase given.
func (l *Listener) secondOpinion(v verdict, rec []int16, decodeFrom, hitAt, speechFrom int) (verdict, error) {
	start := min(decodeFrom+speechFrom*audio.FrameSamples/2, hitAt)
	end := min(len(rec), hitAt+frames(opinionAfter)*audio.FrameSamples)
	said, err := l.cfg.Opinion.Said(rec[start:end])
	if errors.Is(err, ErrNotLoaded) {
		l.log.Debug("second opinion not loaded yet: the verifier's verdict stands")
		return v, nil
	}
	if err != nil {
		// The verifier's verdict stands.
		l.log.Warn("second opinion failed", "err", err)
		return v, nil
	}
	l.log.Debug("second opinion", "log_prob", said, "verified", v.wake)
	switch ok := said >= l.tune.Opinion; {
	case ok == v.wake:
		return v, nil
	case !ok:
		l.stats.Overruled++
		return verdict{}, nil
	}
	l.stats.Overruled++
	// The verifier heard no phrase, so it took nothing after it for a
	// command: the command is what follows the hit.
	hyp, ws, err := l.decodeAgain(searchAgain, l.command, rec[max(0, hitAt-frames(onsetSlack)*audio.FrameSamples):], sphinx.Beams{})
	if err != nil {
		return verdict{}, err
	}
	l.log.Debug("command heard again", "hyp", hyp)
	v = judge(ws, l.phrase, true, 0, 0)
	v.wake = true
	return v, nil
}

// readCandidates is how many of the grammar's sentences nearest the
// reader's transcript it weighs (see Listener.read).
const readCandidates = 8

// readBeam is how many sentences the reader proposes held to the grammar
// (moonshine.Audio.Held): its beam, decoded side by side, one decoder
// run a token for all of them.
const readBeam = 3

// read asks Config.Reader to weigh the command in pcm against the
// grammar. The reader transcribes it in its own words; the sentences it
// finds likeliest when held to the grammar (readBeam of them), the
// grammar's sentences nearest its transcript (intents.FSG.NearestN), and
// the decoder's own sentence if it had one, are weighed by the reader,
// and the likeliest is the command. A command
// the decoder did not understand is taken from the reading only when the
// reader finds it nearly as likely as its own transcript: within
// Tuning.ReadMargin. PocketSphinx's acoustic model learnt from little
// speech and hears people's orders wrong in a kitchen's noise ("drip
// coffee" for "cappuccino"); the reader learnt from a great deal, and
// held to the grammar's sentences it is right more often than either
// alone. A deletion is never read: the reader can only take one back,
// when it finds a command likelier than the deletion the decoder heard.
func (l *Listener) read(u *Utterance, pcm []int16) {
	var decoded []string
	if u.Intent != "" {
		decoded = strings.Fields(u.Transcript)
	}
	// The grammar's sentences proposed, each once (those held to the
	// grammar, then those nearest the transcript), but for the
	// deletions, and what they mean.
	var near [][]string
	var means []intents.Match
	text, scores, err := l.cfg.Reader.Read(pcm, l.commands, readBeam, func(text string, held [][]string) [][]string {
		ws := intents.TranscriptWords(text)
		// The phrase's last words, if the hit came before they ended.
		for len(ws) > 0 && slices.Contains(l.phrase, ws[0]) {
			ws = ws[1:]
		}
		out := [][]string{ws}
		if decoded != nil {
			out = append(out, decoded)
		}
		seen := map[string]bool{}
		propose := func(s []string) {
			k := strings.Join(s, " ")
			if seen[k] {
				return
			}
			seen[k] = true
			if m, ok := l.gram.Match(k); ok && !intents.IsBuiltin(m.Intent) {
				near, means = append(near, s), append(means, m)
				out = append(out, s)
			}
		}
		for _, s := range held {
			propose(s)
		}
		for _, n := range l.commands.NearestN(ws, readCandidates) {
			propose(n.Words)
		}
		return out
	})
	asked := 1 + len(near)
	if decoded != nil {
		asked++
	}
	if err == nil && len(scores) != asked {
		err = fmt.Errorf("%d scores for %d sentences", len(scores), asked)
	}
	if errors.Is(err, ErrNotLoaded) {
		l.log.Debug("second opinion not loaded yet: the command is the decoder's")
		return
	}
	if err != nil {
		// What the decoder made of it stands.
		l.log.Warn("reading the command failed", "err", err)
		return
	}
	own, mine, theirs := scores[0], 0.0, scores[1:]
	if decoded != nil {
		mine, theirs = scores[1], scores[2:]
	}
	best := -1
	for k := range near {
		if best < 0 || theirs[k] > theirs[best] {
			best = k
		}
	}
	if best < 0 {
		return
	}
	sentence, m := strings.Join(near[best], " "), means[best]
	l.log.Debug("command read", "transcript", text, "likeliest", sentence, "below_transcript", own-theirs[best],
		"decoded", u.Transcript, "below_decoded", mine-theirs[best])
	switch {
	case decoded != nil && theirs[best] <= mine:
		return
	case decoded == nil && own-theirs[best] > l.tune.ReadMargin:
		return
	case decoded == nil:
		l.stats.ReadAgain++
	case m.Intent != u.Intent || !maps.Equal(m.Slots, u.Slots):
		l.stats.Corrected++
	}
	u.Intent, u.Slots, u.Transcript = m.Intent, m.Slots, sentence
}

// wholePrefix finds the longest run of the transcript's first words that
// is a whole command of the grammar. People trail off ("… with brown sugar
// and"): the search then ends outside the grammar, and what was said up to
// there is the command. A deletion is never taken from a prefix: "forget
// that" may be the start of what was cut off.
func (l *Listener) wholePrefix(transcript string) (intents.Match, bool) {
	ws := strings.Fields(transcript)
	for n := len(ws) - 1; n > 0; n-- {
		m, ok := l.gram.Match(strings.Join(ws[:n], " "))
		if ok && !intents.IsBuiltin(m.Intent) {
			return m, true
		}
	}
	return intents.Match{}, false
}

// complete reports whether the command heard so far is a whole sentence of
// the grammar, after the wake phrase, and whether it is final: no sentence
// of the grammar goes on from it.
func (l *Listener) complete() (whole, final bool) {
	v := judge(l.segments(), l.phrase, l.sure, l.commandFrom(), l.speechFrom)
	if !v.wake || !v.complete {
		return false, false
	}
	m, ok := l.gram.Match(v.transcript)
	if !ok || intents.IsBuiltin(m.Intent) {
		// A deletion cannot be undone, so it waits for the end silence:
		// "erase that" may be the start of "erase everything I asked
		// today", heard so far.
		return false, false
	}
	return true, !l.gram.Continues(v.transcript)
}

// confirmDeletion decodes an utterance whose command is a built-in
// privacy intent once more, in a search where the wake phrase is given and
// the phone loop costs what it costs in verification, and drops the intent
// unless the same one comes out. Those intents delete recordings, which
// cannot be undone: a command outside the grammar must not be taken for
// one.
func (l *Listener) confirmDeletion(u *Utterance, rec []int16, hitAt int) error {
	// What the search hears is what the verifier heard: the wake phrase
	// on.
	pcm := rec[max(0, hitAt-frames(l.tune.WakeSpan)*audio.FrameSamples):]
	hyp, _, err := l.decodeAgain(searchDeletion, l.deletion, pcm, sphinx.Beams{})
	if err != nil {
		return err
	}
	v := judge(words(hyp), l.phrase, true, 0, 0)
	if m, ok := l.gram.Match(v.transcript); v.complete && ok && m.Intent == u.Intent {
		return nil
	}
	l.log.Debug("deletion not confirmed", "intent", u.Intent, "hyp", hyp)
	u.Intent, u.Slots = "", map[string]string{}
	return nil
}

// wideBeams are the second look's: PocketSphinx's own HMM and phone
// beams are 1e-48, its word beam 7e-29. Wider ones in every search kept
// more of people's commands and as many more phone-loop paths, which then
// won over synthetic voices' commands (see lookWider).
var wideBeams = sphinx.Beams{HMM: 1e-64, Phone: 1e-64, Word: 1e-48}

// lookWider decodes a candidate the wake stage was sure of once more,
// with wider beams, when the command search heard speech after the wake
// phrase and no word of the grammar in it: the search's beams had pruned
// the grammar's paths while the phone loop, which fits any speech,
// survived ("hey jarvis, brew a latte" heard as phones). It returns the
// hypothesis, or "" when the second look heard no whole command either,
// or a deletion, which is never taken from it.
func (l *Listener) lookWider(from, speechFrom int) (string, []word, error) {
	hyp, ws, err := l.decodeAgain(searchWide, l.command, l.rec[l.decodeFrom:], wideBeams)
	if err != nil {
		return "", nil, err
	}
	l.log.Debug("second look", "hyp", hyp)
	v := judge(ws, l.phrase, true, from, speechFrom)
	m, ok := l.gram.Match(v.transcript)
	if !v.complete || !ok || intents.IsBuiltin(m.Intent) {
		return "", nil, nil
	}
	return hyp, ws, nil
}

// decodeAgain decodes pcm once more in a search made for the occasion
// from fsg with beams b, and removes the search afterwards. The words
// are timed from the start of pcm; their loudness is read as the
// verifier's own words' is, from decodeFrom in the recording, so it is
// right only for pcm that starts there (lookWider's).
func (l *Listener) decodeAgain(search string, fsg *intents.FSG, pcm []int16, b sphinx.Beams) (string, []word, error) {
	// The verifying search keeps the history of its last utterance until
	// it starts the next: an empty one frees it first.
	if err := l.dec.StartUtt(); err != nil {
		return "", nil, err
	}
	if err := l.dec.EndUtt(); err != nil {
		return "", nil, err
	}
	sphinx.TrimHeap()
	if err := l.dec.SetFSGBeams(search, fsg, b); err != nil {
		return "", nil, err
	}
	if err := l.dec.SetSearch(search); err != nil {
		return "", nil, err
	}
	l.dec.UseTrackedMean()
	l.stats.Verified += int64(len(pcm))
	if err := l.dec.Process(pcm); err != nil {
		return "", nil, err
	}
	if err := l.dec.EndUtt(); err != nil {
		return "", nil, err
	}
	hyp, _ := l.dec.Hyp()
	ws := l.segments()
	if err := l.dec.SetSearch(searchVerify); err != nil {
		return "", nil, err
	}
	if err := l.dec.UnsetSearch(search); err != nil {
		return "", nil, err
	}
	sphinx.TrimHeap()
	return hyp, ws, nil
}

// segments returns the words of the verifier's hypothesis with the
// frames of the recording they start and end at, counted from the
// utterance's first (see sphinx.Decoder.Segments), and
// how loud they are in the recording; silences and fillers are left out.
func (l *Listener) segments() []word {
	var out []word
	segs := l.dec.Segments()
	for _, s := range segs {
		if strings.HasPrefix(s.Word, "<") || strings.HasPrefix(s.Word, "[") || strings.HasPrefix(s.Word, "++") || s.Word == "(NULL)" {
			continue
		}
		w := s.Word
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i] // a pronunciation variant, "jarvis(2)"
		}
		start, end := s.Start, s.End+1
		out = append(out, word{text: w, start: start, end: end, power: l.power(start, end)})
	}
	return out
}

// power is the mean power of the recording over the verifier's frames
// [start, end), 0 where it has no recording.
func (l *Listener) power(start, end int) float64 {
	const hop = audio.SampleRate / 100 // samples a verifier frame
	a, b := l.decodeFrom+start*hop, min(l.decodeFrom+end*hop, len(l.rec))
	if a < 0 || a >= b {
		return 0
	}
	return vad.Power(l.rec[a:b])
}

// onsetSlack is how long before the VAD's onset speech may have begun:
// it reacts to a word's first sound a little late.
const onsetSlack = 100 * time.Millisecond

// leadFrom is the verifier's frame (10 ms, from its utterance's start)
// from which garbage before the wake phrase counts against
// maxLeadGarbage: where the VAD heard the speech begin, onsetAgo of its
// frames before the last of the decoded, less onsetSlack. What the
// verifier made of the room before that, a kitchen's clatter, a fan, is
// not words said before the phrase.
func leadFrom(decoded, onsetAgo int) int {
	return max(0, 2*(decoded-onsetAgo)-int(onsetSlack/(10*time.Millisecond)))
}

// commandBegan is where in the recording the command's speech began,
// about (the frame commandFrom counts from); 0 until the command is
// heard.
func (l *Listener) commandBegan() int {
	if !l.heard && l.commandAt == 0 {
		return 0
	}
	return l.decodeFrom + (l.decodedAtHit+l.commandAt)*audio.FrameSamples
}

// commandFrom is the verifier's frame (10 ms, from its utterance's start)
// where the command's speech began, plus 100 ms: the wake phrase's last
// sound can run a little past where the head first passed its threshold,
// and the command its own phones are not garbage either way. 0 until the
// command is heard.
func (l *Listener) commandFrom() int {
	if !l.heard && l.commandAt == 0 {
		return 0
	}
	return max(0, 2*(l.decodedAtHit+l.commandAt)+10)
}
