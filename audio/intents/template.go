package intents

import (
	"fmt"
	"strings"
)

// nodeKind says what a template node is.
type nodeKind uint8

const (
	kindWord nodeKind = iota // one word
	kindSlot                 // {slot}
	kindSeq                  // words and groups in order
	kindAlt                  // (a | b)
	kindOpt                  // [x], itself a sequence or an alternation
)

// node is one element of a parsed template.
type node struct {
	kind     nodeKind
	text     string // the word or the slot name
	children []*node
}

// templateError is a problem inside one template; col is the 1-based byte
// offset in the template where it was found.
type templateError struct {
	col int
	msg string
}

func (e *templateError) Error() string { return fmt.Sprintf("column %d: %s", e.col, e.msg) }

// parseTemplate parses one template such as "(turn | switch) on the {room}
// lights". Words are lower-cased; anything other than letters, apostrophes
// and the grammar syntax is an error because the recogniser's dictionary
// holds only words.
func parseTemplate(s string) (*node, error) {
	p := &templateParser{src: s}
	n, err := p.alternation(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		// alternation only stops early on a closing bracket it did not open.
		return nil, &templateError{p.pos + 1, fmt.Sprintf("unbalanced %q: no matching opening bracket", p.src[p.pos])}
	}
	return n, nil
}

type templateParser struct {
	src   string
	pos   int
	depth int // open brackets, bounded so a hostile file cannot recurse deeply
}

func (p *templateParser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

// alternation parses "seq | seq | ..." until end of input or a closing
// bracket. closer is the bracket that ends this group (0 at top level).
func (p *templateParser) alternation(closer byte) (*node, error) {
	start := p.pos
	var alts []*node
	for {
		seqStart := p.pos
		seq, err := p.sequence()
		if err != nil {
			return nil, err
		}
		if len(seq.children) == 0 {
			return nil, p.emptyError(closer, start, seqStart)
		}
		alts = append(alts, seq)
		if p.pos < len(p.src) && p.src[p.pos] == '|' {
			p.pos++
			continue
		}
		break
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &node{kind: kindAlt, children: alts}, nil
}

func (p *templateParser) emptyError(closer byte, groupStart, seqStart int) error {
	var next byte // what stopped the empty sequence: '|', a closer, or 0 at the end
	if p.pos < len(p.src) {
		next = p.src[p.pos]
	}
	col := min(p.pos, max(len(p.src)-1, 0)) + 1
	switch {
	case strings.TrimSpace(p.src) == "":
		return &templateError{1, "empty template: expected at least one word"}
	case next != 0 && next != '|' && next != closer:
		return &templateError{col, fmt.Sprintf("unbalanced %q: no matching opening bracket", next)}
	case closer != 0 && groupStart == seqStart && next == closer:
		return &templateError{col, fmt.Sprintf("empty group %c%c: expected words inside", opener(closer), closer)}
	case closer != 0 && next == 0:
		return &templateError{col, fmt.Sprintf("unbalanced %q: expected a closing %q", opener(closer), closer)}
	default:
		return &templateError{col, "empty alternative: expected words on both sides of |"}
	}
}

func opener(closer byte) byte {
	switch closer {
	case ')':
		return '('
	case ']':
		return '['
	}
	return '?'
}

// sequence parses words and groups up to '|', a closing bracket or the end.
func (p *templateParser) sequence() (*node, error) {
	seq := &node{kind: kindSeq}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return seq, nil
		}
		c := p.src[p.pos]
		switch {
		case c == '|' || c == ')' || c == ']':
			return seq, nil
		case c == '(' || c == '[':
			open := p.pos
			if p.depth++; p.depth > maxDepth {
				return nil, &templateError{open + 1, fmt.Sprintf("brackets nested more than %d deep", maxDepth)}
			}
			p.pos++
			closer := byte(')')
			if c == '[' {
				closer = ']'
			}
			inner, err := p.alternation(closer)
			if err != nil {
				return nil, err
			}
			if p.pos >= len(p.src) {
				return nil, &templateError{open + 1, fmt.Sprintf("unbalanced %q: expected a closing %q", c, closer)}
			}
			if p.src[p.pos] != closer {
				return nil, &templateError{p.pos + 1, fmt.Sprintf("unbalanced brackets: %q opened at column %d but found %q", c, open+1, p.src[p.pos])}
			}
			p.pos++
			p.depth--
			if c == '[' {
				inner = &node{kind: kindOpt, children: []*node{inner}}
			}
			seq.children = append(seq.children, inner)
		case c == '{':
			open := p.pos
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 0 {
				return nil, &templateError{open + 1, "unbalanced '{': expected a closing '}'"}
			}
			name := p.src[p.pos+1 : p.pos+end]
			if !validName(name) {
				return nil, &templateError{open + 1, fmt.Sprintf("bad slot reference {%s}: expected {name} with letters, digits and _", name)}
			}
			p.pos += end + 1
			seq.children = append(seq.children, &node{kind: kindSlot, text: name})
		case c == '}':
			return nil, &templateError{p.pos + 1, "unbalanced '}': no matching '{'"}
		default:
			start := p.pos
			for p.pos < len(p.src) && !isSpace(p.src[p.pos]) && !isSyntax(p.src[p.pos]) {
				p.pos++
			}
			w, err := normalizeWord(p.src[start:p.pos])
			if err != nil {
				return nil, &templateError{start + 1, err.Error()}
			}
			seq.children = append(seq.children, &node{kind: kindWord, text: w})
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isSyntax(c byte) bool {
	switch c {
	case '(', ')', '[', ']', '{', '}', '|':
		return true
	}
	return false
}

// normalizeWord lower-cases w and checks it is a dictionary-style word:
// ASCII letters with apostrophes inside ("what's"), nothing else.
func normalizeWord(w string) (string, error) {
	lw := strings.ToLower(w)
	letters := 0
	for i := 0; i < len(lw); i++ {
		c := lw[i]
		switch {
		case c >= 'a' && c <= 'z':
			letters++
		case c == '\'' && i > 0 && i < len(lw)-1:
		default:
			return "", fmt.Errorf("%q is not a word: expected letters a-z (and ' inside a word), found %q", w, firstRune(w[i:]))
		}
	}
	if letters == 0 {
		return "", fmt.Errorf("%q is not a word: expected letters a-z", w)
	}
	return lw, nil
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// validName reports whether s can name a slot or an intent: it appears in
// JSGF rule names, MQTT JSON keys and Hermes topics, so it stays ASCII.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case (c >= '0' && c <= '9' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// nullable reports whether n can match no words at all.
func (n *node) nullable() bool {
	switch n.kind {
	case kindWord, kindSlot:
		return false
	case kindOpt:
		return true
	case kindAlt:
		for _, c := range n.children {
			if c.nullable() {
				return true
			}
		}
		return false
	default: // kindSeq
		for _, c := range n.children {
			if !c.nullable() {
				return false
			}
		}
		return true
	}
}

// slotUses returns, for each slot, the most times one path through n can
// use it; a slot used twice on a path would have two values.
func (n *node) slotUses(into map[string]int) {
	switch n.kind {
	case kindSlot:
		into[n.text]++
	case kindSeq, kindOpt:
		for _, c := range n.children {
			c.slotUses(into)
		}
	case kindAlt:
		for _, c := range n.children {
			sub := map[string]int{}
			c.slotUses(sub)
			for k, v := range sub {
				into[k] = max(into[k], v)
			}
		}
	}
}

// String renders n back in template syntax (normalised), used in JSGF.
func (n *node) String() string {
	var b strings.Builder
	n.write(&b, nil)
	return b.String()
}

// write renders n; slotRule, if set, renders a slot reference.
func (n *node) write(b *strings.Builder, slotRule func(string) string) {
	switch n.kind {
	case kindWord:
		b.WriteString(n.text)
	case kindSlot:
		if slotRule != nil {
			b.WriteString(slotRule(n.text))
		} else {
			b.WriteString("{" + n.text + "}")
		}
	case kindSeq:
		for i, c := range n.children {
			if i > 0 {
				b.WriteByte(' ')
			}
			c.write(b, slotRule)
		}
	case kindAlt:
		b.WriteByte('(')
		for i, c := range n.children {
			if i > 0 {
				b.WriteString(" | ")
			}
			c.write(b, slotRule)
		}
		b.WriteByte(')')
	case kindOpt:
		b.WriteByte('[')
		n.children[0].write(b, slotRule)
		b.WriteByte(']')
	}
}
