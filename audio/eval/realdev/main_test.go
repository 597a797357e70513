package main

import "testing"

func TestHolds(t *testing.T) {
	for _, tt := range []struct {
		phrase, p string
		want      bool
	}{
		{"hey computer", "computer", true},
		{"hey computer", "hey computer", true},
		{"computer", "hey computer", false},
		{"hey chatterbox", "hey", true},
		{"smart mirror", "mirror glass", false},
		{"amelia", "amel", false},
		{"view glass", "glass", true},
	} {
		if got := holds(tt.phrase, tt.p); got != tt.want {
			t.Errorf("holds(%q, %q) = %v, want %v", tt.phrase, tt.p, got, tt.want)
		}
	}
}
