package sphinx

import (
	"math"
	"strings"
	"testing"
)

// fakeFSG is an FSG given transition by transition.
type fakeFSG struct {
	states, start, final int
	trans                []fsgTransition
}

func (f fakeFSG) States() int { return f.states }
func (f fakeFSG) Start() int  { return f.start }
func (f fakeFSG) Final() int  { return f.final }
func (f fakeFSG) EachTransition(fn func(from, to int, word string, logProb float64)) {
	for _, t := range f.trans {
		fn(t.from, t.to, t.word, t.logProb)
	}
}

func TestCheckFSG(t *testing.T) {
	ok := fakeFSG{3, 0, 2, []fsgTransition{{0, 1, "hey", 0}, {1, 2, "jarvis", math.Log(0.5)}, {0, 2, "", -30}}}
	if err := checkFSG(ok); err != nil {
		t.Fatalf("a good FSG: %v", err)
	}
	tests := []struct {
		name string
		fsg  fakeFSG
		want string
	}{
		{"no states", fakeFSG{0, 0, 0, nil}, "expected 1 to"},
		{"start out of range", fakeFSG{2, 2, 1, nil}, "start state 2 out of range"},
		{"final out of range", fakeFSG{2, 0, -1, nil}, "final state -1 out of range"},
		{"transition out of range", fakeFSG{2, 0, 1, []fsgTransition{{0, 5, "x", 0}}}, "state out of range"},
		{"probability above 1", fakeFSG{2, 0, 1, []fsgTransition{{0, 1, "x", 0.1}}}, "log probability 0.1"},
		{"probability 0", fakeFSG{2, 0, 1, []fsgTransition{{0, 1, "x", math.Inf(-1)}}}, "log probability -Inf"},
		{"not a number", fakeFSG{2, 0, 1, []fsgTransition{{0, 1, "x", math.NaN()}}}, "log probability NaN"},
	}
	for _, tt := range tests {
		if err := checkFSG(tt.fsg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
