package corpus

import (
	"bufio"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx"
)

// coffeeFile is Picovoice's coffee_maker Rhino context converted one to
// one (see its header for the source and the conversion).
const coffeeFile = "coffee.yaml"

// The parts every expression of the coffee_maker context is built from:
// the same opening choice, then an order of none, some or all of the
// modifiers before the drink, then one of five endings.
const (
	coffeeOpening = "(brew | can I get | can I have | I want | get me | give me | I'd like | make me | may I have) (a | an)"
	coffeeDrink   = "{coffeeDrink}"
)

var (
	coffeeModifiers = []string{"{size}", "{roast}", "{numberOfShots}"}
	coffeeEndings   = []string{" with {milkAmount} and {sugarAmount}", " with {sugarAmount} and {milkAmount}", " with {milkAmount}", " with {sugarAmount}", ""}
)

// TestCoffeeIsTheRhinoContext checks the file is the context converted one
// to one: one template per Rhino expression, every order of every subset
// of the modifiers with every ending exactly once, nothing else.
func TestCoffeeIsTheRhinoContext(t *testing.T) {
	data, err := os.ReadFile(coffeeFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Intents map[string][]string
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Intents) != 1 || file.Intents["orderDrink"] == nil {
		t.Fatalf("%s: intents %v, want exactly orderDrink", coffeeFile, slices.Sorted(maps.Keys(file.Intents)))
	}
	want := map[string]bool{}
	for _, order := range modifierOrders(coffeeModifiers) {
		for _, end := range coffeeEndings {
			want[strings.Join(append(append([]string{coffeeOpening}, order...), coffeeDrink), " ")+end] = true
		}
	}
	if len(want) != 80 {
		t.Fatalf("the context has 80 expressions, the test builds %d", len(want))
	}
	got := file.Intents["orderDrink"]
	seen := map[string]bool{}
	for _, tpl := range got {
		switch {
		case !want[tpl]:
			t.Errorf("template %q is not an expression of the context", tpl)
		case seen[tpl]:
			t.Errorf("template %q twice", tpl)
		}
		seen[tpl] = true
	}
	if len(got) != len(want) {
		t.Errorf("%d templates, want %d", len(got), len(want))
	}
}

// TestCoffeeWordsInDictionary backs the header's claim that no word of the
// context had to be respelled for PocketSphinx.
func TestCoffeeWordsInDictionary(t *testing.T) {
	g, err := intents.Load(coffeeFile)
	if err != nil {
		t.Fatal(err)
	}
	path := sphinx.DictionaryPath("")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	_, missing, err := sphinx.LookupWords(path, g.Words())
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("not in %s: %v", path, missing)
	}
}

// modifierOrders returns every order of every subset of mods.
func modifierOrders(mods []string) [][]string {
	out := [][]string{nil}
	for i, m := range mods {
		rest := slices.Delete(slices.Clone(mods), i, i+1)
		for _, tail := range modifierOrders(rest) {
			out = append(out, append([]string{m}, tail...))
		}
	}
	return out
}

// realDev is the directory of the recorded development corpus; its
// labels are read, never learnt from.
func realDev() string {
	if d := os.Getenv("EARSHOT_REAL_DEV"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "speech", "real-dev")
}

// TestCoffeeLabelsProducible checks that every coffee order of real-dev
// has a sentence in the grammar that Match reads as exactly its label: an
// order the grammar cannot produce could never be recognised right.
func TestCoffeeLabelsProducible(t *testing.T) {
	path := filepath.Join(realDev(), "labels.tsv")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("no real-dev labels (set EARSHOT_REAL_DEV): %v", err)
	}
	defer f.Close()
	g, err := intents.Load(coffeeFile)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	commands := 0
	for line := 1; sc.Scan(); line++ {
		c := strings.Split(sc.Text(), "\t")
		if line == 1 || len(c) < 5 || c[1] != "command" {
			continue
		}
		commands++
		slots := map[string]string{}
		for _, kv := range strings.Split(c[4], ";") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("%s:%d: slots %q: want k=v;k=v", path, line, c[4])
			}
			slots[k] = v
		}
		text := coffeeSentence(slots)
		m, ok := g.Match(text)
		if !ok || m.Intent != c[3] || formatSlots(m.Slots) != formatSlots(slots) {
			t.Errorf("%s:%d: %s %s: %q matches %+v %v", path, line, c[3], c[4], text, m, ok)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if commands < 300 {
		t.Fatalf("%d coffee orders in %s, want the 325 of real-dev", commands, path)
	}
}

// coffeeSentence says an order the way the context's first expressions
// do: the modifiers in the order size, roast, shots, then milk before
// sugar. Which of the 80 templates takes it does not matter; that one does.
func coffeeSentence(slots map[string]string) string {
	words := []string{"can i get a"}
	for _, k := range []string{"size", "roast", "numberOfShots", "coffeeDrink"} {
		if v, ok := slots[k]; ok {
			words = append(words, v)
		}
	}
	var with []string
	for _, k := range []string{"milkAmount", "sugarAmount"} {
		if v, ok := slots[k]; ok {
			with = append(with, v)
		}
	}
	if len(with) > 0 {
		words = append(words, "with", strings.Join(with, " and "))
	}
	return strings.Join(words, " ")
}
