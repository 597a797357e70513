package listen

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/earshot/earshot/audio/sphinx"
)

// Sound-alikes of the wake phrase compete with it in verification. Keyword
// spotting and the phone loop both let "hey marvin" or "hey harvest"
// through as "hey jarvis": the phone loop is too weak to beat a phrase
// that matches all but a sound or two, and a command after it makes the
// wake path better still. With the dictionary's sound-alikes of each wake
// word in the verifying grammar, such a phrase decodes as itself and is
// rejected. On the generated corpus this takes false wakes from 24.6 to
// 13.5 per hour (held out: 35.6 to 28.2) and costs 4 of 240 wake phrases
// (held out: 3).
const (
	// decoyWeight is each sound-alike's grammar weight, against 1 for the
	// wake word: a sound-alike must sound clearly more like what was said.
	// (1e-3 lost 4 more wake phrases on the corpus for 1 false wake less.)
	decoyWeight = 1e-7
	// decoyShare is the share of a wake word's phones a sound-alike may
	// change: a third, so "jarvis" (6 phones) has sound-alikes within two
	// edits and a word of fewer than three phones ("hey") has none: with
	// its sound-alikes ("say", "they", "a") recall fell to 0.21.
	decoyShare = 3
	// missingFirstWeight is the weight, against 1, of the wake phrase
	// without its first word: "say jarvis slowly …" or a bare "jarvis"
	// then decode as garbage and "jarvis" and are rejected, where the
	// verifier had to make "hey" of whatever came before. On the
	// generated corpus, with the sound-alikes, 1e-14 takes false wakes
	// from 13.5 to 7.4 per hour for 4 of 240 wake phrases (held out: 28.2
	// to 16.0 for none). 1e-12 reached 3.7 but lost the "hey" of flite's
	// clean "hey jarvis turn on the kitchen lights" to the phone loop;
	// 1e-16 kept 9.9, 1e-20 11.1. Garbage that spells the first word
	// with a weak onset ("‹hh› ‹ey› jarvis") still counts as it (see
	// heardFirst).
	missingFirstWeight = 1e-14
)

// soundAlikes returns, for each wake word, the dictionary's words that
// sound almost like it (see sphinx.SoundAlikes), and their pronunciations.
// Sound-alikes that begin as the wake word does are left out (see
// closeOnset).
func soundAlikes(path string, wake []string, words sphinx.Dictionary) ([][]string, sphinx.Dictionary, error) {
	decoys := make([][]string, len(wake))
	prons := sphinx.Dictionary{}
	for i, w := range wake {
		own := words[w]
		shortest := 0
		for j, p := range own {
			if n := len(strings.Fields(p)); j == 0 || n < shortest {
				shortest = n
			}
		}
		edits := shortest / decoyShare
		if edits == 0 {
			continue
		}
		near, err := sphinx.SoundAlikes(path, own, edits)
		if err != nil {
			return nil, nil, fmt.Errorf("listen: sound-alikes of %q: %w", w, err)
		}
		for d, ps := range near {
			if contains(wake, d) || closeOnset(ps, own) {
				continue
			}
			decoys[i] = append(decoys[i], d)
			prons[d] = ps
		}
		sort.Strings(decoys[i])
	}
	return decoys, prons, nil
}

// closeOnset reports whether any pronunciation in a begins with a phone
// some pronunciation in b begins with, or with one of its onsetTwins.
// Such sound-alikes compete with the wake word itself rather than with
// near misses of it:
//   - the same first phone: they differ only towards the end ("jarman",
//     "jarvia"), which fast or noisy speech blurs; on the corpus they took
//     real wake phrases and no false ones that the others did not;
//   - a twin: "darville" and "charvat" took "jarvis" said by flite's kal
//     voice, whose 8 kHz audio has lost the friction above 4 kHz that
//     sets JH apart from D, and by other voices under noise. Without
//     them the corpus wakes on 4 more of 240 wake phrases, 2 more with
//     the right intent, for one false wake more ("hey jar, switch off the
//     bedroom lights"); held out, 3 more, 2 more right, and no false wake
//     more. Leaving out the sound-alikes beginning with T and S as well
//     gave 1 wake phrase more and 5 false wakes.
func closeOnset(a, b []string) bool {
	for _, p := range a {
		for _, q := range b {
			if x, y := first(p), first(q); x == y || slices.Contains(onsetTwins[y], x) {
				return true
			}
		}
	}
	return false
}

// onsetTwins are, for a phone, the phones that differ from it only in
// voicing, and for an affricate also its stop: the onsets the acoustic
// model confuses most when friction or voicing is masked.
var onsetTwins = map[string][]string{
	"P": {"B"}, "B": {"P"}, "T": {"D"}, "D": {"T"}, "K": {"G"}, "G": {"K"},
	"F": {"V"}, "V": {"F"}, "TH": {"DH"}, "DH": {"TH"}, "S": {"Z"}, "Z": {"S"},
	"SH": {"ZH"}, "ZH": {"SH"}, "CH": {"JH", "T"}, "JH": {"CH", "D"},
}

func first(pron string) string {
	if i := strings.IndexByte(pron, ' '); i >= 0 {
		return pron[:i]
	}
	return pron
}
