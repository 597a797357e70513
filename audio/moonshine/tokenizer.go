package moonshine

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Token ids every Moonshine model shares with LLaMA's tokenizer.
const (
	bos = 1 // start of transcript: the decoder's first input
	eos = 2 // end of transcript
)

// space is SentencePiece's mark of a word's start.
const space = "▁"

// Tokenizer is Moonshine's: LLaMA's SentencePiece BPE vocabulary and
// merges, as llama-tokenizer-js (MIT) ships them.
type Tokenizer struct {
	vocab []string       // by id
	texts []string       // by id: what a token writes after others, "" for a mark or a byte
	ids   map[string]int // by token
	rank  map[[2]int]int // merge priority: lower merges first
}

var jsString = regexp.MustCompile(`(llama_vocab_base64|llama_merges_binary|vocab_base64|merges_binary)\s*=\s*"([A-Za-z0-9+/=]+)"`)

// LoadTokenizer reads llama-tokenizer-js's llama-tokenizer.js: its
// vocabulary (tokens by id, base64 of lines) and merges (pairs of
// little-endian uint16 ids, base64, in priority order).
func LoadTokenizer(path string) (*Tokenizer, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("moonshine: tokenizer: %w", err)
	}
	var vocab, merges []byte
	for _, m := range jsString.FindAllSubmatch(src, -1) {
		b, err := base64.StdEncoding.DecodeString(string(m[2]))
		if err != nil {
			return nil, fmt.Errorf("moonshine: tokenizer %s: %s: %w", path, m[1], err)
		}
		if strings.Contains(string(m[1]), "vocab") {
			vocab = b
		} else {
			merges = b
		}
	}
	if vocab == nil || merges == nil {
		return nil, fmt.Errorf("moonshine: tokenizer %s: no vocabulary and merges (want llama-tokenizer-js's llama-tokenizer.js)", path)
	}
	return newTokenizer(strings.Split(string(vocab), "\n"), merges)
}

func newTokenizer(vocab []string, merges []byte) (*Tokenizer, error) {
	if len(vocab) <= eos || len(merges)%4 != 0 {
		return nil, errors.New("moonshine: tokenizer: malformed vocabulary or merges")
	}
	t := &Tokenizer{vocab: vocab, ids: make(map[string]int, len(vocab)), rank: make(map[[2]int]int, len(merges)/4)}
	t.texts = make([]string, len(vocab))
	for id, s := range vocab {
		if _, dup := t.ids[s]; !dup {
			t.ids[s] = id
		}
		if id > eos && !(strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">")) {
			t.texts[id] = strings.ReplaceAll(s, space, " ")
		}
	}
	for i := 0; i < len(merges); i += 4 {
		a, b := int(binary.LittleEndian.Uint16(merges[i:])), int(binary.LittleEndian.Uint16(merges[i+2:]))
		if a >= len(vocab) || b >= len(vocab) {
			return nil, fmt.Errorf("moonshine: tokenizer: merge %d of ids %d, %d past the vocabulary", i/4, a, b)
		}
		k := [2]int{a, b}
		if _, dup := t.rank[k]; !dup {
			t.rank[k] = i / 4
		}
	}
	return t, nil
}

// Encode tokenizes text as the start of a transcript (a space before it,
// as SentencePiece writes a transcript's first word), merging the pair of
// highest priority first, the leftmost of equals.
func (t *Tokenizer) Encode(text string) []int {
	var ids []int
	for _, r := range strings.ReplaceAll(" "+text, " ", space) {
		if id, ok := t.ids[string(r)]; ok {
			ids = append(ids, id)
			continue
		}
		for _, b := range []byte(string(r)) {
			ids = append(ids, t.ids[fmt.Sprintf("<0x%02X>", b)]) // 0, <unk>, if missing
		}
	}
	for {
		best, at := -1, -1
		for i := 0; i+1 < len(ids); i++ {
			r, ok := t.rank[[2]int{ids[i], ids[i+1]}]
			if ok && (best < 0 || r < best) {
				if _, known := t.ids[t.vocab[ids[i]]+t.vocab[ids[i+1]]]; known {
					best, at = r, i
				}
			}
		}
		if at < 0 {
			return ids
		}
		ids[at] = t.ids[t.vocab[ids[at]]+t.vocab[ids[at+1]]]
		ids = append(ids[:at+1], ids[at+2:]...)
	}
}

// Decode renders tokens as text: word marks become spaces, byte tokens
// bytes; the start and end marks are dropped, and the leading space.
func (t *Tokenizer) Decode(ids []int) string {
	var b []byte
	for _, id := range ids {
		if id == bos || id == eos || id < 0 || id >= len(t.vocab) {
			continue
		}
		s := t.vocab[id]
		if len(s) == 6 && strings.HasPrefix(s, "<0x") && s[5] == '>' {
			if v, err := strconv.ParseUint(s[3:5], 16, 8); err == nil {
				b = append(b, byte(v))
				continue
			}
		}
		b = append(b, strings.ReplaceAll(s, space, " ")...)
	}
	return strings.TrimPrefix(string(b), " ")
}

// text is what token id writes after the tokens before it (a word mark
// as a space), and false for the start and end marks, byte tokens and
// ids past the vocabulary.
func (t *Tokenizer) text(id int) (string, bool) {
	if id < 0 || id >= len(t.texts) || t.texts[id] == "" {
		return "", false
	}
	return t.texts[id], true
}
