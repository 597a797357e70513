package intents

import (
	"strings"
	"unicode"
)

// A Spelling is where a text stands in an FSG's sentences when it is
// read a letter at a time, as a recogniser writes it: the state reached
// by the words it has finished, and the letters of the word it has begun.
// The zero Spelling is not a place; FSG.Spelling gives the first.
type Spelling struct {
	state int
	word  string
}

// Spelling is where every sentence's text begins.
func (f *FSG) Spelling() Spelling { return Spelling{state: f.start} }

// Spell reads text on from at and reports whether some sentence of the
// FSG can still be written so. Letters, digits and apostrophes (’ as ')
// spell words, whatever their case; anything else (a space, a comma, a
// full stop) ends the word begun, which must then be one of the words
// leaving the state. "I'd like a latte." is spelt by the sentence
// "i'd like a latte". A digit spells only a word with digits: "2" is not
// "two".
func (f *FSG) Spell(at Spelling, text string) (Spelling, bool) {
	for _, r := range text {
		r = unicode.ToLower(r)
		if r == '’' {
			r = '\''
		}
		if wordRune(r) {
			w := at.word + string(r)
			if !f.begins(at.state, w) {
				return at, false
			}
			at.word = w
			continue
		}
		if at.word == "" {
			continue
		}
		to, ok := f.next(at.state, at.word)
		if !ok {
			return at, false
		}
		at = Spelling{state: to}
	}
	return at, true
}

// Spelt reports whether a sentence of the FSG may end at: its last word
// whole (the word begun, if any, is one) and the sentence complete.
func (f *FSG) Spelt(at Spelling) bool {
	s := at.state
	if at.word != "" {
		to, ok := f.next(s, at.word)
		if !ok {
			return false
		}
		s = to
	}
	if s == f.final {
		return true
	}
	for _, t := range f.from(s) {
		if t.Word == "" && t.To == f.final {
			return true
		}
	}
	return false
}

// begins reports whether a word leaving state s begins with prefix.
func (f *FSG) begins(s int, prefix string) bool {
	for _, t := range f.from(s) {
		if strings.HasPrefix(t.Word, prefix) {
			return true
		}
	}
	return false
}

// next is the state word leads to from s: the FSG is deterministic, so
// there is at most one.
func (f *FSG) next(s int, word string) (int, bool) {
	for _, t := range f.from(s) {
		if t.Word == word {
			return t.To, true
		}
	}
	return 0, false
}
