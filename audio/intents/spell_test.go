package intents_test

import "testing"

// TestSpell: a text written a piece at a time, as a recogniser's tokens
// write it, is followed through the grammar's sentences: case and
// punctuation aside, every piece must go on to some sentence, and a
// sentence ends only after its last word.
func TestSpell(t *testing.T) {
	f := commandFSG(t, []string{"latte", "lemonade", "americano"})
	for _, tt := range []struct {
		pieces []string
		ok     bool // every piece spelt
		ends   bool // a sentence may end after them
	}{
		{[]string{" I", "'d", " like", " a", " large", " lat", "te", "."}, true, true},
		{[]string{" I’d like a large latte"}, true, true},
		{[]string{" Can", " I", " have", ",", " a", " small", " lemon", "ade", " please", "?"}, true, true},
		{[]string{" Can", " I", " have", " a", " small", " lemon"}, true, false}, // a word begun
		{[]string{" Can", " I", " have", " a", " small"}, true, false},           // no drink yet
		{[]string{" Can", " I", " have", " a", " small", " lemon", " "}, false, false},
		{[]string{" I'd", " like", " a", " large", " mocha"}, false, false},
		{[]string{" turn", " on", " the", " light"}, true, false},
		{[]string{" Turn", " on", " the", " light", "."}, false, false},
		{[]string{" Turn on the lights", " now"}, false, false},
		{[]string{" I'd like a medium latte please", "."}, true, true},
		{[]string{" I'd like a 2"}, false, false},
	} {
		at, ok := f.Spelling(), true
		for _, p := range tt.pieces {
			if at, ok = f.Spell(at, p); !ok {
				break
			}
		}
		if ok != tt.ok || ok && f.Spelt(at) != tt.ends {
			t.Errorf("%q: spelt %v, ends %v; want %v, %v", tt.pieces, ok, ok && f.Spelt(at), tt.ok, tt.ends)
		}
	}
}
