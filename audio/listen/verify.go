package listen

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/earshot/earshot/audio/intents"
)

// The verifier's grammar competes the wake phrase against a free phone
// loop ("garbage"): speech that only resembles the wake phrase aligns
// better to the loop than to the phrase, which is how most false accepts
// of keyword spotting are rejected.
const (
	verifyRule   = "earshot_listen"
	garbagePre   = "gbg_"
	searchWake   = "wake"
	searchVerify = "verify"
	// The command search (see commandJSGF) and its top rule.
	searchCommand = "command"
	commandRule   = "earshot_command_pass"
	// The search that confirms a deletion (see confirmDeletion).
	searchDeletion = "deletion"
)

// phones are the garbage loop's phones: 24 of the model's 39, covering
// vowels, fricatives, stops and sonorants. The full set made the loop so
// strong that it out-scored real but noisy wake phrases and cost half as
// much CPU and memory again; fewer (18, 9) let near misses through.
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

// verifyJSGF extends the intents grammar with the verification rule:
//
//	[garbage] wake (command | garbage) | garbage
//
// where each word of the wake phrase competes with its sound-alikes in
// decoys (decoys[i] for word i; see soundAlikes), and the first word with
// nothing at all (see missingFirstWeight). phonePenalty is the
// probability charged for every phone of garbage: lower means the
// verifier believes wake phrase and command more readily.
func verifyJSGF(g *intents.Grammar, wake []string, phonePenalty float64, decoys [][]string) string {
	var b strings.Builder
	b.WriteString(g.JSGF(strings.Join(wake, " ")))
	b.WriteString("\n<earshot_wake_or_decoy> =")
	for i, w := range wake {
		var alts []string
		if i < len(decoys) {
			for _, d := range decoys[i] {
				alts = append(alts, weight(decoyWeight)+d)
			}
		}
		if i == 0 && len(wake) > 1 {
			alts = append(alts, weight(missingFirstWeight)+"<NULL>")
		}
		if len(alts) == 0 {
			b.WriteString(" " + w)
			continue
		}
		b.WriteString(" (/1/ " + w + " | " + strings.Join(alts, " | ") + ")")
	}
	b.WriteString(";\n")
	fmt.Fprintf(&b, "\npublic <%s> = [<earshot_garbage>] <earshot_wake_or_decoy> (<%s> | <earshot_garbage>) | <earshot_garbage>;\n",
		verifyRule, intents.RuleCommand)
	phoneLoop(&b, "earshot_garbage", phonePenalty)
	return b.String()
}

// commandJSGF extends the intents grammar with the rule of the command
// search, which decodes again an utterance whose wake phrase verification
// accepted but in which it found no command:
//
//	wake (command | tail)
//
// The wake phrase is given, and tail, the garbage after it, costs
// tailPenalty per phone: in the command search tailShare times more than
// the verifier's garbage, so a command that matches all but a sound or
// two is taken over the phone loop. (A phone loop before the wake phrase,
// as in verification, made no difference to the corpus and cost its
// lexical tree, 0.9 MB; decoding only the audio after the spotter's hit
// found fewer commands.) The search that confirms a deletion charges the
// verifier's price (see confirmDeletion).
func commandJSGF(g *intents.Grammar, wake []string, tailPenalty float64) string {
	var b strings.Builder
	b.WriteString(g.JSGF(strings.Join(wake, " ")))
	fmt.Fprintf(&b, "\npublic <%s> = <wake> (<%s> | <earshot_tail>);\n", commandRule, intents.RuleCommand)
	phoneLoop(&b, "earshot_tail", tailPenalty)
	return b.String()
}

// tailShare is how much more a phone of garbage after the wake phrase
// costs in the command search. On the corpus 25 (1e-4 per phone at the
// default sensitivity) found 11 of 19 missing commands and made one wrong
// intent more from 54 commands outside the grammar; 25000 found 15 and
// made seven more.
const tailShare = 25

// phoneLoop writes the rule <name>: one or more garbage phones, each
// charged penalty. (PocketSphinx applies JSGF weights only to words, not
// to rule references, so the penalty sits on each phone word.)
func phoneLoop(b *strings.Builder, name string, penalty float64) {
	b.WriteString("<" + name + "> = <" + name + "_phone>+;\n<" + name + "_phone> = ")
	for i, p := range phones {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(weight(penalty) + garbagePre + strings.ToLower(p))
	}
	b.WriteString(";\n")
}

// weight renders a JSGF weight. The JSGF lexer reads no exponents.
func weight(w float64) string {
	return "/" + strconv.FormatFloat(w, 'f', -1, 64) + "/ "
}

// sensitivity maps the engine-independent 0..1 sensitivity to the keyword
// spotting threshold and the verifier's garbage weight. Both move together
// on a log scale: a more sensitive device spots more candidates and
// believes more of them.
func thresholds(s float64) (kws, garbage float64) {
	s = math.Max(0, math.Min(1, s))
	kws = math.Pow(10, -(10 + 32*s))
	garbage = math.Pow(10, -(1 + 3.2*s))
	return kws, garbage
}

// maxLeadGarbage is how many phones of garbage may precede the wake
// phrase in the verified window.
const maxLeadGarbage = 4

// maxGap is how many phones of garbage may come between the wake phrase
// and a command. The grammars do not ask for any there, but PocketSphinx
// compiles a phone loop so that it returns to the state it set out from,
// where the command begins too. On the corpus true wake phrases had up
// to 3 before their command; of 66 generated commands outside the
// grammar, two gained a wrong intent from an in-grammar phrase after 5
// and 9 phones.
const maxGap = 3

// vowels are the vowels among the garbage loop's phones.
var vowels = strings.Fields("AA AE AH AO AY EH ER EY IH IY OW UW")

// heardFirst reports whether the garbage phones before the rest of the
// wake phrase end in its first word said with a weak onset, and how many
// of them that word takes. The verifier can read the first word as
// phones and take the way round it (see missingFirstWeight): flite's
// "hey jarvis" often decodes as "‹ae› ‹ey› jarvis" or "‹hh› ‹ey› jarvis",
// and such wake phrases were missed unless the classifier was sure. The
// garbage must end in the word's phones from its first vowel on (EY),
// after its own onset (HH), a vowel (the onset heard as a glide) or
// nothing: "say jarvis" (S EY) and "okay jarvis" (K EY) do not count.
// A first word that starts with its vowel must be there whole.
func heardFirst(garbage []string, first []string) (used int, ok bool) {
	v := slices.IndexFunc(first, func(p string) bool { return slices.Contains(vowels, p) })
	if v < 0 || len(garbage) < len(first)-v {
		return 0, false
	}
	phone := func(w string) string { return strings.ToUpper(strings.TrimPrefix(w, garbagePre)) }
	k := len(garbage) - (len(first) - v)
	for j, p := range first[v:] {
		if phone(garbage[k+j]) != p {
			return 0, false
		}
	}
	used = len(first) - v
	onset := first[:v]
	switch {
	case len(onset) == 0 || k == 0:
		// A word that starts with its vowel, or the onset not heard.
		return used, true
	case k >= len(onset) && samePhones(garbage[k-len(onset):k], onset, phone):
		return used + len(onset), true
	case slices.Contains(vowels, phone(garbage[k-1])):
		return used + 1, true
	}
	return 0, false
}

func samePhones(garbage, phones []string, phone func(string) string) bool {
	for i, w := range garbage {
		if phone(w) != phones[i] {
			return false
		}
	}
	return true
}

// verdict is what the verifier made of one hypothesis.
type verdict struct {
	wake       bool
	transcript string // command words, wake phrase and garbage stripped
	complete   bool   // command words follow the wake phrase (see maxGap)
	after      int    // words and garbage phones after the wake phrase
}

// judge reads the verifier's hypothesis. first holds the pronunciations
// of the wake phrase's first word (see heardFirst).
func judge(hyp string, wake []string, first [][]string) verdict {
	words := strings.Fields(hyp)
	i := 0
	for i < len(words) && isGarbage(words[i]) {
		i++
	}
	lead := i
	if len(wake) > 1 && i < len(words) && words[i] == wake[1] {
		for _, pron := range first {
			if used, ok := heardFirst(words[:i], pron); ok {
				// The first word heard as phones counts as said: it
				// takes the place of its last phone.
				lead, i = i-used, i-1
				words[i] = wake[0]
				break
			}
		}
	}
	// The wake phrase opens what is said to the device: a breath or a
	// click may come first, words may not ("say jarvis …", "the jarvis
	// family …"). On the generated corpus this rejects a third of the
	// false wakes and no true one, for any limit from 2 to 5 phones.
	if lead > maxLeadGarbage {
		return verdict{}
	}
	if len(words)-i < len(wake) {
		return verdict{}
	}
	for j, w := range wake {
		if words[i+j] != w {
			return verdict{}
		}
	}
	// The decoder may slip a few phones of garbage between wake phrase
	// and command (a breath, a click, a stretched "jarvis"); the words
	// around them still count. More than maxGap mean the command was not
	// all that was said: "hey jarvis, I did not ask you to erase that".
	var cmd []string
	gap := 0
	for _, w := range words[i+len(wake):] {
		switch {
		case !isGarbage(w):
			cmd = append(cmd, w)
		case len(cmd) == 0:
			gap++
		}
	}
	return verdict{wake: true, transcript: strings.Join(cmd, " "), complete: len(cmd) > 0 && gap <= maxGap, after: len(words) - i - len(wake)}
}
