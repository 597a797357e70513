//go:build cgo && !nopocketsphinx

package sphinx

import (
	"testing"

	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
)

// PocketSphinx's VAD (-remove_silence, on by default) leaves the silence
// between words out of the search, so the search's frames are not the
// audio's. Segments must report the audio's frames all the same: the
// same as a search that sees every frame, and the words where the speech
// is, not in the pause between them.
func TestSegmentsInAudioTime(t *testing.T) {
	const lead, pause = 0.5, 1.2
	wake := sphinxtest.Speak(t, "slt", "hey jarvis", lead, 0)
	cmd := sphinxtest.Speak(t, "slt", "turn on the kitchen lights", pause, 0.6)
	pcm := append(wake, cmd...)
	pauseFrom, pauseTo := len(wake)/frameShift, (len(wake)+int(pause*16000))/frameShift

	segments := func(extra ...string) []Segment {
		d := newTestDecoder(t, extra...)
		var last []Segment
		// Twice: the search counts frames on across utterances, and the
		// second's must still start at its own audio.
		for range 2 {
			decode(t, d, "cmd", pcm)
			last = nil
			for _, s := range d.Segments() {
				if s.Word[0] != '<' && s.Word[0] != '[' {
					last = append(last, s)
				}
			}
		}
		return last
	}
	vad, all := segments(), segments("-remove_silence", "no")
	if len(vad) != 7 || len(all) != len(vad) {
		t.Fatalf("words: with the VAD %v, without %v; want the 7 of the sentence", vad, all)
	}
	const slack = 3 // frames
	for i, s := range vad {
		a := all[i]
		if s.Word != a.Word || abs(s.Start-a.Start) > slack || abs(s.End-a.End) > slack {
			t.Errorf("word %d: %s %d-%d with the VAD, %s %d-%d without", i, s.Word, s.Start, s.End, a.Word, a.Start, a.End)
		}
		if s.Start < pauseTo-slack && s.End > pauseFrom+slack {
			t.Errorf("word %s at frames %d-%d overlaps the pause %d-%d", s.Word, s.Start, s.End, pauseFrom, pauseTo)
		}
	}
	if vad[1].End > pauseFrom+slack || vad[2].Start < pauseTo-slack {
		t.Errorf("jarvis ends at %d and turn starts at %d; the pause is %d-%d", vad[1].End, vad[2].Start, pauseFrom, pauseTo)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
