package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Voice is one synthetic speaker of the generator.
type Voice struct {
	// Engine is flite, espeak-ng or festival.
	Engine string
	// Name is the engine's voice: flite's -voice, espeak-ng's -v
	// (language+variant), festival's voice_NAME.
	Name string
}

func (v Voice) String() string { return v.Engine + ":" + v.Name }

// ParseVoice reads a voice written as Voice.String does.
func ParseVoice(s string) (Voice, error) {
	engine, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return Voice{}, fmt.Errorf("voice %q: want ENGINE:NAME", s)
	}
	switch engine {
	case "flite", "espeak-ng", "festival":
		return Voice{engine, name}, nil
	}
	return Voice{}, fmt.Errorf("voice %q: engine %q, want flite, espeak-ng or festival", s, engine)
}

// DefaultVoices are the generator's voices: flite's five, festival's two
// American English diphone and HTS voices, and espeak-ng's accents of
// English with several of its speaker variants. Festival's kal_diphone is
// left out on purpose: it is the voice held out of training, so that
// evaluation hears one speaker no head has been trained on.
var DefaultVoices = []Voice{
	{"flite", "slt"}, {"flite", "rms"}, {"flite", "awb"}, {"flite", "kal16"}, {"flite", "kal"},
	{"festival", "ked_diphone"}, {"festival", "cmu_us_slt_arctic_hts"},
	{"espeak-ng", "en-us"}, {"espeak-ng", "en-us+f2"}, {"espeak-ng", "en-us+m3"}, {"espeak-ng", "en-us+klatt"},
	{"espeak-ng", "en-us+f4"}, {"espeak-ng", "en-us+Andy"}, {"espeak-ng", "en-us+Annie"}, {"espeak-ng", "en-us+klatt4"},
	{"espeak-ng", "en"}, {"espeak-ng", "en+m7"}, {"espeak-ng", "en+f3"}, {"espeak-ng", "en+Alicia"},
	{"espeak-ng", "en-gb-scotland+m2"}, {"espeak-ng", "en-gb-x-rp+f1"}, {"espeak-ng", "en-029+m4"},
	{"espeak-ng", "en-gb-x-gbclan"}, {"espeak-ng", "en-gb-x-gbcwmd+f5"}, {"espeak-ng", "en-us+klatt2"},
}

// HeldOutVoice is the voice no shipped head is trained on.
var HeldOutVoice = Voice{"festival", "kal_diphone"}

// Utterance is what to synthesise: a text in a voice, slower or faster
// (Stretch > 1 is slower) and higher or lower (Pitch, -1..1, around the
// voice's own).
type Utterance struct {
	Voice   Voice
	Text    string
	Stretch float64
	Pitch   float64
}

// Synthesize renders us, all in the same voice, as 16 kHz mono samples,
// with dir for festival's files.
func Synthesize(ctx context.Context, dir string, us []Utterance) ([][]int16, error) {
	return synthesize(ctx, dir, us)
}

// synthesize renders us, all in the same voice, as 16 kHz mono samples.
// Festival renders them in one process (it takes a second to start);
// the others one process each.
func synthesize(ctx context.Context, dir string, us []Utterance) ([][]int16, error) {
	out := make([][]int16, len(us))
	if len(us) == 0 {
		return out, nil
	}
	v := us[0].Voice
	if v.Engine == "festival" {
		return festival(ctx, dir, us)
	}
	for i, u := range us {
		var cmd *exec.Cmd
		switch v.Engine {
		case "flite":
			// flite's intonation: a mean F0 around its voices' own.
			f0 := 110.0
			if u.Voice.Name == "slt" {
				f0 = 180
			}
			cmd = exec.CommandContext(ctx, "flite", "-voice", u.Voice.Name,
				"--setf", "duration_stretch="+ftoa(u.Stretch),
				"--setf", "int_f0_target_mean="+ftoa(f0*(1+0.25*u.Pitch)),
				"-t", u.Text, "-o", "/dev/stdout")
		case "espeak-ng":
			cmd = exec.CommandContext(ctx, "espeak-ng", "-v", u.Voice.Name,
				"-s", strconv.Itoa(int(165/u.Stretch)), "-p", strconv.Itoa(int(50+35*u.Pitch)),
				"--stdout", u.Text)
		default:
			return nil, fmt.Errorf("voice %s: unknown engine", u.Voice)
		}
		wav, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w%s", u.Voice, u.Text, err, stderr(err))
		}
		if out[i], err = to16k(ctx, wav, nil); err != nil {
			return nil, fmt.Errorf("%s %q: %w", u.Voice, u.Text, err)
		}
	}
	return out, nil
}

// festival renders us in one festival process, into files in dir.
func festival(ctx context.Context, dir string, us []Utterance) ([][]int16, error) {
	var script bytes.Buffer
	fmt.Fprintf(&script, "(voice_%s)\n", us[0].Voice.Name)
	for i, u := range us {
		fmt.Fprintf(&script, "(Parameter.set 'Duration_Stretch %s)\n", ftoa(u.Stretch))
		fmt.Fprintf(&script, "(utt.save.wave (SynthText %s) %q 'riff)\n", lispString(u.Text), filepath.Join(dir, fmt.Sprintf("f%d.wav", i)))
	}
	cmd := exec.CommandContext(ctx, "festival", "--pipe")
	cmd.Stdin = &script
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("festival %s: %w: %s", us[0].Voice.Name, err, bytes.TrimSpace(out))
	}
	res := make([][]int16, len(us))
	for i, u := range us {
		path := filepath.Join(dir, fmt.Sprintf("f%d.wav", i))
		wav, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("festival %s %q: %w", u.Voice, u.Text, err)
		}
		os.Remove(path)
		// Festival's voices have no pitch setting of their own: sox
		// shifts it (formants too, which is what a different speaker
		// does).
		var fx []string
		if u.Pitch != 0 {
			fx = []string{"pitch", strconv.Itoa(int(300 * u.Pitch))}
		}
		if res[i], err = to16k(ctx, wav, fx); err != nil {
			return nil, fmt.Errorf("festival %s %q: %w", u.Voice, u.Text, err)
		}
	}
	return res, nil
}

// to16k converts a WAV file's bytes to 16 kHz mono samples, applying the
// sox effects fx on the way.
func to16k(ctx context.Context, wav []byte, fx []string) ([]int16, error) {
	args := append([]string{"-V1", "-t", "wav", "-", "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", "16000", "-"}, fx...)
	cmd := exec.CommandContext(ctx, "sox", args...)
	cmd.Stdin = bytes.NewReader(wav)
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("sox: %w%s", err, stderr(err))
	}
	return bytesToPCM(raw), nil
}

// effect runs pcm through the sox effects fx.
func effect(ctx context.Context, pcm []int16, fx []string) ([]int16, error) {
	if len(fx) == 0 {
		return pcm, nil
	}
	args := append([]string{"-V1", "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", "16000", "-",
		"-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", "16000", "-"}, fx...)
	cmd := exec.CommandContext(ctx, "sox", args...)
	var in bytes.Buffer
	binary.Write(&in, binary.LittleEndian, pcm)
	cmd.Stdin = &in
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("sox %s: %w%s", strings.Join(fx, " "), err, stderr(err))
	}
	return bytesToPCM(raw), nil
}

func bytesToPCM(b []byte) []int16 {
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + string(bytes.TrimSpace(ee.Stderr))
	}
	return ""
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

// lispString quotes s for festival's Scheme.
func lispString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
