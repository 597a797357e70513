package intents

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestJSGFRules(t *testing.T) {
	g := mustLoad(t, "testdata/contract.yaml")
	tests := []struct {
		wake    string
		want    []string
		notWant []string
	}{
		{"", []string{
			"#JSGF V1.0;\n\ngrammar earshot;\n",
			"public <command> = <intent_ForgetToday> | <intent_ForgetLast> | <intent_LightsOn> | <intent_LightsOff> | <intent_SetTimer>;\n",
			"<intent_LightsOn> = (turn | switch) on the <slot_room> lights | lights on in the <slot_room>;\n",
			"<slot_room> = kitchen | bedroom | living room;\n",
			"<slot_minutes> = one | two | five | ten;\n",
		}, []string{"<wake>", "wake_command", "{"}},
		{"Hey  Jarvis", []string{
			"public <wake_command> = <wake> <command>;\n",
			"public <command> = ",
			"<wake> = hey jarvis;\n",
		}, nil},
		{"hey, jarvis!", []string{"<wake> = hey jarvis;\n"}, nil}, // punctuation is dropped
		{"!!!", nil, []string{"<wake>"}},
	}
	for _, tt := range tests {
		t.Run(tt.wake, func(t *testing.T) {
			got := g.JSGF(tt.wake)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("JSGF(%q) lacks %q:\n%s", tt.wake, w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("JSGF(%q) has %q:\n%s", tt.wake, w, got)
				}
			}
		})
	}
}

// TestJSGFRoundTrip reads the rendered rules back as an intents file: the
// recogniser and Match must accept exactly the same sentences, so any loss
// of structure in rendering (a missing bracket, | binding wrongly) shows
// as a different sentence set.
func TestJSGFRoundTrip(t *testing.T) {
	for _, file := range []string{"testdata/contract.yaml", "testdata/nested.yaml", "../corpus/intents.yaml"} {
		t.Run(file, func(t *testing.T) {
			g := mustLoad(t, file)
			back, err := Parse([]byte(jsgfAsIntents(t, g.JSGF("hey jarvis"))), "roundtrip.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if a, b := sentenceSet(g), sentenceSet(back); !maps.Equal(a, b) {
				t.Fatalf("JSGF accepts a different language:\noriginal %v\nJSGF     %v", sortedKeys(a), sortedKeys(b))
			}
		})
	}
}

func sentenceSet(g *Grammar) map[string]bool {
	set := map[string]bool{}
	for _, s := range g.Sentences(100000) {
		set[s.Text] = true
	}
	return set
}

// jsgfAsIntents turns the intent and slot rules of a JSGF grammar into an
// intents file (built-ins renamed, since their names are reserved).
func jsgfAsIntents(t *testing.T, jsgf string) string {
	t.Helper()
	var slots, intents strings.Builder
	sc := bufio.NewScanner(strings.NewReader(jsgf))
	for sc.Scan() {
		line := sc.Text()
		name, body, ok := strings.Cut(line, " = ")
		if !ok || strings.HasPrefix(line, "public ") || !strings.HasSuffix(body, ";") {
			continue
		}
		body = strings.TrimSuffix(body, ";")
		for {
			i := strings.Index(body, "<slot_")
			if i < 0 {
				break
			}
			j := strings.IndexByte(body[i:], '>')
			body = body[:i] + "{" + body[i+len("<slot_"):i+j] + "}" + body[i+j+1:]
		}
		switch {
		case strings.HasPrefix(name, "<slot_"):
			fmt.Fprintf(&slots, "  %s: [", strings.Trim(name[len("<slot_"):], ">"))
			for i, v := range strings.Split(body, " | ") {
				if i > 0 {
					slots.WriteString(", ")
				}
				slots.WriteString(strconv.Quote(v))
			}
			slots.WriteString("]\n")
		case strings.HasPrefix(name, "<intent_"):
			fmt.Fprintf(&intents, "  JSGF%s: [%s]\n", strings.Trim(name[len("<intent_"):], ">"), strconv.Quote(body))
		case name == "<wake>":
		default:
			t.Fatalf("unexpected rule %q", line)
		}
	}
	return "slots:\n" + slots.String() + "intents:\n" + intents.String()
}

func TestWordsInDictionary(t *testing.T) {
	const dict = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
	f, err := os.Open(dict)
	if err != nil {
		t.Skipf("no PocketSphinx dictionary: %v", err)
	}
	defer f.Close()
	known := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w, _, ok := strings.Cut(sc.Text(), " "); ok {
			known[w] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	g := mustLoad(t, "../corpus/intents.yaml")
	for _, w := range append(g.Words(), "hey", "jarvis") {
		if !known[w] {
			t.Errorf("%q (from the built-ins or the corpus intents) is not in %s", w, dict)
		}
	}
}

// TestJSGFDecodes runs the real PocketSphinx JSGF parser and decoder on
// speech synthesised by flite: the grammar must load, and both the wake
// rule and the command rule must decode to sentences Match understands.
func TestJSGFDecodes(t *testing.T) {
	for _, tool := range []string{"pocketsphinx_continuous", "flite", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	g := mustLoad(t, "../corpus/intents.yaml")
	dir := t.TempDir()
	gram := filepath.Join(dir, "earshot.gram")
	if err := os.WriteFile(gram, []byte(g.JSGF("hey jarvis")), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule   string
		spoken string
		want   Match
	}{
		{GrammarName + "." + RuleWakeCommand, "hey jarvis, turn on the living room lights", Match{"LightsOn", map[string]string{"room": "living room"}}},
		{GrammarName + "." + RuleCommand, "set a timer for five minutes", Match{"SetTimer", map[string]string{"minutes": "5"}}},
		{GrammarName + "." + RuleCommand, "delete everything I said today", Match{ForgetToday, map[string]string{}}},
	}
	for i, tt := range tests {
		t.Run(tt.spoken, func(t *testing.T) {
			raw := filepath.Join(dir, fmt.Sprintf("raw%d.wav", i))
			wav := filepath.Join(dir, fmt.Sprintf("utt%d.wav", i))
			run(t, "flite", "-voice", "slt", "-t", tt.spoken, "-o", raw)
			run(t, "sox", raw, "-r", "16000", "-c", "1", "-b", "16", wav)
			out := run(t, "pocketsphinx_continuous", "-jsgf", gram, "-toprule", tt.rule, "-infile", wav, "-logfn", os.DevNull)
			hyp := strings.TrimSpace(out)
			hyp = strings.TrimSpace(strings.TrimPrefix(hyp, "hey jarvis"))
			got, ok := g.Match(hyp)
			if !ok || got.Intent != tt.want.Intent || !maps.Equal(got.Slots, tt.want.Slots) {
				t.Fatalf("decoded %q, Match = %+v %v; want %+v", out, got, ok, tt.want)
			}
		})
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
	}
	return string(out)
}
