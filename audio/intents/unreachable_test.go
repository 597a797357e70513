package intents

import (
	"os"
	"strings"
	"testing"
)

func TestUnreachable(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // one substring per expected warning, in order
	}{
		{"contract example is clean", "", nil},
		{"earlier intent takes everything", "intents:\n  Stop: [\"stop | halt\"]\n  Halt: [\"halt\", \"stop\"]\n",
			[]string{"f.yaml:3: intent Halt: template \"halt\" never matches: every sentence it accepts goes to Stop", "f.yaml:3: intent Halt: template \"stop\""}},
		{"built-in takes everything", "intents:\n  Oops: [\"(delete | forget) that\"]\n",
			[]string{"f.yaml:2: intent Oops: template \"(delete | forget) that\" never matches: every sentence it accepts goes to ForgetLast"}},
		{"split between two intents", "intents:\n  A: [a]\n  B: [b]\n  C: [\"a | b\"]\n",
			[]string{"goes to A and B, which comes first"}},
		{"partly shadowed is fine", "intents:\n  Stop: [stop]\n  Halt: [\"stop | halt\"]\n", nil},
		{"slot value shadowed only partly", "slots:\n  r: [kitchen, hall]\nintents:\n  K: [\"on kitchen\"]\n  On: [\"on {r}\"]\n", nil},
		{"same intent repeating itself is fine", "intents:\n  Stop: [stop, \"stop | halt\"]\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.yaml
			if src == "" {
				src = contractYAML(t)
			}
			g, err := Parse([]byte(src), "f.yaml")
			if err != nil {
				t.Fatal(err)
			}
			got := g.Unreachable()
			if len(got) != len(tt.want) {
				t.Fatalf("Unreachable() = %v, want %d warnings", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].Error(), w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func contractYAML(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/contract.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
