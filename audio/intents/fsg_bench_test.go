package intents

import (
	"os"
	"testing"
)

// BenchmarkCommandFSG compiles the coffee context (80 templates) from a
// parsed file to its minimal FSG, as the daemon does at start and reload.
func BenchmarkCommandFSG(b *testing.B) {
	data, err := os.ReadFile("../corpus/coffee.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		g, err := Parse(data, "coffee.yaml")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := g.CommandFSG(); err != nil {
			b.Fatal(err)
		}
	}
}
