package intents

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxErrors bounds how many problems one Parse reports; past that the
// rest are usually consequences of the first ones.
const maxErrors = 20

// maxDepth bounds bracket nesting in a template.
const maxDepth = 32

// Parse parses an intents file. filename is used in error messages only.
// Every error is an *Error (several are joined with errors.Join) naming the
// file, the line and what was expected.
func Parse(data []byte, filename string) (*Grammar, error) {
	p := &fileParser{file: filename}
	if len(data) > MaxFileSize {
		return nil, p.fail(0, "file is %d bytes: expected at most %d", len(data), MaxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		line, msg := yamlError(err)
		return nil, &Error{File: filename, Line: line, Msg: "invalid YAML: " + msg}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		// A second document would be silently ignored by most readers.
		line := extra.Line
		if err != nil {
			line, _ = yamlError(err)
		}
		return nil, &Error{File: filename, Line: line, Msg: "a second YAML document (---): expected exactly one"}
	}
	g := &Grammar{file: filename}
	if len(doc.Content) > 0 {
		p.document(g, doc.Content[0])
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	p.addBuiltins(g)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...) // a bug in the built-ins, never user input
	}
	g.finish()
	return g, nil
}

type fileParser struct {
	file string
	errs []error
}

func (p *fileParser) fail(line int, format string, args ...any) error {
	err := &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
	if len(p.errs) < maxErrors {
		p.errs = append(p.errs, err)
	}
	return err
}

// yamlError splits a yaml.v3 error ("yaml: line 3: did not find ...")
// into its line and message.
func yamlError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
	}
	return line, msg
}

func (p *fileParser) document(g *Grammar, root *yaml.Node) {
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return // an empty file: built-ins only
	}
	if root.Kind != yaml.MappingNode {
		p.fail(root.Line, "expected a mapping with keys slots and intents, found %s", describe(root))
		return
	}
	var slotsNode, intentsNode *yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if prev, dup := seen[k.Value]; dup {
			p.fail(k.Line, "duplicate key %q (first at line %d)", k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		switch k.Value {
		case "slots":
			slotsNode = v
		case "intents":
			intentsNode = v
		default:
			p.fail(k.Line, "unknown key %q: expected slots or intents", k.Value)
		}
	}
	if slotsNode != nil {
		p.slots(g, slotsNode)
	}
	if intentsNode != nil {
		p.intents(g, intentsNode)
	}
}

func (p *fileParser) slots(g *Grammar, n *yaml.Node) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n.Line, "slots: expected a mapping of slot name to values, found %s", describe(n))
		return
	}
	seen := map[string]*slot{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if k.Kind != yaml.ScalarNode || !validName(name) {
			p.fail(k.Line, "bad slot name %q: expected letters, digits and _ (starting with a letter, at most 64)", k.Value)
			continue
		}
		if prev, dup := seen[strings.ToLower(name)]; dup {
			p.fail(k.Line, "duplicate slot %q (first at line %d)", name, prev.line)
			continue
		}
		s := &slot{name: name, line: k.Line}
		seen[strings.ToLower(name)] = s
		p.slotValues(s, v)
		g.slots = append(g.slots, s)
	}
}

func (p *fileParser) slotValues(s *slot, n *yaml.Node) {
	seen := map[string]int{}
	bad := false
	add := func(spokenNode *yaml.Node, value string) {
		words, err := phraseWords(spokenNode)
		if err != nil {
			p.fail(spokenNode.Line, "slot %s: spoken value %s", s.name, err)
			bad = true
			return
		}
		spoken := strings.Join(words, " ")
		if prev, dup := seen[spoken]; dup {
			p.fail(spokenNode.Line, "slot %s: duplicate spoken value %q (first at line %d)", s.name, spoken, prev)
			bad = true
			return
		}
		seen[spoken] = spokenNode.Line
		if value == "" {
			value = spoken
		}
		s.values = append(s.values, slotValue{words: words, spoken: spoken, value: value})
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			add(item, "")
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode || isNull(v) || v.Value == "" {
				p.fail(v.Line, "slot %s: value for %q: expected a number or text, found %s", s.name, k.Value, describe(v))
				bad = true
				continue
			}
			add(k, v.Value)
		}
	default:
		if !isNull(n) {
			p.fail(n.Line, "slot %s: expected a list [a, b] or a map {spoken: value}, found %s", s.name, describe(n))
			bad = true
		}
	}
	if len(s.values) == 0 && !bad {
		p.fail(s.line, "slot %s has no values: expected a list [a, b] or a map {spoken: value}", s.name)
	}
}

// phraseWords turns a spoken slot value into normalised words.
func phraseWords(n *yaml.Node) ([]string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return nil, fmt.Errorf("%s is not words: expected text such as \"living room\"", describe(n))
	}
	fields := strings.Fields(n.Value)
	if len(fields) == 0 {
		return nil, fmt.Errorf("is empty: expected words")
	}
	words := make([]string, len(fields))
	for i, f := range fields {
		w, err := normalizeWord(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not words: %w", n.Value, err)
		}
		words[i] = w
	}
	return words, nil
}

func (p *fileParser) intents(g *Grammar, n *yaml.Node) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n.Line, "intents: expected a mapping of intent name to templates, found %s", describe(n))
		return
	}
	slotsByName := map[string]*slot{}
	for _, s := range g.slots {
		slotsByName[s.name] = s
	}
	seen := map[string]*intent{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if k.Kind != yaml.ScalarNode || !validName(name) {
			p.fail(k.Line, "bad intent name %q: expected letters, digits and _ (starting with a letter, at most 64), e.g. LightsOn", k.Value)
			continue
		}
		if b, ok := reservedName(name); ok {
			p.fail(k.Line, "intent %s: the name is reserved for the built-in privacy intent %s", name, b)
			continue
		}
		if prev, dup := seen[strings.ToLower(name)]; dup {
			p.fail(k.Line, "duplicate intent %s (first at line %d)", name, prev.line)
			continue
		}
		it := &intent{name: name, line: k.Line}
		seen[strings.ToLower(name)] = it
		var items []*yaml.Node
		switch {
		case v.Kind == yaml.SequenceNode:
			items = v.Content
		case v.Kind == yaml.ScalarNode && !isNull(v):
			items = []*yaml.Node{v}
		}
		if len(items) == 0 {
			p.fail(v.Line, "intent %s has no templates: expected a list of sentences such as [\"turn on the {room} lights\"]", name)
			continue
		}
		for _, item := range items {
			if t, ok := p.template(it, item, slotsByName); ok {
				it.templates = append(it.templates, t)
			}
		}
		g.intents = append(g.intents, it)
	}
}

func (p *fileParser) template(it *intent, n *yaml.Node, slots map[string]*slot) (*template, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.fail(n.Line, "intent %s: template %s: expected a string such as \"turn on the {room} lights\"", it.name, describe(n))
		return nil, false
	}
	root, err := parseTemplate(n.Value)
	if err != nil {
		p.fail(n.Line, "intent %s: template %q: %v", it.name, n.Value, err)
		return nil, false
	}
	ok := true
	walk(root, func(x *node) {
		if x.kind == kindSlot && slots[x.text] == nil {
			p.fail(n.Line, "intent %s: template %q: unknown slot {%s}: expected one of %s", it.name, n.Value, x.text, slotList(slots))
			ok = false
		}
	})
	if ok && root.nullable() {
		p.fail(n.Line, "intent %s: template %q can match silence: expected at least one word outside [optional] parts", it.name, n.Value)
		ok = false
	}
	uses := map[string]int{}
	root.slotUses(uses)
	for _, name := range sortedKeys(uses) {
		if uses[name] > 1 {
			p.fail(n.Line, "intent %s: template %q uses {%s} twice in one sentence: expected each slot at most once", it.name, n.Value, name)
			ok = false
		}
	}
	return &template{src: n.Value, line: n.Line, root: root}, ok
}

func (p *fileParser) addBuiltins(g *Grammar) {
	var bs []*intent
	for _, b := range builtins {
		it := &intent{name: b.name, builtin: true}
		for _, src := range b.templates {
			n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: src}
			if t, ok := p.template(it, n, nil); ok {
				it.templates = append(it.templates, t)
			}
		}
		bs = append(bs, it)
	}
	g.intents = append(bs, g.intents...)
}

func walk(n *node, fn func(*node)) {
	fn(n)
	for _, c := range n.children {
		walk(c, fn)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a YAML node for an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias (*" + n.Value + ")"
	case yaml.ScalarNode:
		tag := strings.TrimPrefix(n.ShortTag(), "!!")
		if tag == "null" {
			return "nothing"
		}
		return fmt.Sprintf("%q (%s)", n.Value, tag)
	}
	return "nothing"
}

func slotList(slots map[string]*slot) string {
	if len(slots) == 0 {
		return "a slot defined under slots: (none are)"
	}
	names := sortedKeys(slots)
	for i := range names {
		names[i] = "{" + names[i] + "}"
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
