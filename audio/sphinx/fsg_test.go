//go:build cgo && !nopocketsphinx

package sphinx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
)

// The listener's verification grammar in both forms: as the JSGF
// audio/listen writes today and as an intents.Net. Garbage phones cost
// garbageProb each; the wake words compete with a sound-alike each, and
// the first may be left out.
var (
	garbagePhones = []string{"AA", "EY", "S", "T", "N", "R"}
	wakeAlikes    = [][2]string{{"hey", "say"}, {"jarvis", "marvin"}}
)

const (
	garbageProb = 1e-4
	alikeProb   = 1e-7
	missingProb = 1e-14
)

func garbageWord(p string) string { return "gbg_" + strings.ToLower(p) }

// jsgfWeight renders a weight as JSGF wants it: its lexer reads no exponents.
func jsgfWeight(w float64) string { return "/" + strconv.FormatFloat(w, 'f', -1, 64) + "/ " }

func verifyJSGF(g *intents.Grammar) string {
	var b strings.Builder
	b.WriteString(g.JSGF("hey jarvis"))
	b.WriteString("\n<wake_or_alike> =")
	for i, w := range wakeAlikes {
		b.WriteString(" (/1/ " + w[0] + " | " + jsgfWeight(alikeProb) + w[1])
		if i == 0 {
			b.WriteString(" | " + jsgfWeight(missingProb) + "<NULL>")
		}
		b.WriteString(")")
	}
	b.WriteString(";\npublic <listen> = [<garbage>] <wake_or_alike> (<command> | <garbage>) | <garbage>;\n")
	jsgfPhoneLoop(&b, "garbage", garbageProb)
	return b.String()
}

// jsgfPhoneLoop writes the rule <name>: one or more garbage phones, each
// of probability prob, as audio/listen writes it.
func jsgfPhoneLoop(b *strings.Builder, name string, prob float64) {
	b.WriteString("<" + name + "> = <" + name + "_phone>+;\n<" + name + "_phone> = ")
	for i, p := range garbagePhones {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(jsgfWeight(prob) + garbageWord(p))
	}
	b.WriteString(";\n")
}

// The listener's command search, which decodes again a candidate the
// verifier found no command in: the wake phrase, then a command or a
// garbage tail that costs tailProb a phone.
const tailProb = garbageProb / 25

func recoverJSGF(g *intents.Grammar) string {
	var b strings.Builder
	b.WriteString(g.JSGF("hey jarvis"))
	b.WriteString("\npublic <recover> = <wake> (<command> | <tail>);\n")
	jsgfPhoneLoop(&b, "tail", tailProb)
	return b.String()
}

func phoneLoop(prob float64) intents.Net {
	var phones []intents.Net
	for _, p := range garbagePhones {
		phones = append(phones, intents.Word(garbageWord(p), prob))
	}
	return intents.Repeat(intents.Alt(phones...))
}

func recoverNet(g *intents.Grammar) intents.Net {
	tail := phoneLoop(tailProb)
	// As in verification, PocketSphinx lets the tail come before the
	// command too.
	return intents.Seq(intents.Word("hey", 1), intents.Word("jarvis", 1),
		intents.Alt(intents.Seq(intents.Optional(tail), g.Commands()), tail))
}

func verifyNet(g *intents.Grammar) intents.Net {
	garbage := phoneLoop(garbageProb)
	var wake []intents.Net
	for i, w := range wakeAlikes {
		alts := []intents.Net{intents.Word(w[0], 1), intents.Word(w[1], alikeProb)}
		if i == 0 {
			alts = append(alts, intents.Empty(missingProb))
		}
		wake = append(wake, intents.Alt(alts...))
	}
	// PocketSphinx compiles the phone loop of (<command> | <garbage>) so
	// that it returns to where the command begins too: garbage may come
	// between the wake phrase and the command, and the listener counts on
	// it (see maxGap in audio/listen). The net says so explicitly.
	return intents.Alt(
		intents.Seq(intents.Optional(garbage), intents.Seq(wake...), intents.Alt(intents.Seq(intents.Optional(garbage), g.Commands()), garbage)),
		garbage)
}

// grammarCase is a grammar the decoder gets both ways.
type grammarCase struct {
	name string
	jsgf string
	rule string
	fsg  *intents.FSG
}

func grammarCases(t testing.TB, file string) []grammarCase {
	t.Helper()
	g, err := intents.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := g.CommandFSG()
	if err != nil {
		t.Fatal(err)
	}
	verify, err := intents.Compile(verifyNet(g))
	if err != nil {
		t.Fatal(err)
	}
	recover, err := intents.Compile(recoverNet(g))
	if err != nil {
		t.Fatal(err)
	}
	return []grammarCase{
		{"command", g.JSGF(""), intents.GrammarName + "." + intents.RuleCommand, cmd},
		{"verify", verifyJSGF(g), intents.GrammarName + ".listen", verify},
		{"recover", recoverJSGF(g), intents.GrammarName + ".recover", recover},
	}
}

// grammarFiles are the grammars the FSG tests decode with.
var grammarFiles = []string{"../corpus/intents.yaml", "../../configs/intents.yaml", "../corpus/coffee.yaml"}

// grammarWords looks up once the pronunciations of every word the FSG
// tests need: streaming the dictionary is slow under the race detector.
var grammarWords = sync.OnceValues(func() (Dictionary, error) {
	var want []string
	for _, file := range grammarFiles {
		g, err := intents.Load(file)
		if err != nil {
			return nil, err
		}
		want = append(want, g.Words()...)
	}
	for _, w := range wakeAlikes {
		want = append(want, w[:]...)
	}
	words, missing, err := LookupWords(DictionaryPath(""), want)
	if err == nil && len(missing) > 0 {
		err = fmt.Errorf("not in the dictionary: %v", missing)
	}
	for _, p := range garbagePhones {
		words[garbageWord(p)] = []string{p}
	}
	return words, err
})

// grammarDecoder makes a decoder that knows the words of the test
// grammars, the wake words and their sound-alikes, and the garbage phones.
func grammarDecoder(t testing.TB) *Decoder {
	t.Helper()
	if _, err := os.Stat(DictionaryPath("")); err != nil {
		t.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	words, err := grammarWords()
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Words: words})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// nfa is an FSG as a set of transitions, for reading both the library's
// JSGF expansion and a compiled FSG the same way.
type nfa struct {
	start, final int
	from         map[int][]fsgTransition
}

func newNFA(start, final int, trans []fsgTransition) nfa {
	a := nfa{start: start, final: final, from: map[int][]fsgTransition{}}
	for _, t := range trans {
		a.from[t.from] = append(a.from[t.from], t)
	}
	return a
}

func nfaOf(f *intents.FSG) nfa {
	var trans []fsgTransition
	f.EachTransition(func(from, to int, word string, logProb float64) {
		trans = append(trans, fsgTransition{from, to, word, logProb})
	})
	return newNFA(f.Start(), f.Final(), trans)
}

// closure adds the states null transitions reach; sorted, no repeats.
func (a nfa) closure(set []int) []int {
	seen := map[int]bool{}
	var out []int
	var visit func(s int)
	visit = func(s int) {
		if seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
		for _, t := range a.from[s] {
			if t.word == "" {
				visit(t.to)
			}
		}
	}
	for _, s := range set {
		visit(s)
	}
	slices.Sort(out)
	return out
}

func (a nfa) next(set []int) map[string][]int {
	out := map[string][]int{}
	for _, s := range set {
		for _, t := range a.from[s] {
			if t.word != "" {
				out[t.word] = append(out[t.word], t.to)
			}
		}
	}
	for w, to := range out {
		out[w] = a.closure(to)
	}
	return out
}

// sameLanguage explores both automata in step, word by word, from their
// start states (subset construction on both sides): they accept the same
// sentences exactly if at every pair of state sets reached by the same
// words both accept or both do not, and both can go on with the same
// words.
func sameLanguage(a, b nfa) error {
	type pair struct{ a, b []int }
	key := func(p pair) string { return fmt.Sprint(p.a, p.b) }
	first := pair{a.closure([]int{a.start}), b.closure([]int{b.start})}
	seen := map[string]bool{key(first): true}
	queue := []pair{first}
	paths := map[string]string{key(first): ""}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		k := key(p)
		if slices.Contains(p.a, a.final) != slices.Contains(p.b, b.final) {
			return fmt.Errorf("after %q one accepts and the other does not", paths[k])
		}
		na, nb := a.next(p.a), b.next(p.b)
		for w := range na {
			if _, ok := nb[w]; !ok {
				return fmt.Errorf("after %q only the first can say %q", paths[k], w)
			}
		}
		for w, to := range nb {
			from, ok := na[w]
			if !ok {
				return fmt.Errorf("after %q only the second can say %q", paths[k], w)
			}
			q := pair{from, to}
			if qk := key(q); !seen[qk] {
				if len(seen) > 200000 {
					return fmt.Errorf("more than 200000 state pairs")
				}
				seen[qk] = true
				paths[qk] = strings.TrimSpace(paths[k] + " " + w)
				queue = append(queue, q)
			}
		}
	}
	return nil
}

// score is the best log probability of a path saying words.
func (a nfa) score(words []string) (float64, bool) {
	relax := func(cur map[int]float64) {
		for changed := true; changed; {
			changed = false
			for s, p := range cur {
				for _, t := range a.from[s] {
					if old, ok := cur[t.to]; t.word == "" && (!ok || p+t.logProb > old+1e-12) {
						cur[t.to] = p + t.logProb
						changed = true
					}
				}
			}
		}
	}
	cur := map[int]float64{a.start: 0}
	relax(cur)
	for _, w := range words {
		next := map[int]float64{}
		for s, p := range cur {
			for _, t := range a.from[s] {
				if old, ok := next[t.to]; t.word == w && (!ok || p+t.logProb > old) {
					next[t.to] = p + t.logProb
				}
			}
		}
		relax(next)
		cur = next
	}
	p, ok := cur[a.final]
	return p, ok
}

// TestFSGIsTheJSGFLanguage compares each compiled FSG with the FSG
// PocketSphinx itself builds from the same grammar as JSGF: the same
// sentences exactly, and the same probability for each (to the precision
// of the library's log tables).
func TestFSGIsTheJSGFLanguage(t *testing.T) {
	d := grammarDecoder(t)
	for _, file := range grammarFiles {
		cases := grammarCases(t, file)
		for _, c := range cases {
			t.Run(file+" "+c.name, func(t *testing.T) {
				states, start, final, trans, err := d.jsgfFSG(c.jsgf, c.rule)
				if err != nil {
					t.Fatal(err)
				}
				ref, ours := newNFA(start, final, trans), nfaOf(c.fsg)
				if err := sameLanguage(ref, ours); err != nil {
					t.Fatalf("JSGF (%d states) and FSG (%d states) differ: %v", states, c.fsg.States(), err)
				}
				rng := rand.New(rand.NewPCG(22, 3))
				for range 200 {
					words := randomWalk(ours, rng)
					want, _ := ref.score(words)
					got, ok := ours.score(words)
					// Each transition's log probability is rounded to the
					// library's log base, 1.0001.
					if !ok || math.Abs(got-want) > 1e-4*float64(len(words)+2) {
						t.Errorf("%q: FSG log probability %v, JSGF %v", strings.Join(words, " "), got, want)
					}
				}
				t.Logf("JSGF %d states, %d transitions; FSG %+v", states, len(trans), c.fsg.Size())
			})
		}
	}
}

func randomWalk(a nfa, rng *rand.Rand) []string {
	var words []string
	for s := a.start; s != a.final; {
		out := a.from[s]
		t := out[rng.IntN(len(out))]
		if t.word != "" {
			words = append(words, t.word)
		}
		s = t.to
		if len(words) > 40 && slices.ContainsFunc(a.from[s], func(t fsgTransition) bool { return t.to == a.final }) {
			break // a loop may go on for ever; stop where it may end
		}
	}
	return words
}

// withoutGarbage drops the garbage phones from a hypothesis, as the
// listener does once it has counted them.
func withoutGarbage(hyp string) string {
	var words []string
	for _, w := range strings.Fields(hyp) {
		if !strings.HasPrefix(w, "gbg_") {
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}

// afterWake is what a hypothesis says after the wake phrase ("jarvis"),
// garbage phones set aside; all of it if there is no wake phrase.
func afterWake(hyp string) string {
	words := withoutGarbage(hyp)
	if _, after, ok := strings.Cut(" "+words+" ", " jarvis "); ok {
		return strings.TrimSpace(after)
	}
	return words
}

// utterance is a spoken test sentence.
type utterance struct {
	synth, voice string
	parts        []string // the command, with a one-second pause between parts
	whole        bool     // a whole command: the command search must hear it as said
	other        bool     // not a command: said without the wake phrase
}

func (u utterance) text() string { return strings.Join(u.parts, " ") }

// speak says the utterance, after the wake phrase if wake is set.
func (u utterance) speak(t testing.TB, wake bool) []int16 {
	var pcm []int16
	for i, p := range u.parts {
		if i > 0 {
			pcm = append(pcm, sphinxtest.Silence(1)...)
		}
		if i == 0 && wake && !u.other {
			p = "hey jarvis " + p
		}
		if u.synth == "espeak" {
			pcm = append(pcm, sphinxtest.Espeak(t, u.voice, p, 0.4, 0.4)...)
		} else {
			pcm = append(pcm, sphinxtest.Speak(t, u.voice, p, 0.4, 0.4)...)
		}
	}
	return pcm
}

// TestFSGDecodesAsJSGF decodes generated speech with each grammar as
// JSGF and as a compiled FSG. With the command grammar the hypotheses
// must be the same, and whole commands must come out as said. With the
// verification and recovery grammars, whose phone loops the two searches
// model differently, the commands must be the same, and where the
// hypotheses differ the FSG's must hold the whole wake phrase. (Of 36
// generated commands after "hey jarvis" the verification hypotheses
// differed in 27: the JSGF search's had a garbage phone before "hey" in
// 26 and no "hey" in one; the FSG search's were the words said in 33.)
// No segment may be a null transition. The utterances exercise what
// PocketSphinx adds to or requires of an FSG: a pause inside a command
// (its silence loops), a command that could go on ("an americano", which
// ends through a null transition into the final state), and one that
// stops short of any sentence (the final state is never reached).
func TestFSGDecodesAsJSGF(t *testing.T) {
	tests := []struct {
		file string
		utts []utterance
	}{
		{"../corpus/intents.yaml", []utterance{
			{synth: "flite", voice: "slt", parts: []string{"turn on the kitchen lights"}, whole: true},
			{synth: "flite", voice: "rms", parts: []string{"set a timer for", "five minutes"}, whole: true},
			{synth: "espeak", voice: "en-us", parts: []string{"play some jazz"}},
			{synth: "flite", voice: "awb", parts: []string{"turn on the"}},
			{synth: "flite", voice: "slt", parts: []string{"the weather was lovely on the coast"}, other: true},
		}},
		{"../corpus/coffee.yaml", []utterance{
			{synth: "flite", voice: "slt", parts: []string{"can i get a large dark roast latte with some soy milk"}, whole: true},
			{synth: "espeak", voice: "en-gb", parts: []string{"give me an americano"}},
		}},
	}
	for _, tt := range tests {
		cases := grammarCases(t, tt.file)
		// One decoder a search, fed the same audio: a decoder adapts its
		// cepstral mean and noise estimate from utterance to utterance,
		// so decoding one utterance twice on one decoder is two
		// different decodes.
		dj, df := grammarDecoder(t), grammarDecoder(t)
		for _, c := range cases {
			if err := dj.SetJSGF(c.name, c.jsgf, c.rule); err != nil {
				t.Fatal(err)
			}
			if err := df.SetFSG(c.name, c.fsg); err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range tt.utts {
			for _, c := range cases {
				if c.name == "recover" && tt.file == "../corpus/coffee.yaml" {
					continue // as verify, but a second slow JSGF decode
				}
				t.Run(fmt.Sprintf("%s %s %s %q", tt.file, c.name, u.voice, u.text()), func(t *testing.T) {
					pcm := u.speak(t, c.name != "command")
					want, _ := decode(t, dj, c.name, pcm)
					got, _ := decode(t, df, c.name, pcm)
					said := u.text()
					if c.name != "command" && !u.other {
						said = "hey jarvis " + said
					}
					switch {
					case got == want:
					case c.name == "command" && got == said:
						// The two searches give PocketSphinx different
						// cross-word contexts, so on a borderline
						// utterance they can part (as on 5 of the 325
						// real-dev orders). The FSG may differ only by
						// hearing what was said.
						t.Logf("JSGF heard %q", want)
					case c.name != "command" && afterWake(got) == afterWake(want) && (u.other || strings.HasPrefix(withoutGarbage(got), "hey jarvis")):
						// The searches differ in the garbage phones, and
						// in whether "hey" was heard, never in the command.
						t.Logf("JSGF heard %q", want)
					default:
						t.Errorf("FSG heard %q, JSGF %q", got, want)
					}
					if c.name == "command" && u.whole && got != said {
						t.Errorf("FSG heard %q, said %q", got, said)
					}
					var words []string
					for _, s := range df.Segments() {
						if s.Word == nullWord {
							t.Errorf("segment %+v is a null transition", s)
						}
						if !strings.HasPrefix(s.Word, "<") && !strings.HasPrefix(s.Word, "[") {
							w, _, _ := strings.Cut(s.Word, "(")
							words = append(words, w)
						}
					}
					if strings.Join(words, " ") != got {
						t.Errorf("segments say %q, the hypothesis %q", words, got)
					}
					t.Logf("heard %q", got)
				})
			}
		}
	}
}

// TestSetFSGErrors checks SetFSG refuses what the library would take
// badly, names the search, and leaves the decoder working.
func TestSetFSGErrors(t *testing.T) {
	d := newTestDecoder(t)
	tests := []struct {
		name string
		fsg  FSG
		want string
	}{
		{"unknown word", fakeFSG{3, 0, 2, []fsgTransition{{0, 1, "hey", 0}, {1, 2, "flibbertigibbetz", 0}}}, "flibbertigibbetz"},
		{"bad state", fakeFSG{2, 0, 1, []fsgTransition{{0, 7, "hey", 0}}}, "out of range"},
		{"bad probability", fakeFSG{2, 0, 1, []fsgTransition{{0, 1, "hey", 2}}}, "log probability 2"},
	}
	for _, tt := range tests {
		if err := d.SetFSG("x", tt.fsg); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"x"`) {
			t.Errorf("%s: err = %v, want %q naming the search", tt.name, err, tt.want)
		}
	}
	if _, _, err := d.FSGSize("x"); err == nil {
		t.Error("a refused FSG became a search")
	}
	if _, _, err := d.FSGSize("wake"); err == nil {
		t.Error("FSGSize of a keyword search: no error")
	}
	// The decoder still decodes with a good FSG, replacing the active search.
	g, err := intents.Compile(intents.Seq(intents.Word("hey", 1), intents.Word("jarvis", 1), intents.Alt(
		intents.Seq(intents.Word("set", 1), intents.Word("a", 1), intents.Word("timer", 1), intents.Word("for", 1), intents.Alt(intents.Word("two", 1), intents.Word("five", 1)), intents.Word("minutes", 1)),
		intents.Seq(intents.Alt(intents.Word("turn", 1), intents.Word("switch", 1)), intents.Alt(intents.Word("on", 1), intents.Word("off", 1)), intents.Word("the", 1), intents.Alt(intents.Word("kitchen", 1), intents.Word("bedroom", 1)), intents.Word("lights", 1)))))
	if err != nil {
		t.Fatal(err)
	}
	pcm := sphinxtest.Speak(t, "slt", "hey jarvis set a timer for five minutes", 0.3, 0.3)
	if err := d.SetSearch("cmd"); err != nil {
		t.Fatal(err)
	}
	if err := d.Process(pcm[:len(pcm)/2]); err != nil {
		t.Fatal(err)
	}
	if err := d.SetFSG("cmd", g); err != nil {
		t.Fatal(err)
	}
	if d.InUtt() {
		t.Error("the utterance of the replaced search is still running")
	}
	if hyp, _ := decode(t, d, "cmd", pcm); hyp != "hey jarvis set a timer for five minutes" {
		t.Errorf("after replacing the active search with an FSG: %q", hyp)
	}
	states, transitions, err := d.FSGSize("cmd")
	// The decoder adds a silence loop and a loop per filler to every
	// state, and a transition per alternative pronunciation.
	if err != nil || states != g.States() || transitions <= g.Size().Transitions+g.States() {
		t.Errorf("FSGSize = %d states, %d transitions, %v; compiled %+v", states, transitions, err, g.Size())
	}
	d.Close()
	if err := d.SetFSG("cmd", g); err == nil {
		t.Error("SetFSG on a closed decoder: no error")
	}
}

// TestFSGBeams: a search made with its own beams prunes by them, and the
// decoder's configuration is its own again afterwards: a search made
// after it with SetFSG keeps the sentence the narrow one lost.
func TestFSGBeams(t *testing.T) {
	d := newTestDecoder(t)
	const text = "hey jarvis turn on the kitchen lights"
	var ws []intents.Net
	for _, w := range strings.Fields(text) {
		ws = append(ws, intents.Word(w, 1))
	}
	f, err := intents.Compile(intents.Seq(ws...))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetFSGBeams("narrow", f, Beams{HMM: 0.5, Phone: 0.5, Word: 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := d.SetFSG("plain", f); err != nil {
		t.Fatal(err)
	}
	pcm := sphinxtest.Speak(t, "slt", text, 0.5, 0.5)
	if hyp, _ := decode(t, d, "narrow", pcm); hyp == text {
		t.Errorf("beams of 0.5 kept the whole sentence: the search did not take its own beams")
	}
	if hyp, _ := decode(t, d, "plain", pcm); hyp != text {
		t.Errorf("the decoder's own beams: %q, want %q", hyp, text)
	}
}
