package wakeword

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/earshot/earshot/audio/embedding"
)

// ReadONNX reads an openWakeWord head (the .onnx file of a model such as
// hey_jarvis_v0.1): Flatten, then Gemm layers, each but the last followed
// by a ReLU, perhaps after a layer normalisation spelt out as ReduceMean,
// Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add; a Sigmoid at the end.
// Anything after the Sigmoid (hey_jarvis's verifier branch) is left out.
// earshot ships none of openWakeWord's heads (they are CC BY-NC-SA); a
// user may point wake.head at one. The phrase is taken from the file
// name ("hey_jarvis_v0.1.onnx" is "hey jarvis"); threshold is the score
// that counts as the phrase, openWakeWord's default 0.5 when 0.
func ReadONNX(path string, threshold float32) (*Head, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wakeword: %w", err)
	}
	g, err := embedding.ReadONNX(b)
	if err != nil {
		return nil, fmt.Errorf("wakeword: %s: %w", path, err)
	}
	if threshold == 0 {
		threshold = 0.5
	}
	h := &Head{Phrase: phraseOf(path), Threshold: threshold, Sure: threshold, Trained: "openWakeWord head " + filepath.Base(path)}
	nodes := g.Nodes()
	bad := func(i int, format string, args ...any) (*Head, error) {
		return nil, fmt.Errorf("wakeword: %s: node %d (%s): %s", path, i+1, nodes[i].Op, fmt.Sprintf(format, args...))
	}
	if len(nodes) == 0 || nodes[0].Op != "Flatten" {
		return nil, fmt.Errorf("wakeword: %s: not an openWakeWord head (no Flatten first)", path)
	}
	in := 0
	for i := 1; i < len(nodes); i++ {
		n := nodes[i]
		switch n.Op {
		case "Gemm":
			if len(n.Inputs) != 3 || n.Ints["transB"] == nil || n.Ints["transB"][0] != 1 {
				return bad(i, "only Gemm with transB=1 and a bias is known")
			}
			wd, w, ok := g.Tensor(n.Inputs[1])
			_, b, okb := g.Tensor(n.Inputs[2])
			if !ok || !okb || len(wd) != 2 || int(wd[0]) != len(b) {
				return bad(i, "weights %v and %d biases", wd, len(b))
			}
			if in == 0 {
				in = int(wd[1])
				if in%embedding.Dim != 0 {
					return bad(i, "%d inputs is not a whole number of embeddings", in)
				}
				h.Window = in / embedding.Dim
			}
			if int(wd[1]) != in {
				return bad(i, "%d inputs, the layer before gives %d", wd[1], in)
			}
			h.Layers = append(h.Layers, Dense{In: in, Out: int(wd[0]), W: w, B: b})
			in = int(wd[0])
		case "ReduceMean", "Sub", "Pow", "Add", "Sqrt", "Div", "Constant":
			// The parts of a layer normalisation; its scale and shift
			// are the Mul and Add with per-unit tensors, below.
			if n.Op == "Add" {
				if _, beta, ok := g.Tensor(input(n, 1)); ok && len(beta) == in && in > 1 {
					l := &h.Layers[len(h.Layers)-1]
					l.Beta = beta
				}
			}
		case "Mul":
			_, gamma, ok := g.Tensor(input(n, 1))
			if !ok || len(gamma) != in || len(h.Layers) == 0 {
				return bad(i, "not a layer normalisation's scale")
			}
			h.Layers[len(h.Layers)-1].Gamma = gamma
		case "Relu":
		case "Sigmoid":
			if in != 1 || len(h.Layers) == 0 {
				return bad(i, "a sigmoid of %d values", in)
			}
			for k, l := range h.Layers {
				if (l.Gamma == nil) != (l.Beta == nil) {
					return nil, fmt.Errorf("wakeword: %s: layer %d: a normalisation without its scale or shift", path, k+1)
				}
			}
			return h, nil
		default:
			return bad(i, "not part of an openWakeWord head")
		}
	}
	return nil, fmt.Errorf("wakeword: %s: no Sigmoid: not an openWakeWord head", path)
}

func input(n embedding.Node, i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// phraseOf names the phrase of an openWakeWord model file.
func phraseOf(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if i := strings.Index(name, "_v"); i > 0 {
		name = name[:i]
	}
	return strings.ReplaceAll(name, "_", " ")
}
