package corpus

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/intents"
)

const wakePhrase = "hey jarvis"

// job is one row of the plan gen.sh prints with --plan.
type job struct {
	id, kind, intent, slots, voice, text1, text2, pause string
	tempo, pitch, reverb                                float64
	noise                                               string
	snr, lead, trail, peak                              float64
	set                                                 string
}

func plan(t *testing.T, args ...string) ([]job, []byte) {
	t.Helper()
	out, err := exec.Command("bash", append([]string{"gen.sh", "--plan"}, args...)...).Output()
	if err != nil {
		t.Fatalf("gen.sh --plan %v: %v", args, err)
	}
	var jobs []job
	for i, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		c := strings.Split(line, "\t")
		if len(c) != 17 {
			t.Fatalf("plan line %d has %d columns, want 17: %q", i+1, len(c), line)
		}
		num := func(s string) float64 {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("plan line %d: %q is not a number", i+1, s)
			}
			return f
		}
		jobs = append(jobs, job{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], num(c[8]), num(c[9]), num(c[10]), c[11], num(c[12]), num(c[13]), num(c[14]), num(c[15]), c[16]})
	}
	return jobs, out
}

// spoken normalises a plan text as the recogniser would hear it.
func spoken(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(",.?!", r) {
			return ' '
		}
		return r
	}, strings.ToLower(s))
	return strings.Join(strings.Fields(s), " ")
}

func TestPlan(t *testing.T) {
	g, err := intents.Load("intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		args         []string
		minWake      int
		minOtherSecs float64
	}{
		{"small", []string{"--small"}, 20, 3 * 60},
		{"full", nil, 150, 30 * 60},
		{"held-out", []string{"--held-out"}, 150, 30 * 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, first := plan(t, tt.args...)
			if _, again := plan(t, tt.args...); !bytes.Equal(first, again) {
				t.Fatal("two plans differ: the generator is not deterministic")
			}
			var wake int
			var otherWords, otherPad float64
			intentsSeen := map[string]bool{}
			voices := map[string]bool{}
			ids := map[string]bool{}
			sets := map[string]int{}
			for _, j := range jobs {
				if ids[j.id] {
					t.Errorf("%s planned twice", j.id)
				}
				ids[j.id] = true
				if j.set != "noise" {
					voices[j.voice] = true
				}
				if j.tempo < 0.9 || j.tempo > 1.1 || j.pitch < -200 || j.pitch > 200 || (j.noise != "-" && (j.snr < 15 || j.snr > 25)) {
					t.Errorf("%s: variation out of range: %+v", j.id, j)
				}
				sets[j.set]++
				if (j.kind == "wake") != (j.set == "wake") {
					t.Errorf("%s: kind %s in set %s", j.id, j.kind, j.set)
				}
				switch j.kind {
				case "wake":
					wake++
					if j.lead < 0.3 || j.lead > 1 || j.trail < 0.3 || j.trail > 1 {
						t.Errorf("%s: silence padding %.2f/%.2f out of 0.3-1.0 s", j.id, j.lead, j.trail)
					}
					text := spoken(j.text1)
					if j.text2 != "-" {
						text += " " + spoken(j.text2)
					}
					cmd, ok := strings.CutPrefix(text, wakePhrase+" ")
					if !ok {
						t.Fatalf("%s: %q does not start with the wake phrase", j.id, text)
					}
					m, ok := g.Match(cmd)
					if !ok || m.Intent != j.intent || formatSlots(m.Slots) != j.slots {
						t.Errorf("%s: Match(%q) = %+v, %v; labelled %s %s", j.id, cmd, m, ok, j.intent, j.slots)
					}
					intentsSeen[j.intent] = true
				case "other":
					if j.intent != "-" || j.slots != "-" {
						t.Errorf("%s: other file labelled with intent %s %s", j.id, j.intent, j.slots)
					}
					if strings.Contains(spoken(j.text1), wakePhrase) {
						t.Errorf("%s: other file says the wake phrase: %q", j.id, j.text1)
					}
					secs, err := strconv.Atoi(j.text1) // noise or silence: text1 is seconds
					if (err == nil) != (j.set == "noise") {
						t.Errorf("%s: %q in set %s", j.id, j.text1, j.set)
					}
					if err == nil {
						otherPad += float64(secs)
						continue
					}
					otherWords += float64(len(strings.Fields(j.text1)))
					otherPad += j.lead + j.trail
				default:
					t.Errorf("%s: kind %q", j.id, j.kind)
				}
			}
			if wake < tt.minWake {
				t.Errorf("%d wake utterances, want at least %d", wake, tt.minWake)
			}
			// flite speaks about 3.8 words a second, espeak-ng 2.9; at the
			// fastest tempo that is at most 4.4.
			if secs := otherWords/4.4 + otherPad; secs < tt.minOtherSecs {
				t.Errorf("other speech is at least %.0f s, want %.0f s", secs, tt.minOtherSecs)
			}
			if len(intentsSeen) != len(g.Intents()) {
				t.Errorf("wake utterances cover %d intents, want all %d", len(intentsSeen), len(g.Intents()))
			}
			for _, set := range []string{"wake", "speech", "near", "command", "noise"} {
				if sets[set] == 0 {
					t.Errorf("no file in set %s", set)
				}
			}
			if len(sets) != 5 {
				t.Errorf("sets %v, want wake, speech, near, command and noise", sets)
			}
			switch {
			case tt.name == "held-out" && (len(voices) != 1 || !voices["festival:kal_diphone"]):
				t.Errorf("held-out voices %v, want festival:kal_diphone alone", voices)
			case tt.name != "held-out" && len(voices) < 8:
				t.Errorf("only %d voices used", len(voices))
			case tt.name != "held-out" && voices["festival:kal_diphone"]:
				t.Error("the held-out voice is in the corpus")
			}
			if long := pauses(jobs, 1.5); tt.name != "small" && long < 10 {
				t.Errorf("%d wake files pause 1.5 s or more after the wake phrase, want 10 or more", long)
			}
		})
	}
}

// pauses counts the wake files with a pause of at least secs after the
// wake phrase.
func pauses(jobs []job, secs float64) int {
	n := 0
	for _, j := range jobs {
		if p, err := strconv.ParseFloat(j.pause, 64); err == nil && j.kind == "wake" && p >= secs {
			n++
		}
	}
	return n
}

// TestGenerateSmall renders the small corpus with the real tools and reads
// every file back with the project's WAV reader.
func TestGenerateSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("renders about a minute of speech; skipped with -short")
	}
	for _, tool := range []string{"flite", "espeak-ng", "sox", "soxi"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	gen := func() string {
		out, err := exec.Command("bash", "gen.sh", dir, "--small").CombinedOutput()
		if err != nil {
			t.Fatalf("gen.sh %s --small: %v\n%s", dir, err, out)
		}
		return string(out)
	}
	gen()
	labels, err := os.ReadFile(filepath.Join(dir, "labels.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	jobs, _ := plan(t, "--small")
	lines := strings.Split(strings.TrimSuffix(string(labels), "\n"), "\n")
	if lines[0] != "file\tkind\tintent\tslots\tset\tvoice\tnoise\tsnr" || len(lines) != len(jobs)+1 {
		t.Fatalf("labels.tsv has header %q and %d rows, want %d", lines[0], len(lines)-1, len(jobs))
	}
	var otherSecs float64
	for i, j := range jobs {
		want := j.id + ".wav\t" + j.kind + "\t" + j.intent + "\t" + j.slots + "\t" + labelTail(j)
		if lines[i+1] != want {
			t.Errorf("labels.tsv row %d = %q, want %q", i+1, lines[i+1], want)
		}
		f, err := os.Open(filepath.Join(dir, j.id+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		pcm, rate, err := capture.ReadWAV(f)
		f.Close()
		if err != nil || rate != audio.SampleRate {
			t.Fatalf("%s: rate %d, %v; want 16 kHz mono 16-bit", j.id, rate, err)
		}
		secs := float64(len(pcm)) / audio.SampleRate
		peak := 0
		for _, s := range pcm {
			peak = max(peak, abs(int(s)))
		}
		switch j.voice {
		case "silence", "white", "pink", "brown":
			if secs < 3 || peak > 32768/8 {
				t.Errorf("%s: %.2f s of %s with peak %d: expected at least 3 s, quiet", j.id, secs, j.voice, peak)
			}
		default:
			if secs < 1 || peak < 32768/16 {
				t.Errorf("%s: %.2f s with peak %d: expected audible speech", j.id, secs, peak)
			}
		}
		if j.kind == "other" {
			otherSecs += secs
		}
	}
	if otherSecs < 3*60 {
		t.Errorf("other audio is %.0f s, want at least 3 minutes", otherSecs)
	}
	before, err := os.Stat(filepath.Join(dir, jobs[0].id+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	if out := gen(); !strings.Contains(out, "up to date") {
		t.Errorf("second run did work: %s", out)
	}
	after, err := os.Stat(filepath.Join(dir, jobs[0].id+".wav"))
	if err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("second run rewrote %s (%v -> %v, %v)", jobs[0].id, before.ModTime().Format(time.RFC3339Nano), after.ModTime().Format(time.RFC3339Nano), err)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// labelTail is what labels.tsv says of a job after its four eval columns:
// set, voice (espeak's without pitch and speed), noise and SNR.
func labelTail(j job) string {
	if j.set == "noise" {
		return "noise\t-\t" + j.voice + "\t-"
	}
	voice, _, _ := strings.Cut(j.voice, "@")
	snr := strconv.Itoa(int(j.snr))
	if j.noise == "-" {
		snr = "-"
	}
	return j.set + "\t" + voice + "\t" + j.noise + "\t" + snr
}
