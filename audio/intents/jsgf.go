package intents

import (
	"errors"
	"strings"
)

// JSGF rule names, for a recogniser that selects the top rule explicitly
// (PocketSphinx picks an arbitrary public rule when there are several).
const (
	// RuleCommand is the public rule accepting any command sentence.
	RuleCommand = "command"
	// RuleWakeCommand is the public rule accepting the wake phrase
	// followed by a command; present only when JSGF is given a wake phrase.
	RuleWakeCommand = "wake_command"
	// GrammarName is the JSGF grammar name; qualified rule names are
	// GrammarName + "." + rule, e.g. "earshot.command".
	GrammarName = "earshot"
)

// JSGF renders the grammar in JSGF V1.0 as accepted by PocketSphinx
// 5prealpha. The public rule <command> accepts every command sentence; if
// wake is not empty, the public rule <wake_command> accepts the wake
// phrase followed by a command, so wake phrase and command can be verified
// in one decode. wake is lower-cased and characters the dictionary cannot
// hold are dropped; validate it first with CheckPhrase.
func (g *Grammar) JSGF(wake string) string {
	var b strings.Builder
	b.WriteString("#JSGF V1.0;\n\ngrammar " + GrammarName + ";\n\n")
	var wakeWords []string
	for _, f := range strings.Fields(wake) {
		// Keep what the dictionary can hold, so "hey, jarvis!" still
		// yields "hey jarvis" rather than a grammar PocketSphinx rejects.
		w := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r == '\'':
				return r
			case r >= 'A' && r <= 'Z':
				return r + 'a' - 'A'
			}
			return -1
		}, f)
		if w, err := normalizeWord(w); err == nil {
			wakeWords = append(wakeWords, w)
		}
	}
	if len(wakeWords) > 0 {
		b.WriteString("public <" + RuleWakeCommand + "> = <wake> <" + RuleCommand + ">;\n")
	}
	b.WriteString("public <" + RuleCommand + "> = ")
	for i, it := range g.intents {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(intentRule(it.name))
	}
	b.WriteString(";\n")
	if len(wakeWords) > 0 {
		b.WriteString("<wake> = " + strings.Join(wakeWords, " ") + ";\n")
	}
	b.WriteString("\n")
	used := map[string]bool{}
	for _, it := range g.intents {
		b.WriteString(intentRule(it.name) + " = ")
		for i, t := range it.templates {
			if i > 0 {
				b.WriteString(" | ")
			}
			t.root.write(&b, func(s string) string {
				used[s] = true
				return slotRule(s)
			})
		}
		b.WriteString(";\n")
	}
	for _, s := range g.slots {
		if !used[s.name] {
			continue // JSGF allows unused rules, but they only slow the parser
		}
		b.WriteString(slotRule(s.name) + " = ")
		for i, v := range s.values {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(v.spoken)
		}
		b.WriteString(";\n")
	}
	return b.String()
}

func intentRule(name string) string { return "<intent_" + name + ">" }
func slotRule(name string) string   { return "<slot_" + name + ">" }

// CheckPhrase reports whether phrase (a wake phrase, say) is made only of
// words the grammar syntax and the recogniser's dictionary can carry.
func CheckPhrase(phrase string) error {
	fields := strings.Fields(phrase)
	if len(fields) == 0 {
		return errors.New("empty phrase: expected words")
	}
	for _, f := range fields {
		if _, err := normalizeWord(f); err != nil {
			return err
		}
	}
	return nil
}
