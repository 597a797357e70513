package eval

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Kinds of corpus files.
const (
	KindWake  = "wake"  // wake phrase followed by a command
	KindOther = "other" // anything else: speech, noise, near misses
	// KindBare is the wake phrase alone: waking is right, acting is not.
	KindBare = "bare"
)

// Label is one row of labels.tsv.
type Label struct {
	File   string // relative to the corpus directory
	Kind   string // KindWake or KindOther
	Intent string // expected intent; "" for none ("-" in the file)
	Slots  map[string]string
	// Tags are the further columns the header names (set, voice, noise,
	// snr in the generated corpus), column -> value: what a report can
	// be broken down by (see Options.By).
	Tags map[string]string
	Line int
}

// maxLabelLine bounds one row; a longer one is certainly not a label.
const maxLabelLine = 64 * 1024

// ParseLabels reads labels.tsv: tab-separated file, kind (wake|other),
// intent or "-", slots as k=v;k=v or "-". Blank lines and "#" comments are
// skipped, and so is a header row starting "file<TAB>kind"; further
// columns become the rows' Tags if the header names them and are ignored
// otherwise. Errors name the file and line and say what was expected.
func ParseLabels(r io.Reader, name string) ([]Label, error) {
	var out []Label
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLabelLine)
	line := 0
	var extra []string // names of the columns after slots, from the header
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(out) == 0 && len(cols) >= 2 && cols[0] == "file" && cols[1] == "kind" {
			if len(cols) > 4 {
				extra = cols[4:]
			}
			continue
		}
		if len(cols) < 4 {
			return nil, fmt.Errorf("%s:%d: %d column(s), expected 4 tab-separated: file, kind, intent, slots", name, line, len(cols))
		}
		l := Label{File: strings.TrimSpace(cols[0]), Kind: strings.TrimSpace(cols[1]), Line: line, Slots: map[string]string{}}
		if l.File == "" || path.IsAbs(l.File) || strings.HasPrefix(path.Clean(l.File), "..") {
			return nil, fmt.Errorf("%s:%d: file %q: expected a path inside the corpus directory", name, line, cols[0])
		}
		if prev, dup := seen[l.File]; dup {
			return nil, fmt.Errorf("%s:%d: file %q already labelled on line %d", name, line, l.File, prev)
		}
		seen[l.File] = line
		if l.Kind != KindWake && l.Kind != KindOther && l.Kind != KindBare {
			return nil, fmt.Errorf("%s:%d: kind %q: expected %q, %q or %q", name, line, cols[1], KindWake, KindOther, KindBare)
		}
		if in := strings.TrimSpace(cols[2]); in != "-" && in != "" {
			l.Intent = in
		}
		slots, err := parseSlots(strings.TrimSpace(cols[3]))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: slots %q: %w", name, line, cols[3], err)
		}
		l.Slots = slots
		for i, name := range extra {
			if name = strings.TrimSpace(name); name != "" && 4+i < len(cols) {
				if l.Tags == nil {
					l.Tags = map[string]string{}
				}
				l.Tags[name] = strings.TrimSpace(cols[4+i])
			}
		}
		if l.Kind != KindWake && (l.Intent != "" || len(l.Slots) > 0) {
			return nil, fmt.Errorf("%s:%d: kind %s with intent %q: expected intent and slots \"-\"", name, line, l.Kind, cols[2])
		}
		if l.Intent == "" && len(l.Slots) > 0 {
			return nil, fmt.Errorf("%s:%d: slots without an intent: expected intent name in column 3", name, line)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no labelled files", name)
	}
	return out, nil
}

func parseSlots(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "-" || s == "" {
		return m, nil
	}
	for _, kv := range strings.Split(s, ";") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: expected name=value", kv)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("slot %q given twice", k)
		}
		m[k] = v
	}
	return m, nil
}

// formatSlots renders slots as k=v;k=v, sorted, or "-".
func formatSlots(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ";")
}
