// Package sphinxtest synthesises real speech for recogniser tests with
// flite or espeak-ng and sox. Tests skip when the tools are missing on a developer
// machine, but fail in CI (CI set), where they must run.
package sphinxtest

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Require skips (or, in CI, fails) the test unless flite and sox exist.
func Require(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"flite", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// Speak returns text spoken by the flite voice (slt, rms, awb, kal16) as
// 16 kHz mono samples, with lead and trail seconds of silence around it.
// Files go to a test temp dir and are removed with it.
func Speak(t testing.TB, voice, text string, lead, trail float64) []int16 {
	t.Helper()
	Require(t)
	wav := filepath.Join(t.TempDir(), "s.wav")
	if out, err := exec.Command("flite", "-voice", voice, "-t", text, "-o", wav).CombinedOutput(); err != nil {
		t.Fatalf("flite -voice %s: %v: %s", voice, err, out)
	}
	return Load(t, wav, lead, trail)
}

// Espeak returns text spoken by espeak-ng's voice (en-us, en-gb, ...) as
// 16 kHz mono samples, with lead and trail seconds of silence around it:
// a second synthesiser, whose voices differ from flite's.
func Espeak(t testing.TB, voice, text string, lead, trail float64) []int16 {
	t.Helper()
	Require(t)
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("espeak-ng is required in CI: %v", err)
		}
		t.Skip("espeak-ng not installed")
	}
	wav := filepath.Join(t.TempDir(), "s.wav")
	if out, err := exec.Command("espeak-ng", "-v", voice, "-w", wav, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng -v %s: %v: %s", voice, err, out)
	}
	return Load(t, wav, lead, trail)
}

// Load returns the audio file at path as 16 kHz mono samples, with lead
// and trail seconds of silence around it.
func Load(t testing.TB, path string, lead, trail float64) []int16 {
	t.Helper()
	Require(t)
	raw := filepath.Join(t.TempDir(), "s.raw")
	args := []string{"-V1", "-R", path, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", raw,
		"pad", strconv.FormatFloat(lead, 'f', 3, 64), strconv.FormatFloat(trail, 'f', 3, 64)}
	if out, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// Silence returns seconds of digital silence.
func Silence(seconds float64) []int16 {
	return make([]int16, int(seconds*16000))
}
