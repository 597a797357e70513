//go:build cgo && !nopocketsphinx

package sphinx

import (
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
)

var long = flag.Bool("long", false, "run the 10k-utterance C memory test")

const testJSGF = `#JSGF V1.0;
grammar t;
public <cmd> = hey jarvis ((turn | switch) (on | off) the (kitchen | bedroom) lights | set a timer for (two | five) minutes);
`

var testWords = []string{"hey", "jarvis", "turn", "switch", "on", "off", "the", "kitchen", "bedroom", "lights", "set", "a", "timer", "for", "two", "five", "minutes"}

// newTestDecoder makes a decoder with the test's words, a "wake" and a
// "cmd" search; extra are more PocketSphinx arguments.
func newTestDecoder(t testing.TB, extra ...string) *Decoder {
	t.Helper()
	if _, err := os.Stat(DictionaryPath("")); err != nil {
		t.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	words, missing, err := LookupWords(DictionaryPath(""), testWords)
	if err != nil || len(missing) > 0 {
		t.Fatalf("lookup: %v, missing %v", err, missing)
	}
	d, err := New(Config{Words: words, Extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.SetKeyphrase("wake", "hey jarvis", 1e-20); err != nil {
		t.Fatal(err)
	}
	if err := d.SetJSGF("cmd", testJSGF, "t.cmd"); err != nil {
		t.Fatal(err)
	}
	return d
}

func decode(t testing.TB, d *Decoder, search string, pcm []int16) (hyp string, spotted bool) {
	t.Helper()
	if err := d.SetSearch(search); err != nil {
		t.Fatal(err)
	}
	if err := d.StartUtt(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+320 <= len(pcm); i += 320 {
		if err := d.Process(pcm[i : i+320]); err != nil {
			t.Fatal(err)
		}
		if h, _ := d.Hyp(); h != "" {
			spotted = true
		}
	}
	if err := d.EndUtt(); err != nil {
		t.Fatal(err)
	}
	hyp, _ = d.Hyp()
	return hyp, spotted
}

func TestDecodeSpeech(t *testing.T) {
	d := newTestDecoder(t)
	tests := []struct {
		voice, text string
		wake        bool
	}{
		{"slt", "hey jarvis turn on the kitchen lights", true},
		{"rms", "hey jarvis set a timer for five minutes", true},
		{"awb", "hey jarvis switch off the bedroom lights", true},
		{"slt", "the weather was lovely on the coast", false},
	}
	for _, tt := range tests {
		t.Run(tt.voice+" "+tt.text, func(t *testing.T) {
			pcm := sphinxtest.Speak(t, tt.voice, tt.text, 0.5, 0.5)
			if _, spotted := decode(t, d, "wake", pcm); spotted != tt.wake {
				t.Errorf("keyword spotted = %v, want %v", spotted, tt.wake)
			}
			if !tt.wake {
				return
			}
			hyp, _ := decode(t, d, "cmd", pcm)
			if hyp != tt.text {
				t.Errorf("grammar hypothesis %q, want %q", hyp, tt.text)
			}
			if segs := d.Segments(); len(segs) < len(strings.Fields(tt.text)) {
				t.Errorf("%d segments for %q", len(segs), tt.text)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(Config{ModelDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "acoustic model") {
		t.Errorf("empty model dir: err = %v", err)
	}
	if _, err := New(Config{Extra: []string{"-nosuchflag", "1"}}); err == nil {
		t.Error("unknown argument: no error")
	}
	d := newTestDecoder(t)
	cases := []struct {
		name string
		err  error
	}{
		{"bad jsgf", d.SetJSGF("x", "#JSGF V1.0;\ngrammar g;\npublic <a> = (unclosed;\n", "")},
		{"missing top rule", d.SetJSGF("x", testJSGF, "t.nothere")},
		{"unknown search", d.SetSearch("nothere")},
		{"unknown phone", d.AddWords(map[string][]string{"blorp": {"QQ XX"}})},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	// The decoder still works after rejected input.
	if err := d.SetSearch("cmd"); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := d.Process(make([]int16, 320)); err == nil {
		t.Error("Process after Close: no error")
	}
}

// rssKB reads the resident set size from /proc.
func rssKB(t testing.TB) int {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.Atoi(f[1])
	return pages * os.Getpagesize() / 1024
}

// TestNoCMemoryLeak decodes many utterances on one decoder and checks that
// the resident set stays flat after warm-up. Go's own heap barely moves in
// this loop, so growth would be C memory.
func TestNoCMemoryLeak(t *testing.T) {
	n := 100
	if *long {
		n = 5000 // two utterances a cycle: 10k in all
	}
	d := newTestDecoder(t)
	pcm := sphinxtest.Speak(t, "slt", "hey jarvis turn off the bedroom lights", 0.1, 0.1)
	cycle := func() {
		for _, s := range []string{"wake", "cmd"} {
			decode(t, d, s, pcm)
		}
		d.Segments()
	}
	for range 50 {
		cycle()
	}
	before := rssKB(t)
	for range n {
		cycle()
	}
	after := rssKB(t)
	t.Logf("%d utterances: RSS %d kB -> %d kB", 2*n, before, after)
	if float64(after) > float64(before)*1.05+2048 {
		t.Errorf("RSS grew from %d kB to %d kB over %d utterances", before, after, 2*n)
	}
}

// TestGrammarSearchesDoNotLeak adds and removes a grammar search again and
// again, as the listener does with its command search: PocketSphinx's own
// ps_set_jsgf_string never frees the parsed grammar, which on this grammar
// would add up to megabytes.
func TestGrammarSearchesDoNotLeak(t *testing.T) {
	d := newTestDecoder(t)
	var b strings.Builder
	b.WriteString("#JSGF V1.0;\ngrammar big;\npublic <all> = <r0>")
	for i := 1; i < 60; i++ {
		fmt.Fprintf(&b, " | <r%d>", i)
	}
	b.WriteString(";\n")
	for i := range 60 {
		fmt.Fprintf(&b, "<r%d> = (turn | switch) (on | off) the (kitchen | bedroom) lights | set a timer for (two | five) minutes;\n", i)
	}
	jsgf := b.String()
	cycle := func() {
		if err := d.SetJSGF("big", jsgf, "big.all"); err != nil {
			t.Fatal(err)
		}
		if err := d.UnsetSearch("big"); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		cycle()
	}
	TrimHeap()
	before := rssKB(t)
	const n = 200
	for range n {
		cycle()
	}
	TrimHeap()
	after := rssKB(t)
	t.Logf("%d grammar searches: RSS %d kB -> %d kB", n, before, after)
	if float64(after) > float64(before)*1.05+2048 {
		t.Errorf("RSS grew from %d kB to %d kB over %d grammar searches", before, after, n)
	}
	if err := d.SetSearch("cmd"); err != nil {
		t.Fatal(err)
	}
	if err := d.UnsetSearch("cmd"); err == nil {
		t.Error("UnsetSearch removed the active search")
	}
	if err := d.UnsetSearch("none"); err == nil {
		t.Error("UnsetSearch of an unknown search: no error")
	}
}

// TestNewCloseCycles creates and frees decoders; the model is loaded each
// time, so a leak per decoder would show as megabytes. The first few
// cycles grow the C allocator's arenas, so they are warm-up.
func TestNewCloseCycles(t *testing.T) {
	for range 15 {
		newTestDecoder(t).Close()
	}
	before := rssKB(t)
	const n = 40
	for range n {
		newTestDecoder(t).Close()
	}
	after := rssKB(t)
	t.Logf("%d decoders: RSS %d kB -> %d kB", n, before, after)
	if float64(after) > float64(before)*1.1+4096 {
		t.Errorf("RSS grew from %d kB to %d kB over %d decoders", before, after, n)
	}
}

func BenchmarkKeywordSpotting(b *testing.B) {
	d := newTestDecoder(b)
	pcm := sphinxtest.Speak(b, "slt", "hey jarvis turn on the kitchen lights", 0.2, 0.2)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		decode(b, d, "wake", pcm)
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/(float64(b.N)*float64(len(pcm))/16000), "rtf")
	b.ReportMetric(float64(len(pcm))/16000, "audio-s/op")
}

func BenchmarkGrammarDecode(b *testing.B) {
	d := newTestDecoder(b)
	pcm := sphinxtest.Speak(b, "slt", "hey jarvis turn on the kitchen lights", 0.2, 0.2)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		decode(b, d, "cmd", pcm)
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/(float64(b.N)*float64(len(pcm))/16000), "rtf")
	b.ReportMetric(float64(len(pcm))/16000, "audio-s/op")
}

// TestReplaceActiveSearch replaces the grammar of the active search, as a
// reload of the intents does, and decodes with it without switching
// searches: PocketSphinx frees the old search, so the decoder must make
// the new one active.
func TestReplaceActiveSearch(t *testing.T) {
	d := newTestDecoder(t)
	pcm := sphinxtest.Speak(t, "slt", "hey jarvis set a timer for five minutes", 0.3, 0.3)
	if hyp, _ := decode(t, d, "cmd", pcm); hyp != "hey jarvis set a timer for five minutes" {
		t.Fatalf("before: %q", hyp)
	}
	// Start an utterance in the active search, then replace it midway.
	if err := d.Process(pcm[:len(pcm)/2]); err != nil {
		t.Fatal(err)
	}
	const timersOnly = "#JSGF V1.0;\ngrammar u;\npublic <cmd> = hey jarvis set a timer for (two | five) minutes;\n"
	if err := d.SetJSGF("cmd", timersOnly, "u.cmd"); err != nil {
		t.Fatal(err)
	}
	if d.InUtt() {
		t.Error("the utterance of the replaced search is still running")
	}
	for range 3 {
		if hyp, _ := decode(t, d, "cmd", pcm); hyp != "hey jarvis set a timer for five minutes" {
			t.Fatalf("after: %q", hyp)
		}
	}
	lights := sphinxtest.Speak(t, "slt", "hey jarvis turn on the kitchen lights", 0.3, 0.3)
	if hyp, _ := decode(t, d, "cmd", lights); strings.Contains(hyp, "kitchen") {
		t.Errorf("the replaced grammar still decodes: %q", hyp)
	}
}

// TestTrack runs the front end alone between utterances, as the verifier
// does while the spotter decodes; decoding afterwards is intact, the
// tracked mean is the audio's, and during an utterance it is refused.
func TestTrack(t *testing.T) {
	d := newTestDecoder(t)
	const text = "hey jarvis turn on the kitchen lights"
	pcm := sphinxtest.Speak(t, "slt", text, 0.3, 0.3)
	initial := d.cepstralMean()
	for range 3 {
		if err := d.Track(pcm[:len(pcm)-123]); err != nil { // not a whole number of frames
			t.Fatal(err)
		}
	}
	if !slices.Equal(d.cepstralMean(), initial) {
		t.Error("Track changed the cepstral mean in use")
	}
	d.UseTrackedMean()
	tracked := d.cepstralMean()
	// c0, the log energy, follows the level of this audio, far from the
	// model's initial estimate.
	if math.Abs(tracked[0]-initial[0]) < 1 {
		t.Errorf("tracked c0 = %.2f, initial %.2f: the mean did not follow the audio", tracked[0], initial[0])
	}
	if hyp, _ := decode(t, d, "cmd", pcm); hyp != text {
		t.Errorf("after tracking: %q, want %q", hyp, text)
	}
	d.ResetCMN()
	d.UseTrackedMean()
	if got := d.cepstralMean(); !slices.Equal(got, initial) {
		t.Errorf("after ResetCMN the tracked mean is %v, want the initial %v", got, initial)
	}
	if err := d.StartUtt(); err != nil {
		t.Fatal(err)
	}
	if err := d.Track(pcm[:320]); err == nil {
		t.Error("Track during an utterance was accepted")
	}
	d.EndUtt()
	d.Close()
	if err := d.Track(pcm[:320]); err == nil {
		t.Error("Track on a closed decoder was accepted")
	}
}
