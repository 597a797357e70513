package intents

import (
	"fmt"
	"io"
	"os"
	"slices"
)

// MaxFileSize bounds an intents file; a grammar this large would already be
// far beyond what the recogniser can decode in real time.
const MaxFileSize = 1 << 20

// Grammar is a parsed intents file plus the built-in intents. It is
// immutable after Parse and safe for concurrent use.
type Grammar struct {
	file    string
	slots   []*slot   // file order
	intents []*intent // match priority: built-ins, then file order
	names   []string  // sorted intent names
	words   []string  // sorted distinct words
	matcher *matcher
	command commandAutomaton // built on first use (see Commands)
}

// Match is what a sentence means: the intent and its slot values.
type Match struct {
	Intent string
	// Slots maps slot name to value: the spoken words for a list slot
	// ("living room"), the mapped value for a map slot ("5"). Never nil.
	Slots map[string]string
}

// Sentence is an example sentence and what Match returns for it.
type Sentence struct {
	Text  string
	Match Match
}

type slot struct {
	name   string
	line   int
	values []slotValue
}

type slotValue struct {
	words  []string // spoken, normalised
	spoken string   // words joined by single spaces
	value  string   // what Match reports
}

type intent struct {
	name      string
	builtin   bool
	line      int
	templates []*template
}

type template struct {
	src  string
	line int
	root *node
}

// Error is one problem in an intents file. Parse may join several.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem is not tied to a line
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads and parses the intents file at path.
func Load(path string) (*Grammar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("intents: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("intents: read %s: %w", path, err)
	}
	return Parse(data, path)
}

// Intents returns the intent names, sorted, including the built-ins.
func (g *Grammar) Intents() []string { return slices.Clone(g.names) }

// Words returns every distinct word the grammar can produce, sorted, so a
// caller can check them against the recogniser's dictionary.
func (g *Grammar) Words() []string { return slices.Clone(g.words) }

// File returns the name the grammar was parsed from.
func (g *Grammar) File() string { return g.file }
