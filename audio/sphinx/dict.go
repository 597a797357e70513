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
		word := text[:end]
		if i := bytes.IndexByte(word, '('); i > 0 && word[len(word)-1] == ')' {
			word = word[:i]
		}
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
