// Command realdev builds the corpora of `make eval-real` from recorded
// people (../shared/speech/real-dev): every clip, then a pause, then a
// generated command of the intents grammar, so that one set of WAV files
// measures every wake phrase. For a phrase P, P's keyword clips are the
// wake files, its clips without a command the bare ones (which must
// never act), and every other clip the other files (a command without the
// wake phrase must never act). Another keyword that holds P ("hey
// computer" for "computer") is neither: a device called computer that
// acts on "hey computer, turn on the lights" does what it was asked.
//
//	go run ./audio/eval/realdev -real ../shared/speech/real-dev -intents audio/corpus/intents.yaml -out .cache/eval-real
//	go run ./audio/eval/realdev -report -earshot bin/earshot -out .cache/eval-real -heads .cache/heads
//
// It writes OUT/clips/*.wav, and for each phrase whose words the
// pronunciation dictionary knows, OUT/<phrase>/labels.tsv (with a link
// to the clips). The coffee orders of real-dev go into OUT/commands-SNR
// (see buildCommands): issue 22's measure of the command stage. The pause after the keyword is short (0.05–0.3 s: the
// command follows at once) for half the clips and 0.3–3 s for the
// others, as people pause after a wake word. Nothing here is trained on.
//
// With -report it runs `earshot eval` on each phrase's corpus (training
// the phrase's head first with `earshot wake-train` if -heads has none,
// from generated speech only) and prints one line per phrase, then the
// totals, in the form make eval-real promises:
//
//	phrase=jarvis recall=0.960 fa_per_hour=0.00 intent_acc=0.955 rtf=0.012 rss_mb=38.1
//
// and, before them, one per noise condition of the coffee orders:
//
//	set=commands snr=24 intent_acc=0.950 rtf=0.020 rss_mb=41.0
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx"
	"github.com/earshot/earshot/audio/wakeword/train"
)

// commandVoices say the commands: voices PocketSphinx understands well,
// so that the figures measure the wake stage and the command stage on
// people, not the synthesiser.
var commandVoices = []train.Voice{{Engine: "flite", Name: "slt"}, {Engine: "flite", Name: "rms"}, {Engine: "flite", Name: "awb"}, {Engine: "flite", Name: "kal16"}}

type clip struct {
	file, kind, phrase, set string
	intent, slots           string
}

func main() {
	realDir := flag.String("real", "../shared/speech/real-dev", "the real-dev folder")
	intentsPath := flag.String("intents", "audio/corpus/intents.yaml", "the intents file of the commands")
	out := flag.String("out", ".cache/eval-real", "output folder")
	seed := flag.Uint64("seed", 2026, "seed of the commands and pauses")
	modelDir := flag.String("sphinx-models", sphinx.DefaultModelDir, "PocketSphinx model folder (its dictionary decides the phrases)")
	doReport := flag.Bool("report", false, "evaluate every phrase's corpus and print the figures")
	noise := flag.String("noise", "", "kitchen noise for the commands corpora (default: REAL/../noise/kitchen-a.flac)")
	coffee := flag.String("coffee", "audio/corpus/coffee.yaml", "the intents file of the coffee orders (with -report)")
	earshot := flag.String("earshot", "bin/earshot", "the earshot binary (with -report)")
	heads := flag.String("heads", ".cache/heads", "where the phrases' heads are kept (with -report)")
	models := flag.String("models", ".cache/models", "the speech embedding's model files (with -report)")
	withCommands := flag.Bool("commands", true, "with -report: measure the coffee orders too")
	only := flag.String("phrases", "", "with -report: only these phrases' corpora, comma-separated (a head takes a while to train)")
	secondOpinion := flag.Bool("second-opinion", false, "with -report: ask Moonshine too (wake.second_opinion)")
	flag.Parse()
	var err error
	if *doReport {
		err = report(context.Background(), reportOptions{earshot: *earshot, out: *out, heads: *heads, models: *models,
			intents: *intentsPath, coffee: *coffee, only: *only, withCommands: *withCommands, secondOpinion: *secondOpinion}, os.Stdout)
	} else {
		if *noise == "" {
			*noise = filepath.Join(filepath.Dir(filepath.Clean(*realDir)), "noise", "kitchen-a.flac")
		}
		err = run(context.Background(), *realDir, *intentsPath, *out, *modelDir, *noise, *seed)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, realDir, intentsPath, out, modelDir, noise string, seed uint64) error {
	clips, err := readLabels(filepath.Join(realDir, "labels.tsv"))
	if err != nil {
		return err
	}
	if err := buildCommands(ctx, realDir, noise, out, clips, seed); err != nil {
		return err
	}
	g, err := intents.Load(intentsPath)
	if err != nil {
		return err
	}
	var commands []intents.Sentence
	for _, s := range g.Sentences(1000) {
		if !intents.IsBuiltin(s.Match.Intent) {
			commands = append(commands, s)
		}
	}
	if len(commands) == 0 {
		return fmt.Errorf("%s: no commands", intentsPath)
	}
	clipDir := filepath.Join(out, "clips")
	if err := os.MkdirAll(clipDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "realdev-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	rng := rand.New(rand.NewPCG(seed, 7))
	cache := map[string][]int16{}
	type row struct {
		clip
		name, shape string
		cmd         intents.Sentence
	}
	var rows []row
	for i, c := range clips {
		cmd := commands[rng.IntN(len(commands))]
		v := commandVoices[rng.IntN(len(commandVoices))]
		pause := 0.05 + 0.25*rng.Float64()
		shape := "quick"
		if rng.Float64() < 0.5 {
			pause, shape = 0.3+2.7*rng.Float64(), "pause"
		}
		name := fmt.Sprintf("r%04d.wav", i+1)
		bare := fmt.Sprintf("b%04d.wav", i+1)
		rows = append(rows, row{c, name, shape, cmd})
		if c.kind == "keyword" {
			rows = append(rows, row{c, bare, "bare", intents.Sentence{}})
		}
		path := filepath.Join(clipDir, name)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		speech, err := decode(filepath.Join(realDir, c.file))
		if err != nil {
			return err
		}
		key := v.String() + "\t" + cmd.Text
		said, ok := cache[key]
		if !ok {
			pcm, err := train.Synthesize(ctx, tmp, []train.Utterance{{Voice: v, Text: cmd.Text, Stretch: 1}})
			if err != nil {
				return err
			}
			said = pcm[0]
			cache[key] = said
		}
		// The command at the level of the person's speech.
		gain := rms(speech) / math.Max(rms(said), 1)
		lead := make([]int16, 8000)
		wav := append(append(lead, speech...), make([]int16, int(pause*16000))...)
		for _, s := range said {
			wav = append(wav, int16(max(-32768, min(32767, math.Round(float64(s)*gain)))))
		}
		wav = append(wav, make([]int16, 16000)...)
		if err := writeWAV(path, wav); err != nil {
			return err
		}
		if c.kind == "keyword" {
			if err := writeWAV(filepath.Join(clipDir, bare), append(append(lead, speech...), make([]int16, 16000)...)); err != nil {
				return err
			}
		}
		if (i+1)%100 == 0 {
			fmt.Fprintf(os.Stderr, "%d/%d clips\n", i+1, len(clips))
		}
	}
	// The phrases whose words the dictionary knows.
	phrases := map[string]bool{}
	for _, c := range clips {
		if c.kind == "keyword" {
			phrases[c.phrase] = true
		}
	}
	var names []string
	for p := range phrases {
		names = append(names, p)
	}
	sort.Strings(names)
	dict := sphinx.DictionaryPath(modelDir)
	for _, p := range names {
		_, missing, err := sphinx.LookupWords(dict, strings.Fields(p))
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "phrase %q left out: %v not in %s\n", p, missing, dict)
			continue
		}
		dir := filepath.Join(out, strings.ReplaceAll(p, " ", "-"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		link := filepath.Join(dir, "clips")
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink("../clips", link); err != nil {
				return err
			}
		}
		f, err := os.Create(filepath.Join(dir, "labels.tsv"))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		fmt.Fprintf(w, "# real-dev with generated commands for the wake phrase %q (audio/eval/realdev)\n", p)
		fmt.Fprintln(w, "file\tkind\tintent\tslots\tset\tshape\tsource")
		for _, r := range rows {
			mine := r.kind == "keyword" && r.phrase == p
			switch {
			case r.shape == "bare" && mine:
				fmt.Fprintf(w, "clips/%s\tbare\t-\t-\tbare\tbare\t%s\n", r.name, r.set)
			case r.shape == "bare":
				// Another phrase's bare keyword: its clip with a command
				// is among the other files already.
			case mine:
				fmt.Fprintf(w, "clips/%s\twake\t%s\t%s\twake\t%s\t%s\n", r.name, r.cmd.Match.Intent, slots(r.cmd.Match.Slots), r.shape, r.set)
			case r.kind == "keyword" && holds(r.phrase, p):
				// The wake phrase was said, in a longer name: waking is
				// right, and not waking is not a miss of P's.
			default:
				fmt.Fprintf(w, "clips/%s\tother\t-\t-\t%s\t%s\t%s\n", r.name, r.kind, r.shape, r.set)
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func slots(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ";")
}

func readLabels(path string) ([]clip, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []clip
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		c := strings.Split(l, "\t")
		if i == 0 {
			continue
		}
		if len(c) < 6 {
			return nil, fmt.Errorf("%s:%d: %d columns", path, i+1, len(c))
		}
		out = append(out, clip{file: c[0], kind: c[1], phrase: c[2], intent: c[3], slots: c[4], set: c[5]})
	}
	return out, nil
}

// decode reads an audio file as 16 kHz mono samples (sox).
func decode(path string) ([]int16, error) {
	raw, err := exec.Command("sox", "-V1", path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", "16000", "-").Output()
	if err != nil {
		return nil, fmt.Errorf("sox %s: %w", path, err)
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return pcm, nil
}

// rms is the root mean square of the loudest half of pcm's 20 ms frames:
// the level of speech, whatever the silence around it.
func rms(pcm []int16) float64 {
	var e []float64
	for i := 0; i+320 <= len(pcm); i += 320 {
		s := 0.0
		for _, v := range pcm[i : i+320] {
			s += float64(v) * float64(v)
		}
		e = append(e, s/320)
	}
	if len(e) == 0 {
		return 0
	}
	sort.Float64s(e)
	s := 0.0
	for _, v := range e[len(e)/2:] {
		s += v
	}
	return math.Sqrt(s / float64(len(e)-len(e)/2))
}

func writeWAV(path string, pcm []int16) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := capture.WriteWAV(w, pcm, 16000); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// holds reports whether phrase says p: p's words, in order and together,
// are words of phrase.
func holds(phrase, p string) bool {
	return strings.Contains(" "+strings.Join(strings.Fields(phrase), " ")+" ", " "+strings.Join(strings.Fields(p), " ")+" ")
}
