package eval

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/earshot/earshot/device/config"
)

var (
	corpusDir   = flag.String("corpus", "", "evaluate this generated corpus (DIR/labels.tsv) and print the report")
	corpusSens  = flag.String("sensitivity", "", "override wake.sensitivity for -corpus")
	corpusBase  = flag.Bool("baseline-kws", false, "with -corpus: measure plain keyword spotting")
	corpusFiles = flag.Bool("per-file", false, "with -corpus: list every file")
	corpusBy    = flag.String("by", "", "with -corpus: break the figures down by these labels.tsv columns, comma-separated")
)

// TestCorpus runs a full evaluation on demand:
//
//	go test ./audio/eval -run TestCorpus -corpus /tmp/corpus -v
func TestCorpus(t *testing.T) {
	if *corpusDir == "" {
		t.Skip("no -corpus given")
	}
	cfg := config.Default()
	cfg.Speech.Intents = filepath.Join("..", "corpus", "intents.yaml")
	if *corpusSens != "" {
		s, err := strconv.ParseFloat(*corpusSens, 64)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Wake.Sensitivity = s
	}
	res, err := Run(context.Background(), cfg, *corpusDir, Options{BaselineKWS: *corpusBase, PerFile: *corpusFiles, By: Columns(*corpusBy)}, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
}
