package intents

import (
	"fmt"
	"slices"
)

// maxCheck bounds how many sentences of one template Unreachable tries;
// a template with more is assumed to be reachable.
const maxCheck = 2000

// Unreachable reports user templates that can never produce their intent
// because every sentence they accept is claimed by a higher-priority intent
// (an earlier one in the file, or a built-in). Such a file is valid, but
// the template is almost certainly a mistake, so check-config shows these
// as warnings. Each *Error names the template's line and the intents that
// take its sentences.
func (g *Grammar) Unreachable() []*Error {
	var out []*Error
	for _, it := range g.intents {
		if it.builtin {
			continue
		}
		for _, t := range it.templates {
			gen := &sentenceGen{g: g, it: it, root: t.root}
			takers := map[string]bool{}
			reachable := false
			for range maxCheck {
				words, _, ok := gen.step()
				if !ok {
					break
				}
				m, ok := g.Match(joinWords(words))
				if !ok || m.Intent == it.name {
					// !ok cannot happen for a sentence of the grammar;
					// never warn on what we do not understand.
					reachable = true
					break
				}
				takers[m.Intent] = true
			}
			if reachable || !gen.done {
				continue
			}
			names := sortedKeys(takers)
			out = append(out, &Error{File: g.file, Line: t.line, Msg: fmt.Sprintf(
				"intent %s: template %q never matches: every sentence it accepts goes to %s, which comes first",
				it.name, t.src, joinList(names))})
		}
	}
	return out
}

func joinList(names []string) string {
	names = slices.Clone(names)
	switch len(names) {
	case 0:
		return "nothing"
	case 1:
		return names[0]
	}
	last := names[len(names)-1]
	s := ""
	for _, n := range names[:len(names)-1] {
		if s != "" {
			s += ", "
		}
		s += n
	}
	return s + " and " + last
}
