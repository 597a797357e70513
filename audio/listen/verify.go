package listen

import (
	"math"
	"strings"

	"github.com/earshot/earshot/audio/intents"
)

// The verifier's searches compete the wake phrase and the command against
// a free phone loop ("garbage"): speech that only resembles them aligns
// better to the loop.
const (
	garbagePre   = "gbg_"
	searchWake   = "wake"
	searchVerify = "verify"
	// The search of a candidate the wake stage is sure of (see
	// commandFSG), and the one that confirms a deletion.
	searchCommand  = "command"
	searchDeletion = "deletion"
	// The command search once more, with wider beams (see lookWider).
	searchWide = "wide"
	// The command search once more, after the second opinion heard the
	// phrase the verifier did not (see secondOpinion).
	searchAgain = "again"
)

// phones are the garbage loop's phones: 24 of the model's 39, covering
// vowels, fricatives, stops and sonorants. The full set made the loop so
// strong that it out-scored real but noisy wake phrases and cost half as
// much CPU and memory again; fewer let near misses through.
var phones = strings.Fields("AA AE AH AO AY EH ER EY IH IY OW UW S SH F HH T K D N L R M W")

// garbageWords returns the single-phone pseudo-words of the phone loop.
func garbageWords() map[string][]string {
	m := make(map[string][]string, len(phones))
	for _, p := range phones {
		m[garbagePre+strings.ToLower(p)] = []string{p}
	}
	return m
}

func isGarbage(w string) bool { return strings.HasPrefix(w, garbagePre) }

// garbageWeight maps the sensitivity to the probability the verifier
// charges for each phone of garbage, on a log scale: a more sensitive
// device believes wake phrase and command more readily.
func garbageWeight(s float64) float64 {
	s = math.Max(0, math.Min(1, s))
	return math.Pow(10, -(1 + 3.2*s))
}

// The verifier's searches are weighted word FSGs, compiled by
// audio/intents from nets around the command language (a minimal FSG, so
// a grammar's cost depends on its language, not on how many templates
// spell it). Garbage may come before the command in both, as it could in
// the JSGF searches these replaced: judge decides whether it counts.

// phoneNet is one or more garbage phones, each charged penalty.
func phoneNet(penalty float64) intents.Net {
	ps := make([]intents.Net, len(phones))
	for i, p := range phones {
		ps[i] = intents.Word(garbagePre+strings.ToLower(p), penalty)
	}
	return intents.Repeat(intents.Alt(ps...))
}

func wakeNet(wake []string) intents.Net {
	ws := make([]intents.Net, len(wake))
	for i, w := range wake {
		ws[i] = intents.Word(w, 1)
	}
	return intents.Seq(ws...)
}

// partialNet is the wake phrase without its first words, every proper
// suffix of a phrase of several words ("computer" of "hey computer");
// false for a phrase of one word. Both searches offer it, with nothing
// before it and the command after it, so that a command after part of
// the phrase ("computer, turn on the lights" to a device called hey
// computer) is heard as that: the phrase's other words would have to be
// made of the silence before it, and judge rejects what opens with a
// part. Garbage is not allowed before the part: the phone loop would
// spell a quickly said "hey" and take a whole phrase for part of it.
func partialNet(wake []string) (intents.Net, bool) {
	if len(wake) < 2 {
		return intents.Net{}, false
	}
	var alts []intents.Net
	for k := 1; k < len(wake); k++ {
		alts = append(alts, wakeNet(wake[k:]))
	}
	return intents.Alt(alts...), true
}

// partial reports whether ws, from i, opens with a proper suffix of the
// wake phrase (see partialNet).
func partial(ws []word, i int, wake []string) bool {
	for k := 1; k < len(wake); k++ {
		if opens(ws, i, wake[k:]) {
			return true
		}
	}
	return false
}

// opens reports whether ws, from i, opens with the words seq.
func opens(ws []word, i int, seq []string) bool {
	if len(ws)-i < len(seq) {
		return false
	}
	for j, w := range seq {
		if ws[i+j].text != w {
			return false
		}
	}
	return true
}

// verifyFSG is the search of a candidate the wake stage is not sure of:
//
//	[garbage] wake ([garbage] command | garbage) | garbage command | garbage
//
// phonePenalty is the probability charged for every phone of garbage.
// The wake phrase must beat the phone loop where it was said, not only on
// the strength of the command after it: without the path `garbage
// command`, a command after other words ("view glass, play jazz" to a
// device called computer) drags the phrase along, since the loop would
// have to spell the command too. Such a hypothesis opens with garbage,
// and judge rejects it.
//
// A phrase of several words has one more, its part without the first
// words (see partialNet):
//
//	… | part ([garbage] command | garbage)
func verifyFSG(g *intents.Grammar, wake []string, phonePenalty float64) (*intents.FSG, error) {
	garbage := phoneNet(phonePenalty)
	after := intents.Alt(intents.Seq(intents.Optional(garbage), g.Commands()), garbage)
	alts := []intents.Net{
		intents.Seq(intents.Optional(garbage), wakeNet(wake), after),
		intents.Seq(garbage, g.Commands()),
		garbage,
	}
	if p, ok := partialNet(wake); ok {
		alts = append(alts, intents.Seq(p, after))
	}
	return intents.Compile(intents.Alt(alts...))
}

// commandFSG is the search of a candidate whose wake phrase is given (the
// wake stage is sure of it):
//
//	[garbage] [wake] ([tail] command | tail) | part ([tail] command | tail)
//
// Only the command is in question: the wake phrase may be heard as
// garbage. (With the phrase required, a person's "jarvis" the acoustic
// model matched worse than the phone loop left no way through the
// grammar at all, and the command was lost with it.) The tail, garbage
// where the command would be, costs tailPenalty per phone: more than the
// garbage of the wake phrase, since a wake phrase the head is sure of is
// mostly followed by a command, and a command that matches all but a
// sound or two should be taken over the phone loop. The search that
// confirms a deletion charges the verifier's price throughout.
func commandFSG(g *intents.Grammar, wake []string, phonePenalty, tailPenalty float64) (*intents.FSG, error) {
	tail := phoneNet(tailPenalty)
	after := intents.Alt(intents.Seq(intents.Optional(tail), g.Commands()), tail)
	main := intents.Seq(intents.Optional(phoneNet(phonePenalty)), intents.Optional(wakeNet(wake)), after)
	if p, ok := partialNet(wake); ok {
		main = intents.Alt(main, intents.Seq(p, after))
	}
	return intents.Compile(main)
}

// maxLeadGarbage is how many phones of garbage may precede a wake phrase
// the verifier has to hear, in the speech the VAD heard (see leadFrom):
// the wake phrase opens what is said to the device; a breath or a click
// may come first, words may not ("say jarvis …", "the jarvis family …").
const maxLeadGarbage = 4

// maxGap is how many phones of garbage may come between the wake phrase
// and the command: a breath, a click, a stretched last sound, an "uh",
// which the phone loop spells out in four or five phones. More mean the
// command was not all that was said ("hey jarvis, I did not ask you to
// erase that"). (Chosen on the generated corpora: 3 lost a wake there,
// 7 let a near miss act.)
const maxGap = 5

// maxDeletionGap is maxGap for a deletion, which cannot be undone: a
// breath or a click may come before it, an "uh, I did" may not ("hey
// jarvis, uh, I did erase that" is not said to have it erased). It
// counts all the garbage after the phrase's words (verdict.said), not
// only where the VAD heard the command's speech begin: in a sentence said
// without a pause the head fires inside what follows the phrase.
const maxDeletionGap = 3

// takes reports whether the command of verdict v, of intent, is acted on
// (see maxGap, maxDeletionGap).
func takes(intent string, v verdict) bool {
	return v.gap <= maxGap && (!intents.IsBuiltin(intent) || v.said <= maxDeletionGap)
}

// roomDB is how far below the words the verifier heard a phone of
// garbage is the room, not speech: a kitchen's clatter or a breath in the
// pause after the wake phrase, which the phone loop spells out too. Words
// said to the device are said about as loud as the rest of what is said
// to it.
const roomDB = 10

// spoken counts the phones of garbage that are speech: all of them when
// the hypothesis has no word, or their loudness is not known.
func spoken(garbage, ws []word) int {
	var sum float64
	n := 0
	for _, w := range ws {
		if !isGarbage(w.text) && w.power > 0 {
			sum += w.power * float64(w.end-w.start)
			n += w.end - w.start
		}
	}
	if n == 0 {
		return len(garbage)
	}
	room := sum / float64(n) * math.Pow(10, -roomDB/10.0)
	c := 0
	for _, g := range garbage {
		if g.power == 0 || g.power >= room {
			c++
		}
	}
	return c
}

// verdict is what the verifier made of one hypothesis.
type verdict struct {
	wake       bool   // the wake phrase opens the hypothesis
	transcript string // command words, wake phrase and garbage stripped
	complete   bool   // command words follow the wake phrase (see maxGap)
	gap        int    // phones of garbage where the command would start, before any command word
	// said is the phones of garbage between the wake phrase's words and
	// the first command word, wherever they start: in the pause after
	// the phrase too (gap where the phrase was heard as garbage).
	said int
}

// word is a word of a hypothesis, the 10 ms frames it spans, and the
// recording's mean power over them (0 where not known).
type word struct {
	text       string
	start, end int
	power      float64
}

// words splits a hypothesis string; its words carry no time.
func words(hyp string) []word {
	f := strings.Fields(hyp)
	out := make([]word, len(f))
	for i, w := range f {
		out[i] = word{text: w}
	}
	return out
}

// judge reads a hypothesis of the verifying or command search. With
// given set (the command search), the wake phrase is taken as said, heard
// as its words or as garbage. Garbage that starts before frame
// commandFrom, where the command's speech began, lies in the wake phrase
// or in the pause after it (a breath, the room): it does not count
// against maxGap, nor does garbage far quieter than the words heard (see
// roomDB). A wake phrase heard only as garbage stands on the
// command after it: with no word of the grammar there, nothing was said to
// the device ("hey travis, how was the match"), and the verdict is no; so
// too for a phrase the verifier heard but the head was not sure of,
// followed by speech outside the grammar. Speech outside the grammar is
// kept as not understood only after a phrase both stages heard.
// Garbage before the wake phrase counts against maxLeadGarbage from frame
// speechFrom, where the speech began.
func judge(ws []word, wake []string, given bool, commandFrom, speechFrom int) verdict {
	i, lead := 0, 0
	for i < len(ws) && isGarbage(ws[i].text) {
		if ws[i].start >= speechFrom {
			lead++
		}
		i++
	}
	if partial(ws, i, wake) {
		return verdict{}
	}
	heard, unheard := opens(ws, i, wake), false
	switch {
	case heard && (given || lead <= maxLeadGarbage):
		i += len(wake)
	case given:
		// The phrase heard as garbage: the command follows it.
		i, unheard = 0, true
	default:
		return verdict{}
	}
	var cmd []string
	var gapped, between []word
	for _, w := range ws[i:] {
		switch {
		case !isGarbage(w.text):
			cmd = append(cmd, w.text)
		case len(cmd) == 0:
			between = append(between, w)
			if w.start >= commandFrom {
				gapped = append(gapped, w)
			}
		}
	}
	gap, said := spoken(gapped, ws), spoken(between, ws)
	if unheard {
		said = gap // (what is between is the phrase, too)
	}
	if len(cmd) == 0 && (unheard || (!given && gap > maxGap)) {
		// Nothing of the grammar after a wake phrase the head is not sure
		// of, and speech there: the verifier's word alone does not make
		// "hey travis, how was the match" a wake kept on the device.
		return verdict{gap: gap, said: said}
	}
	return verdict{wake: true, transcript: strings.Join(cmd, " "), complete: len(cmd) > 0 && gap <= maxGap, gap: gap, said: said}
}
