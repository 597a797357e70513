//go:build cgo && !nopocketsphinx

package sphinx

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
)

// benchGrammars are the grammars BenchmarkGrammarSearch decodes, each
// with commands of its own said by several voices.
var benchGrammars = []struct {
	name, file string
	commands   []string
}{
	{"coffee", "../corpus/coffee.yaml", []string{
		"can i get a large dark roast latte with some soy milk",
		"give me an americano",
		"may i have a twelve ounce double shot cappuccino with a little bit of cream and sugar",
		"brew a small light roast house coffee with sweetener",
	}},
	{"corpus", "../corpus/intents.yaml", []string{
		"turn on the kitchen lights",
		"set a timer for five minutes",
		"play some jazz",
		"turn the volume up",
	}},
}

var benchVoices = []string{"slt", "rms", "awb", "kal16"}

// benchAudio synthesises a grammar's commands once per process.
var benchAudio = struct {
	sync.Mutex
	pcm map[string][][]int16
}{pcm: map[string][][]int16{}}

func commandAudio(b *testing.B, name string, commands []string) ([][]int16, float64) {
	benchAudio.Lock()
	defer benchAudio.Unlock()
	if benchAudio.pcm[name] == nil {
		for i, c := range commands {
			benchAudio.pcm[name] = append(benchAudio.pcm[name], sphinxtest.Speak(b, benchVoices[i%len(benchVoices)], c, 0.5, 0.5))
		}
	}
	seconds := 0.0
	for _, pcm := range benchAudio.pcm[name] {
		seconds += float64(len(pcm)) / 16000
	}
	return benchAudio.pcm[name], seconds
}

// procKB reads a "VmXXX:  n kB" line of /proc/self/status.
func procKB(b *testing.B, key string) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	b.Skipf("no %s in /proc/self/status", key)
	return 0
}

// resetPeak returns what memory it can to the system and restarts the
// peak resident set (VmHWM) from the current one, so a benchmark's peak
// is its own.
func resetPeak(b *testing.B) {
	runtime.GC()
	debug.FreeOSMemory()
	TrimHeap()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak resident set: %v", err)
	}
}

// threadCPU is the CPU time of the calling thread.
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// decodeTimed decodes the utterances b.N times in the search "cmd" and
// reports the decoding thread's CPU seconds per second of audio.
func decodeTimed(b *testing.B, d *Decoder, pcms [][]int16, seconds float64) {
	b.ResetTimer()
	cpu := threadCPU()
	for range b.N {
		for _, pcm := range pcms {
			decode(b, d, "cmd", pcm)
		}
	}
	cpu = threadCPU() - cpu
	b.StopTimer()
	b.ReportMetric(cpu.Seconds()/(seconds*float64(b.N)), "cpu-rtf")
}

// BenchmarkGrammarSearch decodes generated commands with a grammar given
// to the decoder as JSGF (PocketSphinx expands every template) and as
// the minimal FSG. Metrics: peak resident memory the decoder adds, in all
// (rss-MB, model included) and for its grammar search (search-MB); CPU
// seconds per second of audio (cpu-rtf, on the decoding thread); the time
// to make the search (setup-ms: Load and JSGF text or FSG, then the
// search); and the search's states and transitions as the decoder holds
// them. Run one at a time for memory figures free of earlier ones:
//
//	go test -run '^$' -bench 'GrammarSearch/coffee/jsgf' -benchtime 3x ./audio/sphinx
func BenchmarkGrammarSearch(b *testing.B) {
	if _, err := os.Stat(DictionaryPath("")); err != nil {
		b.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	for _, gr := range benchGrammars {
		for _, form := range []string{"jsgf", "fsg"} {
			b.Run(gr.name+"/"+form, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				pcms, seconds := commandAudio(b, gr.name, gr.commands)
				g, err := intents.Load(gr.file)
				if err != nil {
					b.Fatal(err)
				}
				words, missing, err := LookupWords(DictionaryPath(""), g.Words())
				if err != nil || len(missing) > 0 {
					b.Fatalf("lookup: %v, missing %v", err, missing)
				}

				resetPeak(b)
				before := procKB(b, "VmRSS")
				d, err := New(Config{Words: words})
				if err != nil {
					b.Fatal(err)
				}
				defer func() { d.Close(); TrimHeap() }()
				model := procKB(b, "VmRSS")
				start := time.Now()
				// A fresh grammar, so the FSG's compilation is timed too.
				g, err = intents.Load(gr.file)
				if err != nil {
					b.Fatal(err)
				}
				if form == "jsgf" {
					err = d.SetJSGF("cmd", g.JSGF(""), intents.GrammarName+"."+intents.RuleCommand)
				} else {
					var f *intents.FSG
					if f, err = g.CommandFSG(); err == nil {
						err = d.SetFSG("cmd", f)
					}
				}
				if err != nil {
					b.Fatal(err)
				}
				setup := time.Since(start)
				states, transitions, err := d.FSGSize("cmd")
				if err != nil {
					b.Fatal(err)
				}

				decodeTimed(b, d, pcms, seconds)
				peak := procKB(b, "VmHWM")
				b.ReportMetric(float64(peak-before)/1024, "rss-MB")
				b.ReportMetric(float64(peak-model)/1024, "search-MB")
				b.ReportMetric(float64(setup.Microseconds())/1000, "setup-ms")
				b.ReportMetric(float64(states), "states")
				b.ReportMetric(float64(transitions), "transitions")
			})
		}
	}
}

// BenchmarkGrammarSize decodes the coffee commands with the coffee
// grammar grown two ways, to show what a grammar's size costs the search
// (the reason for intents.LargeStates and LargeTransitions): more states
// (extra intents of six dictionary words each, which share little) and
// more transitions out of the same states (extra drinks). Metrics as in
// BenchmarkGrammarSearch; search-MB here is the decoder's alone.
//
//	go test -run '^$' -bench GrammarSize -benchtime 2x ./audio/sphinx
func BenchmarkGrammarSize(b *testing.B) {
	if _, err := os.Stat(DictionaryPath("")); err != nil {
		b.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	coffee, err := os.ReadFile("../corpus/coffee.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dict, err := LoadDictionary(DictionaryPath(""))
	if err != nil {
		b.Fatal(err)
	}
	var plain []string
	for w := range dict {
		if len(w) > 3 && strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") == "" {
			plain = append(plain, w)
		}
	}
	slices.Sort(plain)
	quoted := func(ws []string) string {
		return `"` + strings.Join(ws, `", "`) + `"`
	}
	grow := map[string]func(k int) string{
		"states": func(k int) string {
			var b strings.Builder
			b.WriteString(string(coffee) + "  other:\n")
			for i := range k {
				b.WriteString(`    - "` + strings.Join(plain[6*i:6*i+6], " ") + "\"\n")
			}
			return b.String()
		},
		"transitions": func(k int) string {
			return strings.Replace(string(coffee), `coffeeDrink: [`, `coffeeDrink: [`+quoted(plain[:k])+`, `, 1)
		},
	}
	for _, how := range []string{"states", "transitions"} {
		for _, k := range []int{1, 100, 300, 1000} {
			b.Run(fmt.Sprintf("%s/%d", how, k), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				g, err := intents.Parse([]byte(grow[how](k)), "grown.yaml")
				if err != nil {
					b.Fatal(err)
				}
				f, err := g.CommandFSG()
				if err != nil {
					b.Fatal(err)
				}
				pcms, seconds := commandAudio(b, "coffee", benchGrammars[0].commands)
				words, missing, err := LookupWords(DictionaryPath(""), g.Words())
				if err != nil || len(missing) > 0 {
					b.Fatalf("lookup: %v, missing %v", err, missing)
				}
				d, err := New(Config{Words: words})
				if err != nil {
					b.Fatal(err)
				}
				defer func() { d.Close(); TrimHeap() }()
				resetPeak(b)
				model := procKB(b, "VmRSS")
				if err := d.SetFSG("cmd", f); err != nil {
					b.Fatal(err)
				}
				decodeTimed(b, d, pcms, seconds)
				b.ReportMetric(float64(procKB(b, "VmHWM")-model)/1024, "search-MB")
				b.ReportMetric(float64(f.Size().States), "states")
				b.ReportMetric(float64(f.Size().Transitions), "transitions")
			})
		}
	}
}
