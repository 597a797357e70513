package listen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
	"github.com/earshot/earshot/audio/wakenet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testIntents = `
slots:
  room: [kitchen, bedroom, living room]
  minutes: {one: 1, two: 2, five: 5, ten: 10}
intents:
  LightsOn:  ["(turn | switch) on the {room} lights", "lights on in the {room}"]
  LightsOff: ["(turn | switch) off the {room} lights"]
  SetTimer:  ["set a timer for {minutes} minutes"]
`

func grammar(t testing.TB, src string) *intents.Grammar {
	t.Helper()
	g, err := intents.Parse([]byte(src), "intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func requireEngine(t testing.TB) {
	t.Helper()
	if !sphinx.Available {
		t.Skip("built without PocketSphinx")
	}
	if _, err := os.Stat(sphinx.DictionaryPath("")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pocketsphinx-en-us is required in CI: %v", err)
		}
		t.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
}

func newListener(t testing.TB, mod func(*Config)) *Listener {
	t.Helper()
	requireEngine(t)
	cfg := Config{
		WakePhrase:   "hey jarvis",
		Sensitivity:  0.5,
		Grammar:      grammar(t, testIntents),
		Preroll:      time.Second,
		MaxUtterance: 8 * time.Second,
		EndSilence:   700 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// feed pushes pcm frame by frame, then flushes, and returns the utterances.
func feed(t testing.TB, l *Listener, pcm []int16) []Utterance {
	t.Helper()
	var out []Utterance
	for i := 0; i+audio.FrameSamples <= len(pcm); i += audio.FrameSamples {
		u, ok, err := l.Feed(pcm[i : i+audio.FrameSamples])
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, u)
		}
	}
	u, ok, err := l.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		out = append(out, u)
	}
	return out
}

func TestUtterances(t *testing.T) {
	l := newListener(t, nil)
	tests := []struct {
		voice, text string
		wake        bool
		intent      string
		slots       map[string]string
	}{
		{"slt", "hey jarvis turn on the kitchen lights", true, "LightsOn", map[string]string{"room": "kitchen"}},
		{"rms", "hey jarvis set a timer for five minutes", true, "SetTimer", map[string]string{"minutes": "5"}},
		{"awb", "hey jarvis switch off the living room lights", true, "LightsOff", map[string]string{"room": "living room"}},
		{"slt", "hey jarvis delete what i just said", true, intents.ForgetLast, map[string]string{}},
		{"rms", "hey jarvis delete everything i said today", true, intents.ForgetToday, map[string]string{}},
		// Woken, but the command is not in the grammar: stored, no intent.
		{"slt", "hey jarvis what is the weather like tomorrow", true, "", map[string]string{}},
		// No wake phrase: nothing at all, even for a valid command.
		{"slt", "turn on the kitchen lights", false, "", nil},
		{"rms", "the weather was lovely and we walked to the harbour", false, "", nil},
		{"rms", "hey travis how are you doing", false, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.voice+" "+tt.text, func(t *testing.T) {
			pcm := append(sphinxtest.Silence(1), sphinxtest.Speak(t, tt.voice, tt.text, 0.3, 1.5)...)
			got := feed(t, l, pcm)
			if !tt.wake {
				if len(got) != 0 {
					t.Fatalf("woke %d times (intent %q)", len(got), got[0].Intent)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d utterances, want 1", len(got))
			}
			u := got[0]
			if u.Intent != tt.intent || !maps.Equal(u.Slots, tt.slots) {
				t.Errorf("intent %q %v, want %q %v (transcript %q)", u.Intent, u.Slots, tt.intent, tt.slots, u.Transcript)
			}
			if strings.Contains(u.Transcript, "jarvis") {
				t.Errorf("transcript %q still holds the wake phrase", u.Transcript)
			}
			if u.Duration != time.Duration(len(u.Audio))*time.Second/audio.SampleRate || u.Duration < time.Second {
				t.Errorf("duration %v for %d samples", u.Duration, len(u.Audio))
			}
			if u.Slots == nil {
				t.Error("nil slots")
			}
		})
	}
}

// messages records log messages, to see which stage rejected a wake.
type messages struct {
	mu   sync.Mutex
	msgs []string
}

func (m *messages) Enabled(context.Context, slog.Level) bool { return true }
func (m *messages) Handle(_ context.Context, r slog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.String()
		return true
	})
	m.msgs = append(m.msgs, msg)
	return nil
}
func (m *messages) WithAttrs([]slog.Attr) slog.Handler { return m }
func (m *messages) WithGroup(string) slog.Handler      { return m }

func (m *messages) count(prefix string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.msgs {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// TestVerificationRejectsNearMiss: the keyword spotter, tuned for recall,
// fires on "hey marvin"; the grammar verification must turn it down.
func TestVerificationRejectsNearMiss(t *testing.T) {
	log := &messages{}
	l := newListener(t, func(c *Config) { c.Logger = slog.New(log) })
	for _, voice := range []string{"slt", "rms", "awb", "kal16"} {
		pcm := append(sphinxtest.Silence(1), sphinxtest.Speak(t, voice, "hey marvin", 0.3, 1.5)...)
		if got := feed(t, l, pcm); len(got) != 0 {
			t.Errorf("%s: woke on a near miss", voice)
		}
	}
	spotted, rejected := log.count("wake phrase spotted"), log.count("wake phrase rejected")
	t.Logf("spotted %d, rejected %d", spotted, rejected)
	if rejected == 0 {
		t.Error("verification rejected nothing: the test no longer exercises it")
	}
}

// TestSoundAlikesCompete: a near miss followed by a command is the false
// wake the phone loop lets through (the command makes the whole path
// better than garbage); with the wake word's sound-alikes in the grammar
// it decodes as itself.
func TestSoundAlikesCompete(t *testing.T) {
	log := &messages{}
	l := newListener(t, func(c *Config) { c.Logger = slog.New(log) })
	if !slices.Contains(l.decoys[1], "marvin") || !slices.Contains(l.decoys[1], "harvest") {
		t.Fatalf("sound-alikes of jarvis = %v, want marvin and harvest among them", l.decoys[1])
	}
	if len(l.decoys[0]) != 0 {
		t.Errorf("sound-alikes of hey = %v: a two-phone word should have none", l.decoys[0])
	}
	for _, d := range l.decoys[1] {
		if strings.HasPrefix(d, "j") {
			t.Errorf("sound-alike %q begins as jarvis does", d)
		}
	}
	// D and CH are JH's stop and its voiceless twin.
	for _, d := range []string{"darville", "dardis", "charvat"} {
		if slices.Contains(l.decoys[1], d) {
			t.Errorf("sound-alike %q begins with a twin of jarvis's first sound", d)
		}
	}
	for _, voice := range []string{"slt", "rms", "awb", "kal16"} {
		pcm := append(sphinxtest.Silence(1), sphinxtest.Speak(t, voice, "hey marvin, turn on the kitchen lights", 0.3, 1.5)...)
		if got := feed(t, l, pcm); len(got) != 0 {
			t.Errorf("%s: woke on a near miss: %+v", voice, got)
		}
	}
	decoded := 0
	for _, m := range log.msgs {
		if strings.HasPrefix(m, "wake phrase rejected") && strings.Contains(m, " marvin") {
			decoded++
		}
	}
	if decoded == 0 {
		t.Errorf("no rejection decoded the near miss as marvin; log: %q", log.msgs)
	}
}

// TestWakeWordWithoutFirstWord: "say jarvis …" and a bare "jarvis" used to
// wake the device, the verifier making "hey" of whatever came before. The
// wake phrase without its first word now competes, so they decode as
// garbage and "jarvis" and are rejected.
func TestWakeWordWithoutFirstWord(t *testing.T) {
	log := &messages{}
	for _, tt := range []struct{ voice, text string }{
		// Woke the device before; rms and awb saying it still do.
		{"slt", "say jarvis, turn on the kitchen lights"},
		{"slt", "jarvis, set a timer for five minutes"},
		{"rms", "jarvis, set a timer for five minutes"},
		{"awb", "jarvis, set a timer for five minutes"},
	} {
		l := newListener(t, func(c *Config) { c.Logger = slog.New(log) })
		pcm := append(sphinxtest.Silence(1), sphinxtest.Speak(t, tt.voice, tt.text, 0.3, 1.5)...)
		if got := feed(t, l, pcm); len(got) != 0 {
			t.Errorf("%s %q: woke, intent %q", tt.voice, tt.text, got[0].Intent)
		}
	}
	bare := 0
	for _, m := range log.msgs {
		if strings.HasPrefix(m, "wake phrase rejected") && strings.Contains(m, " jarvis") && !strings.Contains(m, "hey jarvis") {
			bare++
		}
	}
	if bare == 0 {
		t.Errorf("no rejection decoded \"jarvis\" without \"hey\"; log: %q", log.msgs)
	}
}

// withNoise adds white noise of the given peak amplitude, the same for
// the same seed.
func withNoise(pcm []int16, amplitude int32, seed uint32) []int16 {
	x := seed
	for i := range pcm {
		x = x*1664525 + 1013904223
		n := int32(int16(x>>16)) * amplitude / 32768
		pcm[i] = int16(max(-32768, min(32767, int32(pcm[i])+n)))
	}
	return pcm
}

// corpusFile renders one job of the corpus generator (a line of
// "gen.sh --plan") and returns its samples: the same voices, reverb and
// noise as the corpus, the same every time.
func corpusFile(t testing.TB, job string) []int16 {
	t.Helper()
	sphinxtest.Require(t)
	dir := t.TempDir()
	if out, err := exec.Command("bash", "../corpus/gen.sh", "--render", dir, job).CombinedOutput(); err != nil {
		t.Fatalf("gen.sh --render: %v: %s", err, out)
	}
	id, _, _ := strings.Cut(job, "\t")
	return sphinxtest.Load(t, filepath.Join(dir, id+".wav"), 0, 0)
}

// corpusGrammar is the corpus's intents grammar.
func corpusGrammar(t testing.TB) *intents.Grammar {
	t.Helper()
	src, err := os.ReadFile("../corpus/intents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return grammar(t, string(src))
}

// hearsJob feeds a rendered corpus job (see corpusFile) to a fresh
// listener and reports whether it heard exactly the job's intent and slot.
func hearsJob(t *testing.T, log *messages, job string, net *wakenet.Net) {
	t.Helper()
	f := strings.Split(job, "\t")
	l := newListener(t, func(c *Config) { c.Logger = slog.New(log); c.Grammar = corpusGrammar(t); c.WakeNet = net })
	got := feed(t, l, corpusFile(t, job))
	k, v, _ := strings.Cut(f[3], "=")
	if len(got) != 1 || got[0].Intent != f[2] || (k != "-" && got[0].Slots[k] != v) {
		var heard []string
		for _, u := range got {
			heard = append(heard, fmt.Sprint(u.Intent, u.Slots))
		}
		t.Errorf("%s: heard %q, want one utterance %s %s", f[0], heard, f[2], f[3])
	}
}

// TestTrackedMeanHearsNewChannels: corpus files that a fresh listener
// missed while the verifier started from PocketSphinx's live cepstral
// mean (mostly the model's initial estimate on a new channel): flite's
// 8 kHz kal voice, and slt with reverb, white or pink noise.
func TestTrackedMeanHearsNewChannels(t *testing.T) {
	for _, job := range []string{
		"w0051\twake\tPlayMusic\tgenre=rock\tflite:slt\they jarvis, play some rock\t-\t-\t1.10\t36\t54\twhite\t22\t0.84\t0.88\t-3",
		"w0084\twake\tForgetLast\t-\tflite:kal\they jarvis, forget the last recording\t-\t-\t1.07\t91\t0\t-\t0\t0.66\t0.75\t-9",
		"w0131\twake\tVolume\tdirection=up\tflite:slt\they jarvis\tturn the volume up\t0.58\t1.08\t118\t27\t-\t0\t0.68\t0.72\t-8",
		"w0151\twake\tLightsOff\troom=bedroom\tflite:slt\they jarvis\tturn off the bedroom lights\t0.60\t1.04\t-33\t16\tpink\t15\t0.59\t0.30\t-6",
	} {
		t.Run(job[:5], func(t *testing.T) { hearsJob(t, &messages{}, job, nil) })
	}
}

// TestCommandSearchFindsCommand: under noise and reverb the verifier may
// accept the wake phrase but explain the command as garbage; the command
// search decodes it again and finds it. The utterances are corpus files.
func TestCommandSearchFindsCommand(t *testing.T) {
	for _, job := range []string{
		"w0072\twake\tPlayMusic\tgenre=jazz\tflite:rms\they jarvis\tplay some jazz\t0.30\t0.97\t61\t0\tpink\t15\t0.77\t0.41\t-9",
		"w0164\twake\tLightsOn\troom=kitchen\tflite:kal\they jarvis\tlights on in the kitchen\t0.34\t1.01\t46\t0\twhite\t16\t0.85\t0.64\t-5",
	} {
		log := &messages{}
		hearsJob(t, log, job, nil)
		if log.count("command found in the command search") != 1 {
			t.Errorf("%s: the verifier found the command itself; the test no longer exercises the command search", job[:5])
		}
	}
}

// TestWarpedLookFindsCommand: corpus files whose command neither the
// verifier nor the command search finds, but the second look with raised
// frequencies does (see warpRate): flite's 8 kHz kal voice and rms under
// white or pink noise, klatt under white noise and reverb.
func TestWarpedLookFindsCommand(t *testing.T) {
	for _, job := range []string{
		"w0024\twake\tLightsOn\troom=kitchen\tflite:kal\they jarvis\tlights on in the kitchen\t0.27\t1.00\t-141\t0\twhite\t24\t0.87\t0.45\t-6",
		"w0132\twake\tPlayMusic\tgenre=jazz\tflite:rms\they jarvis play jazz\t-\t-\t0.92\t42\t0\twhite\t16\t0.78\t0.48\t-5",
		"w0152\twake\tStopMusic\t-\tflite:rms\they jarvis pause the music\t-\t-\t1.05\t-143\t10\tpink\t15\t0.94\t0.44\t-9",
		"w0204\twake\tPlayMusic\tgenre=pop music\tflite:kal\they jarvis\tplay some pop music\t0.53\t1.00\t-114\t0\twhite\t23\t0.42\t0.39\t-6",
		"w0206\twake\tStopMusic\t-\tespeak:en-us+klatt@40@160\they jarvis, pause music\t-\t-\t0.91\t180\t59\twhite\t15\t0.60\t0.96\t-4",
	} {
		t.Run(job[:5], func(t *testing.T) {
			log := &messages{}
			hearsJob(t, log, job, nil)
			if log.count("command found warped") != 1 {
				t.Error("the command did not come from the warped look")
			}
		})
	}
}

// TestWakeNetThresholds pushes each of the classifier's thresholds to
// where it decides alone, and checks the listener does as it says.
func TestWakeNetThresholds(t *testing.T) {
	wake := append(sphinxtest.Silence(1), sphinxtest.Speak(t, "rms", "hey jarvis, turn on the kitchen lights", 0.3, 1.5)...)
	// Spotted and rejected by verification (TestVerificationRejectsNearMiss),
	// with a command after it and without.
	near := append(sphinxtest.Silence(1), sphinxtest.Speak(t, "rms", "hey marvin, turn on the kitchen lights", 0.3, 1.5)...)
	bare := append(sphinxtest.Silence(1), sphinxtest.Speak(t, "rms", "hey marvin", 0.3, 1.5)...)
	net := func(th wakenet.Thresholds) *wakenet.Net {
		n := *wakenet.Builtin("hey jarvis")
		n.Thresholds = th
		return &n
	}
	for _, tt := range []struct {
		name   string
		th     wakenet.Thresholds
		pcm    []int16
		intent string // "-" for no utterance
		check  func(Stats) bool
	}{
		{"drop", wakenet.Thresholds{Reject: 1, Accept: 1, Rescue: 1, Scan: 1}, wake, "-",
			func(s Stats) bool { return s.Dropped == s.Hits && s.Hits > 0 && s.Verified == 0 }},
		{"veto", wakenet.Thresholds{Reject: 0, Accept: 1, Rescue: 1, Scan: 1}, wake, "-",
			func(s Stats) bool { return s.Vetoed == 1 && s.Dropped == 0 }},
		{"rescue", wakenet.Thresholds{Scan: 1}, near, "LightsOn",
			func(s Stats) bool { return s.Rescued == 1 && s.Accepted == 1 }},
		{"rescue without a command", wakenet.Thresholds{Scan: 1}, bare, "-",
			func(s Stats) bool { return s.Rescued == 0 && s.Unconfirmed == 1 && s.Accepted == 0 }},
		{"built in", wakenet.Builtin("hey jarvis").Thresholds, wake, "LightsOn",
			func(s Stats) bool { return s.Vetoed == 0 && s.Rescued == 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newListener(t, func(c *Config) { c.WakeNet = net(tt.th) })
			got := feed(t, l, tt.pcm)
			switch {
			case tt.intent == "-" && len(got) != 0:
				t.Errorf("heard %d utterances, want none", len(got))
			case tt.intent != "-" && (len(got) != 1 || got[0].Intent != tt.intent):
				t.Errorf("heard %+v, want one utterance with intent %q", got, tt.intent)
			}
			if st := l.Stats(); !tt.check(st) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestWakeNetOnCorpusFiles: corpus files the verifier alone gets wrong
// and the classifier puts right. Near misses of the espeak-ng klatt voice
// ("hey jars", "hey artist", "say jarvis slowly …") that verification
// takes for the wake phrase, and flite's kal voice under pink noise, whose wake phrase
// verification rejects. Each is checked without the classifier too, so
// the test fails if it no longer exercises it.
func TestWakeNetOnCorpusFiles(t *testing.T) {
	for _, tt := range []struct {
		job    string
		intent string // "-": a near miss, no utterance
	}{
		{"o0014\tother\t-\t-\tespeak:en-us+klatt@50@175\they jars set a timer for ten minutes\t-\t-\t1.06\t196\t0\t-\t0\t0.40\t0.99\t-4", "-"},
		{"o0160\tother\t-\t-\tespeak:en-us+klatt@55@150\they jars\t-\t-\t1.02\t129\t0\tbrown\t15\t0.73\t0.56\t-11", "-"},
		{"o0239\tother\t-\t-\tespeak:en-us+klatt@85@145\they jar switch off the bedroom lights\t-\t-\t1.08\t117\t0\tbrown\t17\t0.80\t0.35\t-5", "-"},
		{"o0306\tother\t-\t-\tespeak:en-us+klatt@55@150\they artist\t-\t-\t1.01\t-14\t12\tbrown\t24\t0.98\t0.43\t-4", "-"},
		{"w0074\twake\tLightsOff\troom=living room\tflite:kal\they jarvis, switch off the living room lights\t-\t-\t1.06\t-134\t0\tpink\t18\t0.97\t0.91\t-6", "LightsOff"},
	} {
		t.Run(tt.job[:5], func(t *testing.T) {
			pcm := corpusFile(t, tt.job)
			hear := func(net *wakenet.Net) []Utterance {
				l := newListener(t, func(c *Config) { c.Grammar = corpusGrammar(t); c.WakeNet = net })
				return feed(t, l, pcm)
			}
			with, without := hear(wakenet.Builtin("hey jarvis")), hear(nil)
			if tt.intent == "-" {
				if len(with) != 0 {
					t.Errorf("woke on a near miss with the classifier: %+v", with)
				}
				if len(without) == 0 {
					t.Error("without the classifier it does not wake either: the test no longer exercises it")
				}
				return
			}
			if len(with) != 1 || with[0].Intent != tt.intent {
				t.Errorf("heard %+v with the classifier, want %s", with, tt.intent)
			}
			if len(without) != 0 {
				t.Error("without the classifier it wakes too: the test no longer exercises it")
			}
		})
	}
}

// TestRescueEndsAtCommandSpan: a candidate the verifier rejects early
// and only the classifier keeps is heard for commandSpan after the hit,
// not until speech.max_utterance, when the speaker talks on; and only
// the second looks hear what follows the early check.
func TestRescueEndsAtCommandSpan(t *testing.T) {
	pcm := append(append(sphinxtest.Silence(1), sphinxtest.Speak(t, "rms", "hey marvin, turn on the kitchen lights", 0.3, 0)...),
		sphinxtest.Speak(t, "rms", "and then we walked along the beach for an hour, talking about the garden, the weather, the neighbours and their noisy dog", 0, 1.5)...)
	for _, sure := range []bool{true, false} {
		n := *wakenet.Builtin("hey jarvis")
		n.Thresholds = wakenet.Thresholds{Scan: 1} // every candidate kept, and rescued
		if !sure {
			n.Rescue = 1 // in doubt: the verifier's early "no" ends it
		}
		l := newListener(t, func(c *Config) { c.WakeNet = &n; c.MaxUtterance = 10 * time.Second })
		got := feed(t, l, pcm)
		if !sure {
			if len(got) != 0 {
				t.Fatalf("in doubt: heard %d utterances, want none", len(got))
			}
			continue
		}
		limit := l.cfg.Preroll + wakeSpan + spotLead + commandSpan
		if len(got) != 1 || got[0].Intent != "LightsOn" || got[0].Duration > limit {
			for _, u := range got {
				t.Logf("heard %q (%s) in %v", u.Transcript, u.Intent, u.Duration)
			}
			t.Errorf("stats %+v: want one LightsOn of at most %v", l.Stats(), limit)
		}
		// After its early "no" the verifier decodes none of it: only
		// the second looks hear the rest.
		if v, most := l.Stats().Verified, int64(frames(wakeSpan+spotLead+earlyCheck)*audio.FrameSamples); v > most {
			t.Errorf("the verifier decoded %d samples of a rescued candidate, want at most the %d up to the early check", v, most)
		}
	}
}

// TestWarpedSecondLook: wake phrases the verifier rejects and the
// classifier is in doubt about (flite's kal and awb voices under white
// noise, from the held-out corpus) are heard when the verifier decodes
// them again warped. They score 0.81-0.96, which the shipped net's Rescue
// (0.80) now takes for sure, and its Scan (0.959) finds w0223 first; with
// Rescue at 0.95 and Scan where it was (0.988) they are in doubt again.
func TestWarpedSecondLook(t *testing.T) {
	for _, job := range []string{
		"w0004\twake\tLightsOff\troom=living room\tflite:kal\they jarvis, switch off the living room lights\t-\t-\t1.03\t-97\t50\twhite\t21\t0.68\t0.66\t-6",
		"w0173\twake\tPlayMusic\tgenre=pop music\tflite:awb\they jarvis, play some pop music\t-\t-\t1.07\t-97\t21\twhite\t15\t0.62\t0.73\t-5",
		"w0223\twake\tVolume\tdirection=down\tflite:awb\they jarvis volume down\t-\t-\t1.02\t-137\t50\twhite\t24\t0.83\t0.81\t-9",
	} {
		t.Run(job[:5], func(t *testing.T) {
			log := &messages{}
			n := wakenet.Builtin("hey jarvis")
			n.Rescue, n.Scan = 0.95, 0.988
			hearsJob(t, log, job, n)
			if log.count("wake phrase heard warped") != 1 {
				t.Errorf("the wake phrase was not heard warped; log: %q", log.msgs)
			}
		})
	}
}

// TestWakeNetScanFindsWhatSpotterMissed: flite's 8 kHz kal voice saying
// the wake phrase, with no noise or under brown noise, which the keyword
// spotter does not fire on at all (files of the dev corpus, seed 777):
// the classifier, scoring the speech as it comes, finds them. So it does
// slt's clean, high "hey jarvis, forget that" 0.4 s after silence (held
// out, seed 4242), which it can score only before a whole window of
// audio has come.
func TestWakeNetScanFindsWhatSpotterMissed(t *testing.T) {
	for _, job := range []string{
		"w0021\twake\tForgetLast\t-\tflite:slt\they jarvis, forget that\t-\t-\t1.08\t171\t14\t-\t0\t0.40\t0.82\t-7",
		"w0084\twake\tForgetLast\t-\tflite:kal\they jarvis\tforget that\t0.66\t1.05\t118\t50\t-\t0\t0.88\t0.89\t-9",
		"w0144\twake\tVolume\tdirection=up\tflite:kal\they jarvis, turn the volume up\t-\t-\t1.04\t-145\t51\tbrown\t24\t0.60\t0.55\t-7",
	} {
		t.Run(job[:5], func(t *testing.T) {
			pcm := corpusFile(t, job)
			hear := func(scan bool) ([]Utterance, Stats) {
				n := *wakenet.Builtin("hey jarvis")
				if !scan {
					n.Scan = 1
				}
				l := newListener(t, func(c *Config) { c.Grammar = corpusGrammar(t); c.WakeNet = &n })
				return feed(t, l, pcm), l.Stats()
			}
			got, st := hear(true)
			if len(got) != 1 || st.Scanned == 0 {
				t.Errorf("with scanning: %d utterances, stats %+v; want the wake phrase found by the classifier", len(got), st)
			}
			if got, st := hear(false); len(got) != 0 || st.Hits != 0 {
				t.Errorf("without scanning: %d utterances, %d hits: the test no longer exercises it", len(got), st.Hits)
			}
		})
	}
}

// TestScanHitWaitsForTheCommand: the classifier's scan can fire before
// the wake phrase has ended. The rest of the phrase is not the command's
// start, so a pause before the command must not end the utterance
// (corpus file w0005: klatt, "hey jarvis … switch off the bedroom
// lights", 0.6 s apart, found by scanning).
func TestScanHitWaitsForTheCommand(t *testing.T) {
	pcm := corpusFile(t, "w0005\twake\tLightsOff\troom=bedroom\tespeak:en-us+klatt@25@140\they jarvis\tswitch off the bedroom lights\t0.60\t0.91\t-15\t49\tbrown\t20\t0.60\t0.52\t-5")
	l := newListener(t, func(c *Config) { c.Grammar = corpusGrammar(t); c.WakeNet = wakenet.Builtin("hey jarvis") })
	got := feed(t, l, pcm)
	if st := l.Stats(); st.Scanned == 0 {
		t.Fatalf("stats %+v: the spotter found it, the test no longer exercises a scan hit", st)
	}
	if len(got) != 1 || got[0].Intent != "LightsOff" || got[0].Slots["room"] != "bedroom" {
		for _, u := range got {
			t.Logf("heard %q (%s, %v) in %v", u.Transcript, u.Intent, u.Slots, u.Duration)
		}
		t.Errorf("heard %d utterances, want LightsOff in the bedroom", len(got))
	}
}

// TestSpotterHitWaitsForTheCommand: the same for the spotter, which fired
// 360 ms before the end of rms's "jarvis" in dev corpus file w0092 ("hey
// jarvis … pause the music", 0.53 s apart, clean). The rest of "jarvis"
// took the wait for the command down to the end silence, and the pause
// ended the utterance.
func TestSpotterHitWaitsForTheCommand(t *testing.T) {
	log := &messages{}
	hearsJob(t, log, "w0092\twake\tStopMusic\t-\tflite:rms\they jarvis\tpause the music\t0.53\t0.92\t-68\t18\t-\t0\t0.41\t0.38\t-6\twake", wakenet.Builtin("hey jarvis"))
	if log.count("wake phrase spotted") != 1 || log.count("wake phrase spotted by_classifier=false") != 1 {
		t.Errorf("not one spotter hit: the test no longer exercises it; log %q", log.msgs)
	}
}

// TestLateCommandIsNotForTheDevice: corpus file o0387, kal's "say jarvis
// slowly, turn on the living room lights" under brown noise, which the
// verifier hears as "hey jarvis ‹five phones› turn on the living room
// lights" and the classifier scores 0.70. A command of the grammar that
// follows the wake phrase only after other words means the phrase was
// said in a sentence: no utterance, unless the classifier is sure.
func TestLateCommandIsNotForTheDevice(t *testing.T) {
	pcm := corpusFile(t, "o0387\tother\t-\t-\tflite:kal\tsay jarvis slowly turn on the living room lights\t-\t-\t1.02\t-61\t0\tbrown\t22\t0.68\t0.88\t-6\tnear")
	listen := func(rescue float32) ([]Utterance, Stats) {
		l := newListener(t, func(c *Config) {
			c.Grammar = corpusGrammar(t)
			n := *wakenet.Builtin("hey jarvis")
			n.Thresholds.Rescue = rescue
			c.WakeNet = &n
		})
		return feed(t, l, pcm), l.Stats()
	}
	got, st := listen(wakenet.Builtin("hey jarvis").Thresholds.Rescue)
	if len(got) != 0 || st.Embedded != 1 {
		t.Errorf("shipped net: heard %d utterances, stats %+v; want none, dropped as Embedded", len(got), st)
	}
	// A classifier sure of every candidate keeps it: the earcon asks
	// for the command again.
	got, st = listen(0)
	if len(got) != 1 || got[0].Intent != "" || st.Embedded != 0 {
		t.Errorf("sure classifier: heard %d utterances, stats %+v; want one without intent", len(got), st)
	}
}

// TestWeakFirstWord: dev corpus files whose "hey" the verifier reads as
// phones with a weak onset ("‹hh› ‹ey› jarvis …", "‹f› ‹ae› ‹ey› jarvis
// …"), taking the way round the first word; the classifier was not sure
// of them (0.41 and 0.76), and they were missed.
func TestWeakFirstWord(t *testing.T) {
	log := &messages{}
	for _, job := range []string{
		"w0161\twake\tForgetLast\t-\tflite:slt\they jarvis erase the last recording\t-\t-\t1.03\t105\t0\t-\t0\t0.60\t0.60\t-7\twake",
		"w0184\twake\tPlayMusic\tgenre=jazz\tflite:kal\they jarvis\tplay some jazz\t0.30\t1.09\t100\t19\twhite\t22\t0.83\t0.53\t-8\twake",
	} {
		hearsJob(t, log, job, wakenet.Builtin("hey jarvis"))
	}
}

// TestCommandSearchKeepsOutOfGrammar: a command outside the grammar after
// a real wake phrase must stay without intent (and so without action),
// also in the command search.
func TestCommandSearchKeepsOutOfGrammar(t *testing.T) {
	log := &messages{}
	l := newListener(t, func(c *Config) { c.Logger = slog.New(log) })
	for _, text := range []string{"what's the weather like tomorrow", "tell me a joke", "call my mother", "what time is it", "open the garage door"} {
		pcm := append(sphinxtest.Silence(1), sphinxtest.Speak(t, "slt", "hey jarvis, "+text, 0.3, 1.5)...)
		got := feed(t, l, pcm)
		if len(got) != 1 {
			t.Errorf("%q: %d utterances, want the wake phrase heard once", text, len(got))
			continue
		}
		if got[0].Intent != "" {
			t.Errorf("%q: intent %s %v, want none", text, got[0].Intent, got[0].Slots)
		}
	}
	if n := log.count("no command in the command search"); n == 0 {
		t.Error("the command search never ran: the test no longer exercises it")
	}
}

// TestDeletionIsConfirmed: a deletion cannot be undone, so a built-in
// privacy intent must come out of a second decode too. The verifier
// alone takes slt's "hey jarvis, play some jazz", with no music in the
// grammar, for "erase what I just said".
func TestDeletionIsConfirmed(t *testing.T) {
	log := &messages{}
	l := newListener(t, func(c *Config) { c.Logger = slog.New(log) })
	pcm := sphinxtest.Speak(t, "slt", "hey jarvis play some jazz", 0.5, 1.5)
	for _, u := range feed(t, l, pcm) {
		if intents.IsBuiltin(u.Intent) {
			t.Errorf("\"play some jazz\" heard as %s", u.Intent)
		}
	}
	if log.count("deletion not confirmed") != 1 {
		t.Errorf("the verifier did not take it for a deletion: the test no longer exercises the check; log: %q", log.msgs)
	}
	for _, tt := range []struct{ voice, text, intent string }{
		{"slt", "hey jarvis, erase that", intents.ForgetLast},
		{"rms", "hey jarvis, delete what i just said", intents.ForgetLast},
		{"awb", "hey jarvis, forget everything i said today", intents.ForgetToday},
	} {
		got := feed(t, l, sphinxtest.Speak(t, tt.voice, tt.text, 0.5, 1.5))
		if len(got) != 1 || got[0].Intent != tt.intent {
			t.Errorf("%s %q: %d utterances, want one %s", tt.voice, tt.text, len(got), tt.intent)
		}
	}
}

// TestCandidatesReuseBuffers feeds speech with false candidates again and
// again: the lead-in and the recording buffers are reused, so a rejected
// candidate leaves no recording-sized garbage (which set the daemon's heap
// high-water mark when each took a fresh 340 kB).
func TestCandidatesReuseBuffers(t *testing.T) {
	log := &messages{}
	l := newListener(t, func(c *Config) { c.Logger = slog.New(log) })
	var pcm []int16
	for _, voice := range []string{"slt", "rms", "awb"} {
		pcm = append(pcm, sphinxtest.Speak(t, voice, "hey marvin, what a lovely day", 0.3, 1)...)
		pcm = append(pcm, sphinxtest.Speak(t, voice, "the train leaves at noon", 0.3, 1)...)
	}
	feed(t, l, pcm) // warm-up: the buffers are made once
	hits := log.count("wake phrase spotted")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 3
	for range n {
		feed(t, l, pcm)
	}
	runtime.ReadMemStats(&after)
	hits = log.count("wake phrase spotted") - hits
	perRun := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("%d candidates in %d runs; %d bytes allocated per run of %.1f s", hits, n, perRun, float64(len(pcm))/audio.SampleRate)
	if hits == 0 {
		t.Fatal("no candidates: the test no longer exercises them")
	}
	// One lead-in or recording buffer is 80-340 kB.
	if perRun > 64<<10 {
		t.Errorf("%d bytes allocated per run: buffers are not reused", perRun)
	}
}

func TestSilenceIsNotDecoded(t *testing.T) {
	l := newListener(t, nil)
	feed(t, l, sphinxtest.Silence(5))
	if st := l.Stats(); st.Spotted+st.Verified != 0 {
		t.Errorf("decoder ran on %d samples of silence", st.Spotted+st.Verified)
	}
	// Speech is decoded: the counter does move.
	feed(t, l, sphinxtest.Speak(t, "slt", "good morning", 0.2, 0.5))
	if st := l.Stats(); st.Spotted+st.Verified == 0 {
		t.Error("speech was not decoded either")
	}
}

func TestLongSpeechIsSpottedOnlyAfterPauses(t *testing.T) {
	l := newListener(t, nil)
	talk := sphinxtest.Speak(t, "slt", "the quick brown fox jumps over the lazy dog and then runs across "+
		"the green field towards the old red barn where the farmer keeps his tools and his tractor", 1, 0)
	feed(t, l, talk)
	st := l.Stats()
	talkSecs := float64(len(talk)) / audio.SampleRate
	spotted := float64(st.Spotted) / audio.SampleRate
	t.Logf("%.1f s of talk, %.1f s spotted", talkSecs, spotted)
	// The limit is spotSpan plus lead-in, plus one re-arm at a breath
	// between clauses: well under the talk itself.
	if spotted > talkSecs/2 {
		t.Errorf("spotted %.1f s of %.1f s of continuous talk; want the spotter asleep after %v", spotted, talkSecs, spotSpan)
	}
	// After a pause the spotter listens again.
	got := feed(t, l, sphinxtest.Speak(t, "slt", "hey jarvis turn on the kitchen lights", 0.5, 1.5))
	if len(got) != 1 || got[0].Intent != "LightsOn" {
		t.Fatalf("after the talk and a pause: %+v, want one LightsOn", got)
	}
	if st2 := l.Stats(); st2.Hits <= st.Hits || st2.Accepted != st.Accepted+1 {
		t.Errorf("stats %+v then %+v: want one more hit and one more accepted", st, st2)
	}
}

// TestRecycleWipesAndReuses gives a handed-over recording back: it is
// wiped, and the next recording is made in the same buffer.
func TestRecycleWipesAndReuses(t *testing.T) {
	l := newListener(t, nil)
	pcm := sphinxtest.Speak(t, "slt", "hey jarvis turn on the kitchen lights", 0.5, 1.5)
	first := feedOne(t, l, pcm).Audio
	l.Recycle(first)
	for i, v := range first[:cap(first)] {
		if v != 0 {
			t.Fatalf("sample %d is %d after Recycle: the recording was not wiped", i, v)
		}
	}
	second := feedOne(t, l, pcm).Audio
	if &second[:1][0] != &first[:1][0] {
		t.Error("the second recording did not reuse the recycled buffer")
	}
	l.Close()
	l.Recycle(second) // after Close: still wiped, not kept
	if second[0] != 0 {
		t.Error("Recycle after Close did not wipe")
	}
}

// feedOne feeds pcm and returns the one utterance it must make.
func feedOne(t testing.TB, l *Listener, pcm []int16) Utterance {
	t.Helper()
	got := feed(t, l, pcm)
	if len(got) != 1 {
		t.Fatalf("%d utterances, want 1", len(got))
	}
	return got[0]
}

func TestRecordingIsHandedOver(t *testing.T) {
	l := newListener(t, nil)
	pcm := sphinxtest.Speak(t, "slt", "hey jarvis turn on the bedroom lights", 0.5, 1.5)
	handed := feedOne(t, l, pcm).Audio
	keep := append([]int16(nil), handed...)
	// A second utterance must not reuse the first one's buffer.
	feed(t, l, pcm)
	if !slicesEqual(keep, handed) {
		t.Fatal("listener wrote into a recording it handed over")
	}
	// Pre-roll: the recording starts before the wake phrase.
	if len(keep) < len(pcm)/2 {
		t.Errorf("recording of %d samples for %d samples of speech", len(keep), len(pcm))
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestResetDropsPartialUtterance(t *testing.T) {
	l := newListener(t, nil)
	pcm := sphinxtest.Speak(t, "slt", "hey jarvis turn on the kitchen lights", 0.5, 1.5)
	half := len(pcm) / 2 / audio.FrameSamples * audio.FrameSamples
	for i := 0; i < half; i += audio.FrameSamples {
		if _, ok, err := l.Feed(pcm[i : i+audio.FrameSamples]); err != nil || ok {
			t.Fatalf("frame %d: ok=%v err=%v", i, ok, err)
		}
	}
	l.Reset() // mute in the middle of the command
	if got := feed(t, l, pcm[half:]); len(got) != 0 {
		t.Fatalf("after Reset got %q", got[0].Intent)
	}
	if got := feed(t, l, pcm); len(got) != 1 || got[0].Intent != "LightsOn" {
		t.Fatalf("after Reset the next utterance was not recognised: %v", len(got))
	}
}

func TestSetGrammar(t *testing.T) {
	l := newListener(t, nil)
	pcm := sphinxtest.Speak(t, "slt", "hey jarvis play some jazz", 0.5, 1.5)
	if got := feed(t, l, pcm); len(got) == 1 && got[0].Intent != "" {
		t.Fatalf("old grammar matched %q", got[0].Intent)
	}
	music := testIntents + "  PlayMusic: [\"play some {genre}\"]\nslots2: x\n"
	music = strings.Replace(testIntents, "intents:\n", "  genre: [jazz, rock]\nintents:\n  PlayMusic: [\"play some {genre}\"]\n", 1)
	if err := l.SetGrammar(grammar(t, music)); err != nil {
		t.Fatal(err)
	}
	got := feed(t, l, pcm)
	if len(got) != 1 || got[0].Intent != "PlayMusic" || got[0].Slots["genre"] != "jazz" {
		t.Fatalf("new grammar: got %d utterances %+v", len(got), got)
	}
	bad := strings.Replace(testIntents, "kitchen,", "kitchen, zzyzxq,", 1)
	if err := l.SetGrammar(grammar(t, bad)); err == nil || !strings.Contains(err.Error(), "zzyzxq") {
		t.Errorf("unknown word: err = %v", err)
	}
	// A rejected grammar leaves the old one working.
	if got := feed(t, l, pcm); len(got) != 1 || got[0].Intent != "PlayMusic" {
		t.Errorf("after rejected grammar: %+v", got)
	}
}

func TestNewErrors(t *testing.T) {
	requireEngine(t)
	base := Config{WakePhrase: "hey jarvis", Sensitivity: 0.5, Grammar: grammar(t, testIntents)}
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no grammar", func(c *Config) { c.Grammar = nil }, "no intents grammar"},
		{"empty wake", func(c *Config) { c.WakePhrase = "" }, "wake.phrase"},
		{"sensitivity", func(c *Config) { c.Sensitivity = 1.5 }, "wake.sensitivity"},
		{"unknown wake word", func(c *Config) { c.WakePhrase = "hey blorptastic" }, `"blorptastic" (wake.phrase)`},
		{"unknown intent word", func(c *Config) {
			c.Grammar = grammar(t, strings.Replace(testIntents, "bedroom,", "bedroom, snorgleplex,", 1))
		}, `"snorgleplex" (intents.yaml)`},
		{"model dir", func(c *Config) { c.ModelDir = t.TempDir() }, "dictionary"},
		{"classifier of another phrase", func(c *Config) {
			c.WakePhrase, c.WakeNet = "hey computer", wakenet.Builtin("hey jarvis")
		}, `classifier knows "hey jarvis", not the wake phrase "hey computer"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mod(&cfg)
			l, err := New(cfg)
			if err == nil {
				l.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestFeedErrorsAndClose(t *testing.T) {
	l := newListener(t, nil)
	if _, _, err := l.Feed(make([]int16, 100)); err == nil {
		t.Error("short frame: no error")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := l.Feed(make([]int16, audio.FrameSamples)); !errors.Is(err, ErrClosed) {
		t.Errorf("Feed after Close: %v", err)
	}
	if err := l.SetGrammar(grammar(t, testIntents)); !errors.Is(err, ErrClosed) {
		t.Errorf("SetGrammar after Close: %v", err)
	}
	l.Reset() // must not panic
}

// TestConcurrentSetGrammar reloads the grammar while frames are fed, as a
// SIGHUP during capture does; run with -race.
func TestConcurrentSetGrammar(t *testing.T) {
	l := newListener(t, nil)
	pcm := sphinxtest.Speak(t, "slt", "hey jarvis turn on the kitchen lights", 0.5, 1.5)
	g := grammar(t, testIntents)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 3 {
			if err := l.SetGrammar(g); err != nil {
				t.Error(err)
			}
		}
	}()
	feed(t, l, pcm)
	wg.Wait()
	if got := feed(t, l, pcm); len(got) != 1 || got[0].Intent != "LightsOn" {
		t.Errorf("after reloads: %+v", got)
	}
}

func TestJudge(t *testing.T) {
	wake := []string{"hey", "jarvis"}
	tests := []struct {
		hyp  string
		want verdict
	}{
		{"hey jarvis turn on the lights", verdict{wake: true, transcript: "turn on the lights", complete: true, after: 4}},
		{"gbg_p gbg_hh hey jarvis set a timer", verdict{wake: true, transcript: "set a timer", complete: true, after: 3}},
		{"hey jarvis gbg_s play jazz", verdict{wake: true, transcript: "play jazz", complete: true, after: 3}},
		{"hey jarvis gbg_s gbg_f gbg_t play jazz", verdict{wake: true, transcript: "play jazz", complete: true, after: 5}},
		// Too much before the command: not what was asked for.
		{"hey jarvis gbg_w gbg_ah gbg_d gbg_t erase that", verdict{wake: true, transcript: "erase that", after: 6}},
		{"hey jarvis gbg_w gbg_ah", verdict{wake: true, after: 2}},
		{"gbg_hh gbg_ey gbg_t", verdict{}},
		// Words before the wake phrase: "say jarvis …", "the jarvis family …".
		{"gbg_s gbg_ey gbg_dh gbg_ah gbg_s hey jarvis turn on the lights", verdict{}},
		{"gbg_ah gbg_m gbg_hh gbg_ey hey jarvis turn on the lights", verdict{wake: true, transcript: "turn on the lights", complete: true, after: 4}},
		// "hey" heard as phones, its onset weak (flite): still the
		// wake phrase. "say jarvis", "okay jarvis": not.
		{"gbg_hh gbg_ey jarvis erase the last recording", verdict{wake: true, transcript: "erase the last recording", complete: true, after: 4}},
		{"gbg_f gbg_ae gbg_ey jarvis gbg_ow play jazz", verdict{wake: true, transcript: "play jazz", complete: true, after: 3}},
		{"gbg_ey jarvis play jazz", verdict{wake: true, transcript: "play jazz", complete: true, after: 2}},
		{"gbg_t gbg_s gbg_l gbg_f gbg_hh gbg_ey jarvis", verdict{wake: true}},
		{"gbg_t gbg_s gbg_l gbg_f gbg_d gbg_ae gbg_ey jarvis", verdict{}},
		{"gbg_s gbg_ey jarvis gbg_ow gbg_ey", verdict{}},
		{"gbg_ow gbg_k gbg_ey jarvis play jazz", verdict{}},
		{"gbg_hh gbg_ey jarvis jarvis", verdict{wake: true, transcript: "jarvis", complete: true, after: 1}},
		{"gbg_hh gbg_ey hey jarvis", verdict{wake: true}},
		{"gbg_hh gbg_ey gbg_t jarvis", verdict{}},
		{"jarvis play jazz", verdict{}},
		{"hey", verdict{}},
		{"", verdict{}},
	}
	for _, tt := range tests {
		if got := judge(tt.hyp, wake, [][]string{{"HH", "EY"}}); got != tt.want {
			t.Errorf("judge(%q) = %+v, want %+v", tt.hyp, got, tt.want)
		}
	}
}

func TestHeardFirst(t *testing.T) {
	hey := strings.Fields("HH EY")
	okay := strings.Fields("OW K EY")
	tests := []struct {
		garbage string
		first   []string
		used    int
		ok      bool
	}{
		{"gbg_hh gbg_ey", hey, 2, true},
		{"gbg_t gbg_ae gbg_ey", hey, 2, true}, // the onset heard as a glide
		{"gbg_ey", hey, 1, true},
		{"gbg_s gbg_ey", hey, 0, false}, // "say"
		{"gbg_k gbg_ey", hey, 0, false}, // "okay"
		{"gbg_hh gbg_ey gbg_t", hey, 0, false},
		{"", hey, 0, false},
		{"gbg_t gbg_ow gbg_k gbg_ey", okay, 3, true},
		{"gbg_k gbg_ey", okay, 0, false},
	}
	for _, tt := range tests {
		used, ok := heardFirst(strings.Fields(tt.garbage), tt.first)
		if used != tt.used || ok != tt.ok {
			t.Errorf("heardFirst(%q, %v) = %d, %v; want %d, %v", tt.garbage, tt.first, used, ok, tt.used, tt.ok)
		}
	}
}

func TestThresholdsMonotonic(t *testing.T) {
	pk, pg := thresholds(0)
	for s := 0.1; s <= 1.0001; s += 0.1 {
		k, g := thresholds(s)
		if k >= pk || g >= pg {
			t.Fatalf("sensitivity %.1f: kws %g garbage %g not below %g %g", s, k, g, pk, pg)
		}
		pk, pg = k, g
	}
}

func BenchmarkFeedSpeech(b *testing.B) {
	l := newListener(b, nil)
	pcm := sphinxtest.Speak(b, "slt", "hey jarvis turn on the kitchen lights", 0.5, 1.5)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		feed(b, l, pcm)
	}
	b.ReportMetric(b.Elapsed().Seconds()/(float64(b.N)*float64(len(pcm))/audio.SampleRate), "rtf")
}

func BenchmarkFeedSilence(b *testing.B) {
	l := newListener(b, nil)
	pcm := sphinxtest.Silence(10)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		feed(b, l, pcm)
	}
	b.ReportMetric(b.Elapsed().Seconds()/(float64(b.N)*10), "rtf")
}

// A whole sentence of the grammar ends after a short silence; a command cut
// off mid-sentence waits the full end silence, so a pause is not an end.
func TestQuickEndOnlyForWholeSentences(t *testing.T) {
	tests := []struct {
		text  string
		quick bool
	}{
		{"hey jarvis turn on the kitchen lights", true},
		{"hey jarvis set a timer for", false},
		// A deletion cannot be undone: it waits for the end silence,
		// for "erase that" may be the start of "erase everything …".
		{"hey jarvis erase that", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			l := newListener(t, func(c *Config) { c.EndSilence = 2 * time.Second })
			speech := append(sphinxtest.Silence(1), sphinxtest.Speak(t, "slt", tt.text, 0.3, 0)...)
			pcm := append(speech, sphinxtest.Silence(4)...)
			end := len(speech) / audio.FrameSamples
			at := -1
			for i := 0; i+audio.FrameSamples <= len(pcm); i += audio.FrameSamples {
				_, ok, err := l.Feed(pcm[i : i+audio.FrameSamples])
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					at = i / audio.FrameSamples
					break
				}
			}
			if at < 0 {
				t.Fatal("no utterance")
			}
			after := time.Duration(at-end) * audio.FrameDuration
			t.Logf("utterance ended %v after the speech", after)
			// Frames, not wall-clock time: the VAD's hangover (60 ms) and
			// finalEnd (40 ms) plus the decoder leaving the last word.
			if tt.quick && after > 250*time.Millisecond {
				t.Errorf("a whole sentence nothing extends ended %v after the speech, want under 250 ms (the 2 s end silence is for unfinished ones)", after)
			}
			if !tt.quick && after < 1800*time.Millisecond {
				t.Errorf("an unfinished command ended %v after the speech, want the full 2 s end silence", after)
			}
		})
	}
}
