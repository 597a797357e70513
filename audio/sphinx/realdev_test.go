//go:build cgo && !nopocketsphinx

package sphinx

import (
	"bufio"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/earshot/earshot/audio/intents"
	"github.com/earshot/earshot/audio/sphinx/sphinxtest"
)

var realDev = flag.String("realdev", "", "directory of the recorded real-dev corpus: decode its coffee orders with the coffee grammar as JSGF and as FSG")

// TestRealDevCoffeeOrders decodes the recorded coffee orders of real-dev
// (about 30 minutes of audio: minutes of CPU as JSGF) with the coffee
// context's command grammar as JSGF and as the minimal FSG, on two
// decoders fed the same audio, and reports how often the hypotheses agree,
// the intent-and-slots accuracy of each, and their CPU. It runs only with
// -realdev DIR; the labels are read, never learnt from.
func TestRealDevCoffeeOrders(t *testing.T) {
	if *realDev == "" {
		t.Skip("no -realdev DIR")
	}
	f, err := os.Open(filepath.Join(*realDev, "labels.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := intents.Load("../corpus/coffee.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fsg, err := g.CommandFSG()
	if err != nil {
		t.Fatal(err)
	}
	dj, df := grammarDecoder(t), grammarDecoder(t)
	if err := dj.SetJSGF("cmd", g.JSGF(""), intents.GrammarName+"."+intents.RuleCommand); err != nil {
		t.Fatal(err)
	}
	if err := df.SetFSG("cmd", fsg); err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var n, same, rightJ, rightF int
	var cpuJ, cpuF time.Duration
	var seconds float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 5 || c[1] != "command" {
			continue
		}
		want := map[string]string{}
		for _, kv := range strings.Split(c[4], ";") {
			k, v, _ := strings.Cut(kv, "=")
			want[k] = v
		}
		pcm := sphinxtest.Load(t, filepath.Join(*realDev, c[0]), 0, 0)
		seconds += float64(len(pcm)) / 16000
		start := threadCPU()
		hj, _ := decode(t, dj, "cmd", pcm)
		mid := threadCPU()
		hf, _ := decode(t, df, "cmd", pcm)
		cpuJ, cpuF = cpuJ+mid-start, cpuF+threadCPU()-mid
		n++
		if hj == hf {
			same++
		} else {
			t.Logf("%s: JSGF %q, FSG %q", c[0], hj, hf)
		}
		right := func(hyp string) int {
			if m, ok := g.Match(hyp); ok && m.Intent == c[3] && maps.Equal(m.Slots, want) {
				return 1
			}
			return 0
		}
		rightJ += right(hj)
		rightF += right(hf)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d orders, %.0f s: same hypothesis %d; intent+slots right JSGF %d (%.3f), FSG %d (%.3f); cpu-rtf JSGF %.3f, FSG %.4f",
		n, seconds, same, rightJ, float64(rightJ)/float64(n), rightF, float64(rightF)/float64(n), cpuJ.Seconds()/seconds, cpuF.Seconds()/seconds)
}
