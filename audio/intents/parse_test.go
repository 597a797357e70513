package intents

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		line int
		want string // substring of the message
	}{
		{"unknown slot", "intents:\n  A: [\"turn on {room}\"]\n", 2, `unknown slot {room}`},
		{"unknown slot lists known", "slots:\n  room: [kitchen]\nintents:\n  A: [\"turn on {rom}\"]\n", 4, `expected one of {room}`},
		{"unbalanced open paren", "intents:\n  A: [\"(turn | switch on\"]\n", 2, `unbalanced '(': expected a closing ')'`},
		{"unbalanced close paren", "intents:\n  A: [\"turn on)\"]\n", 2, `unbalanced ')'`},
		{"mismatched brackets", "intents:\n  A: [\"(turn on]\"]\n", 2, `unbalanced brackets`},
		{"unbalanced optional", "intents:\n  A: [\"turn [on\"]\n", 2, `unbalanced '['`},
		{"unbalanced brace", "intents:\n  A: [\"turn on {room\"]\n", 2, `unbalanced '{'`},
		{"stray close brace", "intents:\n  A: [\"turn on }\"]\n", 2, `unbalanced '}'`},
		{"empty alternative", "intents:\n  A: [\"(turn | ) on\"]\n", 2, `empty alternative`},
		{"empty leading alternative", "intents:\n  A: [\"( | turn) on\"]\n", 2, `empty alternative`},
		{"empty group", "intents:\n  A: [\"turn () on\"]\n", 2, `empty group ()`},
		{"empty optional", "intents:\n  A: [\"turn [] on\"]\n", 2, `empty group []`},
		{"empty template", "intents:\n  A: [\"  \"]\n", 2, `empty template`},
		{"only optional", "intents:\n  A: [\"[please]\"]\n", 2, `can match silence`},
		{"slot twice", "slots:\n  room: [kitchen]\nintents:\n  A: [\"{room} and {room}\"]\n", 4, `uses {room} twice`},
		{"slot no values list", "slots:\n  room: []\nintents:\n  A: [\"on\"]\n", 2, `slot room has no values`},
		{"slot no values null", "slots:\n  room:\nintents:\n  A: [\"on\"]\n", 2, `slot room has no values`},
		{"slot scalar", "slots:\n  room: kitchen\n", 2, `expected a list [a, b] or a map`},
		{"duplicate intent", "intents:\n  A: [\"on\"]\n  A: [\"off\"]\n", 3, `duplicate intent A (first at line 2)`},
		{"duplicate intent case", "intents:\n  Lights: [\"on\"]\n  lights: [\"off\"]\n", 3, `duplicate intent lights`},
		{"duplicate slot", "slots:\n  room: [a]\n  room: [b]\n", 3, `duplicate slot "room"`},
		{"bad intent name", "intents:\n  Lights-On: [\"on\"]\n", 2, `bad intent name "Lights-On"`},
		{"bad intent name digit", "intents:\n  1Lights: [\"on\"]\n", 2, `bad intent name`},
		{"bad slot name", "slots:\n  my room: [a]\n", 2, `bad slot name "my room"`},
		{"bad slot ref", "intents:\n  A: [\"on {my room}\"]\n", 2, `bad slot reference {my room}`},
		{"builtin name", "intents:\n  ForgetLast: [\"oops\"]\n", 2, `reserved for the built-in privacy intent ForgetLast`},
		{"builtin name case", "intents:\n  forgettoday: [\"oops\"]\n", 2, `reserved for the built-in privacy intent ForgetToday`},
		{"non-string template", "intents:\n  A: [42]\n", 2, `template "42" (int): expected a string`},
		{"mapping template", "intents:\n  A:\n    - {x: y}\n", 3, `template a mapping: expected a string`},
		{"no templates", "intents:\n  A: []\n", 2, `intent A has no templates`},
		{"null templates", "intents:\n  A:\n", 2, `intent A has no templates`},
		{"spoken value number", "slots:\n  minutes: {1: 1}\n", 2, `spoken value "1" (int) is not words`},
		{"spoken value in list number", "slots:\n  n: [one, 2]\n", 2, `spoken value "2" (int) is not words`},
		{"spoken value punctuation", "slots:\n  room: [\"kitchen!\"]\n", 2, `found "!"`},
		{"spoken value hyphen", "slots:\n  room: [\"x-ray room\"]\n", 2, `not words`},
		{"duplicate spoken value", "slots:\n  room: [Kitchen, kitchen]\n", 2, `duplicate spoken value "kitchen"`},
		{"map value null", "slots:\n  minutes: {one: }\n", 2, `value for "one": expected a number or text`},
		{"map value list", "slots:\n  minutes:\n    one: [1]\n", 3, `expected a number or text, found a list`},
		{"punctuation in template", "intents:\n  A: [\"turn on, please\"]\n", 2, `"on," is not a word`},
		{"digits in template", "intents:\n  A: [\"set 5 minutes\"]\n", 2, `"5" is not a word`},
		{"non ascii", "intents:\n  A: [\"café on\"]\n", 2, `found "é"`},
		{"unknown top key", "slot:\n  room: [a]\n", 1, `unknown key "slot": expected slots or intents`},
		{"top not mapping", "- a\n- b\n", 1, `expected a mapping with keys slots and intents`},
		{"intents not mapping", "intents: [a, b]\n", 1, `intents: expected a mapping`},
		{"slots not mapping", "slots: [a, b]\n", 1, `slots: expected a mapping`},
		{"two documents", "intents:\n  A: [on]\n---\nintents:\n  B: [off]\n", 3, `a second YAML document`},
		{"bad yaml", "intents:\n  A: on\n\tB: off\n", 2, `invalid YAML: found a tab character`},
		{"alias template", "x: &a on\nintents:\n  A: [*a]\n", 1, `unknown key "x"`},
		{"nested too deep", "intents:\n  A: [\"" + strings.Repeat("(", 40) + "on" + strings.Repeat(")", 40) + "\"]\n", 2, `brackets nested more than 32 deep`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Parse([]byte(tt.yaml), "home.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded with intents %v, want error containing %q", g.Intents(), tt.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if perr.File != "home.yaml" || perr.Line != tt.line {
				t.Errorf("error at %s:%d, want home.yaml:%d: %v", perr.File, perr.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "home.yaml:") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	src := "slots:\n  room: []\nintents:\n  A: [\"(on\"]\n  B: [\"{nope}\"]\n"
	_, err := Parse([]byte(src), "f.yaml")
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	for _, want := range []string{"f.yaml:2:", "f.yaml:4:", "f.yaml:5:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		intents []string
	}{
		{"empty file", "", []string{ForgetLast, ForgetToday}},
		{"comment only", "# nothing yet\n", []string{ForgetLast, ForgetToday}},
		{"document marker", "---\nintents:\n  Stop: [stop]\n", []string{ForgetLast, ForgetToday, "Stop"}},
		{"empty sections", "slots:\nintents:\n", []string{ForgetLast, ForgetToday}},
		{"single string template", "intents:\n  Stop: stop\n", []string{ForgetLast, ForgetToday, "Stop"}},
		{"upper case words", "intents:\n  Stop: [\"STOP the Music\"]\n", []string{ForgetLast, ForgetToday, "Stop"}},
		{"apostrophe", "intents:\n  Time: [\"what's the time\"]\n", []string{ForgetLast, ForgetToday, "Time"}},
		{"unused slot", "slots:\n  room: [kitchen]\nintents:\n  Stop: [stop]\n", []string{ForgetLast, ForgetToday, "Stop"}},
		{"top level alternatives", "intents:\n  Stop: [\"stop | halt\"]\n", []string{ForgetLast, ForgetToday, "Stop"}},
		{"optional alternatives", "intents:\n  Stop: [\"[please | now] stop\"]\n", []string{ForgetLast, ForgetToday, "Stop"}},
		{"nested", "slots:\n  r: [a, b c]\nintents:\n  X: [\"((turn | switch) [the] {r} | {r} [lights]) on\"]\n", []string{ForgetLast, ForgetToday, "X"}},
		{"map values of any scalar", "slots:\n  level: {low: 0.25, high: \"max\", full: true}\nintents:\n  Dim: [\"dim to {level}\"]\n", []string{"Dim", ForgetLast, ForgetToday}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Parse([]byte(tt.yaml), "ok.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Intents(); !slices.Equal(got, tt.intents) {
				t.Fatalf("Intents() = %v, want %v", got, tt.intents)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load(missing) = %v, want an error naming the file", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "expected at most") {
		t.Errorf("Load(big) = %v, want a size error", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("intents:\n  A: [\"(\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":2: ") {
		t.Errorf("Load(bad) = %v, want an error at %s:2", err, bad)
	}
}

func TestCheckPhrase(t *testing.T) {
	tests := []struct {
		phrase string
		ok     bool
	}{
		{"hey jarvis", true},
		{"Hey Jarvis", true},
		{"ok computer", true},
		{"", false},
		{"   ", false},
		{"hey, jarvis", false},
		{"hey jarvis!", false},
		{"r2d2", false},
	}
	for _, tt := range tests {
		if err := CheckPhrase(tt.phrase); (err == nil) != tt.ok {
			t.Errorf("CheckPhrase(%q) = %v, want ok=%v", tt.phrase, err, tt.ok)
		}
	}
}
