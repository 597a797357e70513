package main

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
	"github.com/earshot/earshot/audio/wakenet"
)

// TestRun trains a net from a tiny corpus through the real listener,
// then again from the candidates it saved, and refuses a corrupt save.
func TestRun(t *testing.T) {
	sphinxtest.Require(t)
	dir := t.TempDir()
	var labels strings.Builder
	labels.WriteString("file\tkind\tintent\tslots\n")
	for i, f := range []struct{ kind, voice, text string }{
		{"wake", "slt", "hey jarvis, turn on the kitchen lights"},
		{"wake", "rms", "hey jarvis, switch off the bedroom lights"},
		{"wake", "awb", "hey jarvis, play some jazz"},
		{"wake", "kal16", "hey jarvis, stop the music"},
		{"wake", "rms", "hey jarvis, turn the volume up"},
		{"other", "rms", "hey marvin"},
		{"other", "rms", "hey marvin, turn on the kitchen lights"},
		{"other", "slt", "hey harvest, play some jazz"},
		{"other", "awb", "the jarvis family moved away"},
	} {
		name := filepath.Join(f.kind, string(rune('a'+i))+".wav")
		pcm := append(sphinxtest.Silence(1), sphinxtest.Speak(t, f.voice, f.text, 0.3, 1.2)...)
		var buf bytes.Buffer
		if err := capture.WriteWAV(&buf, pcm, audio.SampleRate); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, f.kind), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		labels.WriteString(name + "\t" + f.kind + "\t-\t-\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.tsv"), []byte(labels.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	intentsPath, err := filepath.Abs("../../corpus/intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "earshot.yaml")
	cfg := "device_id: test\nspeech: {intents: " + intentsPath + "}\nretention: {dir: " + t.TempDir() + "}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := wakenet.TrainOptions{Hidden: 4, Epochs: 3, Members: 2, Seed: 1}
	out := filepath.Join(t.TempDir(), "net.bin")
	if err := run(cfgPath, []string{dir}, out, opts); err != nil {
		t.Fatal(err)
	}
	first := readNet(t, out)
	if first.Phrase != "hey jarvis" || len(first.Members) != 2 || first.Members[0].Hidden != 4 {
		t.Errorf("trained %q, %d members", first.Phrase, len(first.Members))
	}

	// With -reuse the saved candidates stand in for decoding (the held
	// back files are still scanned): the save is read, not written again.
	savedPath := filepath.Join(dir, saved)
	old := time.Unix(1e9, 0)
	if err := os.Chtimes(savedPath, old, old); err != nil {
		t.Fatal(err)
	}
	reuse = true
	defer func() { reuse = false }()
	if err := run(cfgPath, []string{dir}, out, opts); err != nil {
		t.Fatalf("from the saved candidates: %v", err)
	}
	if again := readNet(t, out); !bytes.Equal(bytesOf(t, first), bytesOf(t, again)) {
		t.Error("the saved candidates trained another net")
	}
	if fi, err := os.Stat(savedPath); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("with -reuse the saved candidates were written again (%v)", err)
	}

	if err := os.WriteFile(filepath.Join(dir, saved), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(cfgPath, []string{dir}, out, opts); err == nil || !strings.Contains(err.Error(), saved) {
		t.Errorf("corrupt saved candidates: error %v, want one naming %s", err, saved)
	}
	// A save whose audio is cut short (or from a front end with another
	// window) is refused, not trained on.
	var short bytes.Buffer
	if err := gob.NewEncoder(&short).Encode([]candidate{{File: "x.wav", PCM: make([]int16, 100), Len: 100}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, saved), short.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(cfgPath, []string{dir}, out, opts); err == nil || !strings.Contains(err.Error(), "x.wav") || !strings.Contains(err.Error(), "100 samples") {
		t.Errorf("saved candidate of 100 samples: error %v, want one naming it", err)
	}
}

func readNet(t *testing.T, path string) *wakenet.Net {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := wakenet.Read(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func bytesOf(t *testing.T, n *wakenet.Net) []byte {
	var buf bytes.Buffer
	if _, err := n.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestShiftsFit: a saved candidate keeps wakenet.MaxShift frames of audio
// before its window, enough for every window training takes from it.
func TestShiftsFit(t *testing.T) {
	for _, s := range append([]int{earlyShift}, shifts...) {
		if s < 0 || s > wakenet.MaxShift {
			t.Errorf("a window %d frames before the hit; candidates keep %d", s, wakenet.MaxShift)
		}
	}
}

func TestAUC(t *testing.T) {
	if got := auc([]float32{0.9, 0.8}, []float32{0.1, 0.85}); got != 0.75 {
		t.Errorf("auc = %v, want 0.75", got)
	}
	if got := auc([]float32{0.5}, []float32{0.5}); got != 0.5 {
		t.Errorf("auc of a tie = %v, want 0.5", got)
	}
}
