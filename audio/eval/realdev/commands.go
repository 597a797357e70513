package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/earshot/earshot/audio/wakeword/train"
)

// SNRs of the commands in kitchen noise, as the speech-to-intent
// benchmark mixes them; "clean" is the recording as it is.
var snrs = []string{"clean", "24", "12", "6"}

// buildCommands writes the commands corpora: each real coffee order of
// real-dev, untrimmed (the speaker's own silence before the order is how
// people pause after a wake word), after a generated "hey jarvis", clean
// and in kitchen noise at 24, 12 and 6 dB (speech RMS over noise RMS, the
// benchmark's src/mix.py), into OUT/commands-SNR/labels.tsv with the
// clips in OUT/commands-clips.
func buildCommands(ctx context.Context, realDir, noisePath, out string, clips []clip, seed uint64) error {
	dir := filepath.Join(out, "commands-clips")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	noise, err := decode(noisePath)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "realdev-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	wake := map[train.Voice][]int16{}
	rng := rand.New(rand.NewPCG(seed, 22))
	labels := map[string]*strings.Builder{}
	for _, snr := range snrs {
		labels[snr] = &strings.Builder{}
		fmt.Fprintf(labels[snr], "# real-dev coffee orders after a generated \"hey jarvis\", %s (audio/eval/realdev)\n", snr)
		fmt.Fprintln(labels[snr], "file\tkind\tintent\tslots\tset\tsnr")
	}
	n := 0
	for i, c := range clips {
		if c.kind != "command" {
			continue
		}
		n++
		v := commandVoices[rng.IntN(len(commandVoices))]
		offset := rng.IntN(len(noise))
		if wake[v] == nil {
			pcm, err := train.Synthesize(ctx, tmp, []train.Utterance{{Voice: v, Text: "hey jarvis", Stretch: 1}})
			if err != nil {
				return err
			}
			wake[v] = pcm[0]
		}
		order, err := decode(filepath.Join(realDir, c.file))
		if err != nil {
			return err
		}
		// "hey jarvis" at the level of the person's speech, then the
		// order as recorded.
		gain := rms(order) / math.Max(rms(wake[v]), 1)
		speech := make([]float64, 0, 8000+len(wake[v])+len(order)+16000)
		speech = append(speech, make([]float64, 8000)...)
		for _, s := range wake[v] {
			speech = append(speech, float64(s)*gain)
		}
		for _, s := range order {
			speech = append(speech, float64(s))
		}
		speech = append(speech, make([]float64, 16000)...)
		orderRMS := plainRMS(order)
		for _, snr := range snrs {
			name := fmt.Sprintf("c%04d-%s.wav", i+1, snr)
			path := filepath.Join(dir, name)
			if _, err := os.Stat(path); err != nil {
				mixed := make([]int16, len(speech))
				g := 0.0
				if snr != "clean" {
					var db float64
					fmt.Sscan(snr, &db)
					g = orderRMS / math.Max(plainRMS(noise), 1) / math.Pow(10, db/20)
				}
				for k, s := range speech {
					v := s + g*float64(noise[(offset+k)%len(noise)])
					mixed[k] = int16(max(-32768, min(32767, math.Round(v))))
				}
				if err := writeWAV(path, mixed); err != nil {
					return err
				}
			}
			fmt.Fprintf(labels[snr], "clips/%s\twake\t%s\t%s\tcommand\t%s\n", name, c.intent, c.slots, snr)
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: no command clips", realDir)
	}
	for _, snr := range snrs {
		d := filepath.Join(out, "commands-"+snr)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		link := filepath.Join(d, "clips")
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink("../commands-clips", link); err != nil {
				return err
			}
		}
		f, err := os.Create(filepath.Join(d, "labels.tsv"))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		w.WriteString(labels[snr].String())
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// plainRMS is the root mean square of all of pcm.
func plainRMS(pcm []int16) float64 {
	s := 0.0
	for _, v := range pcm {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / math.Max(float64(len(pcm)), 1))
}
