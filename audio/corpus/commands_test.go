package corpus

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/earshot/earshot/audio/intents"
)

var update = flag.Bool("update", false, "rewrite commands.tsv from intents.yaml")

// commandsFile lists every command sentence of intents.yaml with what
// Match returns for it; gen.sh reads it, so the shell script never has to
// understand the grammar.
const commandsFile = "commands.tsv"

// maxCommands is far above the sentence count of intents.yaml; the test
// fails if the grammar ever grows past it rather than silently truncating.
const maxCommands = 2000

func renderCommands(g *intents.Grammar) ([]byte, int) {
	var b bytes.Buffer
	b.WriteString("# Generated from intents.yaml by `go test ./audio/corpus -run TestCommands -update`; do not edit.\n")
	b.WriteString("text\tintent\tslots\n")
	sentences := g.Sentences(maxCommands)
	for _, s := range sentences {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", s.Text, s.Match.Intent, formatSlots(s.Match.Slots))
	}
	return b.Bytes(), len(sentences)
}

// formatSlots renders slots as labels.tsv does: k=v;k=v sorted, or "-".
func formatSlots(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ";")
}

func TestCommandsUpToDate(t *testing.T) {
	g, err := intents.Load("intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, n := renderCommands(g)
	if n == maxCommands {
		t.Fatalf("intents.yaml has %d or more sentences; raise maxCommands", n)
	}
	if *update {
		if err := os.WriteFile(commandsFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(commandsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test ./audio/corpus -run TestCommands -update", commandsFile)
	}
}

// TestCommandsMatch reads commands.tsv back independently of how it was
// written: every row must be understood by Match exactly as labelled, and
// every intent of the corpus grammar must be represented.
func TestCommandsMatch(t *testing.T) {
	g, err := intents.Load("intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(commandsFile)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "text\t") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			t.Fatalf("%s:%d: %d columns, want 3", commandsFile, i+1, len(cols))
		}
		m, ok := g.Match(cols[0])
		if !ok || m.Intent != cols[1] || formatSlots(m.Slots) != cols[2] {
			t.Errorf("%s:%d: Match(%q) = %+v, %v; labelled %s %s", commandsFile, i+1, cols[0], m, ok, cols[1], cols[2])
		}
		seen[cols[1]] = true
	}
	if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, g.Intents()) {
		t.Errorf("%s covers intents %v, want %v", commandsFile, got, g.Intents())
	}
}
