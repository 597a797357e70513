package intents

import (
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

func FuzzParseIntents(f *testing.F) {
	for _, file := range []string{"testdata/contract.yaml", "testdata/nested.yaml", "../corpus/intents.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"intents:\n  A: [\"(turn | ) on\"]\n",
		"intents:\n  A: [\"[a [b (c | d)]] e\"]\n",
		"slots:\n  r: {a: 1, b c: x}\nintents:\n  A: [\"{r} [{r}]\"]\n",
		"slots:\n  r: &x [a]\n  s: *x\nintents:\n  A: [\"{s}\"]\n",
		"intents:\n  A: \"a | b | c\"\n  B: [\"b\", \"c d\"]\n",
		"intents: {A: [\"x}\"], B: [\"{\"]}\n",
		"<<: {intents: {A: [a]}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if !strings.Contains(g.JSGF("hey jarvis"), "public <command> = ") {
			t.Fatal("JSGF has no public command rule")
		}
		for _, w := range g.Unreachable() {
			if w.File != "fuzz.yaml" || w.Line < 1 {
				t.Fatalf("warning %v does not name file and line", w)
			}
		}
		// The decoder's grammar says what Match understands, or the file
		// is refused as too large, never anything else.
		fsg, err := g.CommandFSG()
		if err != nil && !errors.Is(err, errTooLarge) {
			t.Fatalf("CommandFSG: %v", err)
		}
		words := g.Words()
		for _, s := range g.Sentences(30) {
			if fsg != nil && !fsg.Accepts(s.Text) {
				t.Fatalf("the FSG rejects %q", s.Text)
			}
			got, ok := g.Match(s.Text)
			if !ok || got.Intent != s.Match.Intent || !maps.Equal(got.Slots, s.Match.Slots) {
				t.Fatalf("Match(%q) = %+v, %v; Sentences said %+v", s.Text, got, ok, s.Match)
			}
			for _, w := range strings.Fields(s.Text) {
				if _, ok := slices.BinarySearch(words, w); !ok {
					t.Fatalf("sentence %q uses %q, which Words lacks", s.Text, w)
				}
			}
		}
	})
}

func FuzzMatch(f *testing.F) {
	g := mustLoad(f, "../corpus/intents.yaml")
	for _, s := range g.Sentences(20) {
		f.Add(s.Text)
	}
	f.Add("")
	f.Add("turn on the the kitchen lights")
	f.Add("TURN ON THE KITCHEN LIGHTS\t")
	f.Fuzz(func(t *testing.T, words string) {
		m, ok := g.Match(words)
		if !ok {
			return
		}
		if _, known := slices.BinarySearch(g.Intents(), m.Intent); !known {
			t.Fatalf("Match(%q) returned unknown intent %q", words, m.Intent)
		}
		// A match is stable under re-spacing and case.
		again, ok := g.Match(strings.ToUpper(strings.Join(strings.Fields(words), "  ")))
		if !ok || again.Intent != m.Intent || !maps.Equal(again.Slots, m.Slots) {
			t.Fatalf("Match(%q) = %+v but the upper-cased form gives %+v, %v", words, m, again, ok)
		}
	})
}

// FuzzTemplate drives the template parser directly (FuzzParseIntents has to
// get through YAML quoting first): it must not panic, and a parsed template
// rendered back must parse to the same thing.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"(turn | switch) on the {room} lights",
		"[please] ((a | b) [c | d] {x} | e) f",
		"(a | )", "([a)]", "{", "}", "a | b", "what's up", "", "[[[]]]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := parseTemplate(src)
		if err != nil {
			return
		}
		rendered := n.String()
		again, err := parseTemplate(rendered)
		if err != nil {
			t.Fatalf("%q parsed, but its rendering %q does not: %v", src, rendered, err)
		}
		if again.String() != rendered {
			t.Fatalf("%q renders as %q, which renders as %q", src, rendered, again.String())
		}
	})
}
