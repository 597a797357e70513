// Command train fits earshot's wake-word classifier (audio/wakenet) to
// generated corpora and writes the model the listener embeds.
//
//	bash audio/corpus/gen.sh /tmp/wake-train --train
//	go run ./audio/wakenet/train -config F -corpus /tmp/wake-train -out audio/wakenet/hey_jarvis.bin
//
// F is an earshot configuration (the wake phrase and intents file are
// what matter). Every file goes through the listener `earshot eval` uses,
// without a classifier; each hit of its keyword spotter becomes an
// example: the first in a wake file is the wake phrase, every one in other
// audio is not (later hits in a wake file are left out: they may be
// either). A fifth of the files, chosen by name, is held back to choose
// the thresholds (see wakenet.Thresholds) and to report how well the net
// tells the two apart.
package main

import (
	"context"
	"encoding/gob"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/earshot/earshot/audio/capture"
	"github.com/earshot/earshot/audio/eval"
	"github.com/earshot/earshot/audio/wakenet"
	"github.com/earshot/earshot/device/config"
)

type corpora []string

func (c *corpora) String() string     { return strings.Join(*c, ",") }
func (c *corpora) Set(v string) error { *c = append(*c, v); return nil }

func main() {
	var dirs corpora
	cfgPath := flag.String("config", "", "earshot configuration (wake phrase, intents)")
	flag.Var(&dirs, "corpus", "corpus directory with labels.tsv (repeatable)")
	out := flag.String("out", "", "model file to write")
	hidden := flag.Int("hidden", 32, "hidden units")
	epochs := flag.Int("epochs", 40, "passes over the examples")
	members := flag.Int("members", 3, "networks averaged")
	seed := flag.Uint64("seed", 1, "seed of the initial weights and the batches")
	flag.BoolVar(&reuse, "reuse", false, "reuse the candidates a previous run saved in each corpus ("+saved+")")
	flag.Parse()
	if *cfgPath == "" || len(dirs) == 0 || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*cfgPath, dirs, *out, wakenet.TrainOptions{Hidden: *hidden, Epochs: *epochs, Members: *members, Seed: *seed}); err != nil {
		log.Fatal(err)
	}
}

// candidate is one spotted hit of a file: the wakenet.ContextSamples of
// audio that end at the hit, silence first where the file began later.
// The audio is kept rather than the features, so that a change to the
// front end trains from the saved candidates without decoding again.
type candidate struct {
	File string
	Wake bool
	PCM  []int16
	Len  int // how much of PCM is the file's audio, not silence before it
}

// examples turns a candidate into the features the net learns from:
// x, one window per shift, and for a wake phrase early, the phrase cut
// short ("hey jar"), which is not the wake phrase.
func (c *candidate) examples(fe *wakenet.Frontend) (x [][]float32, early []float32) {
	for _, s := range shifts {
		if c.Len-s*wakenet.ShiftSamples < wakenet.WindowSamples/2 {
			break
		}
		x = append(x, fe.Features(make([]float32, wakenet.Inputs), c.PCM[:len(c.PCM)-s*wakenet.ShiftSamples]))
	}
	if c.Wake && c.Len-earlyShift*wakenet.ShiftSamples >= wakenet.WindowSamples/2 {
		early = fe.Features(make([]float32, wakenet.Inputs), c.PCM[:len(c.PCM)-earlyShift*wakenet.ShiftSamples])
	}
	return x, early
}

// reuse reads a corpus's candidates from the file saved, where an earlier
// run left them, instead of decoding the corpus again.
var reuse bool

const saved = ".wakenet-audio.gob"

func run(cfgPath string, dirs []string, out string, opts wakenet.TrainOptions) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	cands, err := candidates(cfg, dirs)
	if err != nil {
		return err
	}
	var train, held []wakenet.Example
	var heldWake, heldOther []float32
	nwake := 0
	for _, c := range cands {
		if c.Wake {
			nwake++
		}
	}
	if nwake == 0 || nwake == len(cands) {
		return errors.New("train: the corpora need both wake phrases and other audio")
	}
	// Both kinds weigh the same in the loss.
	wWake := float32(len(cands)-nwake) / float32(nwake)
	fe := wakenet.NewFrontend()
	for _, c := range cands {
		w := float32(1)
		if c.Wake {
			w = wWake
		}
		xs, early := c.examples(fe)
		if len(xs) == 0 {
			continue
		}
		if heldBack(c.File) {
			held = append(held, wakenet.Example{X: xs[0], Wake: c.Wake, Weight: w})
			continue
		}
		for _, x := range xs {
			train = append(train, wakenet.Example{X: x, Wake: c.Wake, Weight: w})
		}
		if early != nil {
			train = append(train, wakenet.Example{X: early, Weight: earlyWeight})
		}
	}
	log.Printf("%d candidates (%d wake phrases); %d training examples, %d held back", len(cands), nwake, len(train), len(held))
	net := wakenet.Train(train, cfg.Wake.Phrase, opts)
	sc := wakenet.NewScorer(net)
	for _, e := range held {
		s := sc.ScoreFeatures(e.X)
		if e.Wake {
			heldWake = append(heldWake, s)
		} else {
			heldOther = append(heldOther, s)
		}
	}
	scanWake, scanOther, err := scanHeld(sc, dirs)
	if err != nil {
		return err
	}
	net.Thresholds = wakenet.PickThresholds(heldWake, heldOther, scanOther)
	log.Printf("held back: %d wake phrases, %d other candidates, %d files of other audio; thresholds reject %.4f accept %.4f rescue %.4f scan %.4f",
		len(heldWake), len(heldOther), len(scanOther), net.Reject, net.Accept, net.Rescue, net.Scan)
	found := 0
	for _, s := range scanWake {
		if s >= net.Scan {
			found++
		}
	}
	fmt.Printf("scanning finds %d of %d held-back wake files; the highest other file scores %.4f\n", found, len(scanWake), wakenet.Quantile(scanOther, 1))
	for _, q := range []float64{0.97, 0.98, 0.99, 0.995, 0.998, 0.999} {
		th := wakenet.Quantile(scanOther, q)
		n := 0
		for _, s := range scanWake {
			if s > th {
				n++
			}
		}
		fmt.Printf("  above %.4f (%.1f %% of other files): %d wake files\n", th, 100*q, n)
	}
	fmt.Printf("held back: area under the ROC curve %.4f\n", auc(heldWake, heldOther))
	report("wake phrases", heldWake, net.Thresholds)
	report("other", heldOther, net.Thresholds)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := net.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// candidates decodes the corpora and returns every candidate of the
// keyword spotter. Each corpus's are saved in it for -reuse.
func candidates(cfg *config.Config, dirs []string) ([]candidate, error) {
	var all []candidate
	for _, dir := range dirs {
		path := filepath.Join(dir, saved)
		if reuse {
			if f, err := os.Open(path); err == nil {
				var cands []candidate
				err := gob.NewDecoder(f).Decode(&cands)
				f.Close()
				if err != nil {
					return nil, fmt.Errorf("train: %s: %w", path, err)
				}
				for i, c := range cands {
					if len(c.PCM) != wakenet.ContextSamples || c.Len < 0 || c.Len > len(c.PCM) {
						return nil, fmt.Errorf("train: %s: candidate %d (%s) has %d samples (%d of audio), want %d",
							path, i, c.File, len(c.PCM), c.Len, wakenet.ContextSamples)
					}
				}
				all = append(all, cands...)
				continue
			}
		}
		cands, err := decode(cfg, dir)
		if err != nil {
			return nil, err
		}
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := gob.NewEncoder(f).Encode(cands); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		all = append(all, cands...)
	}
	return all, nil
}

// decode runs a corpus through the listener and returns its candidates.
func decode(cfg *config.Config, dir string) ([]candidate, error) {
	kinds, err := kinds(dir)
	if err != nil {
		return nil, err
	}
	var cands []candidate
	seen := map[string]bool{}
	collect := func(file string, pcm []int16) {
		wake := kinds[file] == eval.KindWake
		if wake && seen[file] {
			return // a later hit in a wake file: it may be either
		}
		seen[file] = true
		n := min(len(pcm), wakenet.ContextSamples)
		c := candidate{File: filepath.Join(dir, file), Wake: wake, PCM: make([]int16, wakenet.ContextSamples), Len: n}
		copy(c.PCM[wakenet.ContextSamples-n:], pcm[len(pcm)-n:])
		cands = append(cands, c)
	}
	if _, err := eval.Run(context.Background(), cfg, dir, eval.Options{NoWakeNet: true, Candidates: collect}, io.Discard); err != nil {
		return nil, err
	}
	return cands, nil
}

// scanHeld scores every held-back file as the listener scans speech and
// returns each file's highest score, wake files and others apart.
func scanHeld(sc *wakenet.Scorer, dirs []string) (wake, other []float32, err error) {
	st := wakenet.NewStream()
	for _, dir := range dirs {
		kinds, err := kinds(dir)
		if err != nil {
			return nil, nil, err
		}
		for file, kind := range kinds {
			if !heldBack(file) {
				continue
			}
			f, err := os.Open(filepath.Join(dir, file))
			if err != nil {
				return nil, nil, err
			}
			pcm, _, err := capture.ReadWAV(f)
			f.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("train: %s: %w", filepath.Join(dir, file), err)
			}
			if s := sc.ScanMax(st, pcm); kind == eval.KindWake {
				wake = append(wake, s)
			} else {
				other = append(other, s)
			}
		}
	}
	return wake, other, nil
}

// shifts are how many wakenet.ShiftSamples each training window ends
// before the spotter fired: the hit comes a little earlier or later from
// one utterance to the next.
var shifts = []int{0, 2, 4}

// earlyShift is how many wakenet.ShiftSamples before the hit the window of
// a wake phrase cut short ends, and earlyWeight its weight against an
// other candidate's.
const (
	earlyShift  = 30
	earlyWeight = 0.5
)

// heldBack reports whether a file is held back from training.
func heldBack(file string) bool {
	h := fnv.New32a()
	h.Write([]byte(filepath.Base(file)))
	return h.Sum32()%5 == 0
}

func kinds(dir string) (map[string]string, error) {
	path := filepath.Join(dir, "labels.tsv")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	labels, err := eval.ParseLabels(f, path)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(labels))
	for _, lb := range labels {
		m[lb.File] = lb.Kind
	}
	return m, nil
}

func report(what string, scores []float32, t wakenet.Thresholds) {
	var below, gated, above int
	for _, s := range scores {
		switch {
		case s < t.Reject:
			below++
		case s < t.Accept:
			gated++
		}
		if s >= t.Rescue {
			above++
		}
	}
	fmt.Printf("%-13s %5d: %4d below reject, %4d below accept, %4d at or above rescue\n", what, len(scores), below, below+gated, above)
}

// auc is the probability that a wake phrase scores above an other
// candidate (ties count half).
func auc(wake, other []float32) float64 {
	if len(wake) == 0 || len(other) == 0 {
		return 0
	}
	var sum float64
	for _, w := range wake {
		for _, o := range other {
			switch {
			case w > o:
				sum++
			case w == o:
				sum += 0.5
			}
		}
	}
	return sum / float64(len(wake)*len(other))
}
