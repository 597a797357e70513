package sphinx

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dictionary maps lower-case words to their pronunciations.
type Dictionary map[string][]string

// LoadDictionary reads a CMU-format pronunciation dictionary
// ("word PH ON ES", variants as "word(2) ...").
func LoadDictionary(path string) (Dictionary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open dictionary: %w", err)
	}
	defer f.Close()
	d, err := ParseDictionary(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// ParseDictionary parses a CMU-format dictionary. Lines without a phone,
// and comments (";;;" or "#"), are skipped; a word may have several
// variants.
func ParseDictionary(r io.Reader) (Dictionary, error) {
	return parseDictionary(r, nil)
}

// parseDictionary keeps only the words in want, or all when want is nil.
// Lines of unwanted words are skipped without allocating: the daemon
// looks up a few hundred words in a 134k-line file at every start, and
// the garbage of splitting every line set its heap's high-water mark.
func parseDictionary(r io.Reader, want map[string]bool) (Dictionary, error) {
	d := Dictionary{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || bytes.HasPrefix(text, []byte(";;;")) || text[0] == '#' {
			continue
		}
		end := bytes.IndexAny(text, " \t")
		if end < 0 {
			return nil, fmt.Errorf("line %d: want \"word PHONES...\", got %q", line, text)
		}
		word := withoutVariant(text[:end])
		if hasUpper(word) {
			word = bytes.ToLower(word)
		}
		if want != nil && !want[string(word)] {
			continue
		}
		fields := strings.Fields(string(text[end:]))
		w := string(word)
		d[w] = append(d[w], strings.Join(fields, " "))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return d, nil
}

// withoutVariant strips a dictionary entry's variant number:
// "jarvis(2)" -> "jarvis".
func withoutVariant(w []byte) []byte {
	if i := bytes.IndexByte(w, '('); i > 0 && w[len(w)-1] == ')' {
		return w[:i]
	}
	return w
}

func hasUpper(b []byte) bool {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// LookupWords reads the dictionary at path and returns only the
// pronunciations of words, plus the sorted words it does not contain.
// Streaming the file keeps the 134k-word dictionary out of memory.
func LookupWords(path string, words []string) (Dictionary, []string, error) {
	want := make(map[string]bool, len(words))
	for _, w := range words {
		want[strings.ToLower(w)] = true
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open dictionary: %w", err)
	}
	defer f.Close()
	d, err := parseDictionary(f, want)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	sub, missing := d.Subset(words)
	return sub, missing, nil
}

// Subset returns the pronunciations of words and the sorted list of words
// the dictionary does not know.
func (d Dictionary) Subset(words []string) (Dictionary, []string) {
	sub := Dictionary{}
	var missing []string
	for _, w := range words {
		w = strings.ToLower(w)
		if p, ok := d[w]; ok {
			sub[w] = p
		} else if _, dup := sub[w]; !dup && !contains(missing, w) {
			missing = append(missing, w)
		}
	}
	sort.Strings(missing)
	return sub, missing
}

func contains(s []string, w string) bool {
	for _, x := range s {
		if x == w {
			return true
		}
	}
	return false
}

// DictionaryPath is the dictionary file in a model directory.
func DictionaryPath(modelDir string) string {
	if modelDir == "" {
		modelDir = DefaultModelDir
	}
	return filepath.Join(modelDir, "cmudict-en-us.dict")
}

// SoundAlikes returns the words of the dictionary at path that sound
// almost like a word with pronunciations prons: each turns into one of
// prons with at most maxEdits phone substitutions or removals of extra
// phones ("marvin" and "harvest" for "jarvis"). None may lack a phone of
// the word: a shorter sound-alike is only part of the word, and whatever
// else a recogniser can match to the rest makes the word itself. Words
// with the word's own pronunciation (homophones, the word itself) are
// left out, and so are words that are not plain lower-case letters, so
// that each one can stand in a grammar; a word's pronunciations that are
// further off are left out too. The file is streamed and no line is split
// unless it matches.
func SoundAlikes(path string, prons []string, maxEdits int) (Dictionary, error) {
	var targets [][]string
	for _, p := range prons {
		targets = append(targets, strings.Fields(p))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open dictionary: %w", err)
	}
	defer f.Close()
	near := Dictionary{}
	same := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var phones [][]byte
	var row []int
	for sc.Scan() {
		text := bytes.TrimSpace(sc.Bytes())
		end := bytes.IndexAny(text, " \t")
		if end <= 0 {
			continue
		}
		word, ok := plainWord(text[:end])
		if !ok {
			continue
		}
		phones = appendFields(phones[:0], text[end:])
		if cap(row) < len(phones)+1 {
			row = make([]int, len(phones)+1)
		}
		best := maxEdits + 1
		for _, t := range targets {
			best = min(best, phoneEdits(t, phones, maxEdits, row[:len(phones)+1]))
		}
		switch {
		case best == 0:
			same[string(word)] = true
		case best <= maxEdits:
			w := string(word)
			near[w] = append(near[w], string(bytes.Join(phones, []byte(" "))))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for w := range same {
		delete(near, w)
	}
	return near, nil
}

// appendFields appends the space-separated fields of b to dst, as
// bytes.Fields would return them but without a new slice per line.
func appendFields(dst [][]byte, b []byte) [][]byte {
	for len(b) > 0 {
		i := 0
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' {
			j++
		}
		if j > i {
			dst = append(dst, b[i:j])
		}
		b = b[j:]
	}
	return dst
}

// plainWord returns a dictionary entry's word without its variant number
// ("jarvis(2)"), and whether it is plain lower-case letters.
func plainWord(w []byte) ([]byte, bool) {
	w = withoutVariant(w)
	for _, c := range w {
		if c < 'a' || c > 'z' {
			return nil, false
		}
	}
	return w, len(w) > 0
}

// phoneEdits counts the substitutions and insertions that turn the phone
// sequence a into b, deletions not allowed, or returns more than limit as
// soon as that many are needed. row has len(b)+1 elements of scratch.
func phoneEdits(a []string, b [][]byte, limit int, row []int) int {
	if len(b) < len(a) || len(b)-len(a) > limit {
		return limit + 1
	}
	// row[j]: edits turning a[:i] into b[:j]; a[:i] cannot become a
	// shorter b[:j] without a deletion.
	const never = 1 << 30
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = never
		best := never
		for j := 1; j < len(row); j++ {
			up := row[j]
			v := row[j-1] + 1 // b[j-1] inserted
			if a[i-1] == string(b[j-1]) {
				v = min(v, diag)
			} else {
				v = min(v, diag+1)
			}
			row[j] = v
			diag = up
			best = min(best, v)
		}
		if best > limit {
			return limit + 1
		}
	}
	return row[len(b)]
}
