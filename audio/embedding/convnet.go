package embedding

import (
	"fmt"
)

// The embedding model (embedding_model.onnx) is a stack of small
// convolutions over 76 mel frames × 32 bands: 3×1 kernels along time,
// 1×3 along the bands, each followed by max(leaky ReLU, floor), and 2×2
// or 1×2 max pooling; 96 channels of 1×1 come out. Time is never padded,
// so a row of any layer depends only on a fixed span of input frames,
// and pooling along time halves the rate three times: moving the window
// by 8 frames moves every layer by a whole number of rows. A Stream
// therefore keeps each layer's rows and computes only the new ones, an
// eighth of the work of the whole window.
const (
	// WindowFrames is the mel frames one embedding hears (0.775 s of audio).
	WindowFrames = 76
	// Dim is the size of an embedding.
	Dim = 96
	// StepFrames is the mel frames between two embeddings (80 ms).
	StepFrames = ChunkFrames
)

type layerKind int

const (
	convLayer layerKind = iota
	poolLayer
)

// layer is one convolution (with its activation) or pooling.
type layer struct {
	kind   layerKind
	kh, kw int // kernel (pooling: window and stride)
	// padL, padR pad the bands (never time) with zeros.
	padL, padR int
	cin, cout  int
	// w is [kh][kw][cin][cout]; bias is [cout]; nil for the last layer.
	w, bias []float32
	// act is max(leaky ReLU, floor), nil for none.
	act *activation
	// Sizes: rows × width × channels in and out, and the rows a window
	// step adds to the output.
	inRows, inW, outRows, outW, step int
	// keep is how many rows before the new ones the next layer reads
	// again when the window steps: only those move (see forward).
	keep int
}

// convNet is the embedding model.
type convNet struct {
	layers []layer
}

func loadConvNet(g *graph) (*convNet, error) {
	nodes := g.nodes
	if len(nodes) < 3 || nodes[0].op != "Reshape" || nodes[len(nodes)-1].op != "Reshape" {
		return nil, fmt.Errorf("not the speech_embedding graph: %d nodes", len(nodes))
	}
	if s := g.tensors[input(nodes[0], 1)]; len(s.ints) != 4 || s.ints[1] != 1 || s.ints[2] != WindowFrames || s.ints[3] != Bands {
		return nil, fmt.Errorf("the input is reshaped to %v, want [-1 1 %d %d]", s.ints, WindowFrames, Bands)
	}
	net := &convNet{}
	rows, width, ch, step := WindowFrames, Bands, 1, StepFrames
	for i := 1; i < len(nodes)-1; i++ {
		n := nodes[i]
		where := fmt.Sprintf("node %d (%s)", i+1, n.op)
		switch n.op {
		case "Conv":
			w, ok := g.tensors[input(n, 1)]
			if !ok || len(w.dims) != 4 || int(w.dims[1]) != ch {
				return nil, fmt.Errorf("%s: weights %v for %d channels in", where, w.dims, ch)
			}
			cout, kh, kw := int(w.dims[0]), int(w.dims[2]), int(w.dims[3])
			if !ints(n, "kernel_shape", int64(kh), int64(kw)) || !ones(n, "strides") || !ones(n, "dilations") {
				return nil, fmt.Errorf("%s: only stride 1, dilation 1 convolutions are known", where)
			}
			if g := n.attrs["group"]; g.isSet && g.i != 1 {
				return nil, fmt.Errorf("%s: grouped convolution", where)
			}
			l := layer{kind: convLayer, kh: kh, kw: kw, cin: ch, cout: cout, inRows: rows, inW: width, step: step}
			if p := n.attrs["pads"].ints; len(p) > 0 {
				if len(p) != 4 || p[0] != 0 || p[2] != 0 || p[1] < 0 || p[3] < 0 || p[1] >= int64(kw) || p[3] >= int64(kw) {
					return nil, fmt.Errorf("%s: pads %v: time must not be padded", where, p)
				}
				l.padL, l.padR = int(p[1]), int(p[3])
			}
			l.w = make([]float32, kh*kw*ch*cout)
			for co := 0; co < cout; co++ {
				for ci := 0; ci < ch; ci++ {
					for y := 0; y < kh; y++ {
						for x := 0; x < kw; x++ {
							l.w[((y*kw+x)*ch+ci)*cout+co] = w.data[((co*ch+ci)*kh+y)*kw+x]
						}
					}
				}
			}
			if len(n.inputs) > 2 {
				b, ok := g.tensors[input(n, 2)]
				if !ok || !b.shape(cout) {
					return nil, fmt.Errorf("%s: bias %v, want [%d]", where, b.dims, cout)
				}
				l.bias = b.data
			} else {
				l.bias = make([]float32, cout)
			}
			l.outRows, l.outW = rows-kh+1, width+l.padL+l.padR-kw+1
			if l.outRows < 1 || l.outW < 1 {
				return nil, fmt.Errorf("%s: nothing left of %d×%d", where, rows, width)
			}
			// LeakyRelu then Max with a constant is the activation.
			if i+2 < len(nodes)-1 && nodes[i+1].op == "LeakyRelu" && nodes[i+2].op == "Max" {
				floor, ok := scalar(g, input(nodes[i+2], 1))
				if !ok {
					return nil, fmt.Errorf("node %d: Max without a constant", i+3)
				}
				l.act = &activation{alpha: nodes[i+1].attrs["alpha"].f, floor: floor}
				i += 2
			}
			net.layers = append(net.layers, l)
			rows, width, ch = l.outRows, l.outW, cout
		case "MaxPool":
			k := n.attrs["kernel_shape"].ints
			if len(k) != 2 || !ints(n, "strides", k...) || !zeros(n, "pads") {
				return nil, fmt.Errorf("%s: only pooling with stride = window is known", where)
			}
			kh, kw := int(k[0]), int(k[1])
			if kh < 1 || kw < 1 || step%kh != 0 {
				return nil, fmt.Errorf("%s: a %d-frame step does not move %d×%d pooling by whole rows", where, step, kh, kw)
			}
			l := layer{kind: poolLayer, kh: kh, kw: kw, cin: ch, cout: ch, inRows: rows, inW: width,
				outRows: rows / kh, outW: width / kw, step: step / kh}
			if l.outRows < 1 || l.outW < 1 {
				return nil, fmt.Errorf("%s: nothing left of %d×%d", where, rows, width)
			}
			net.layers = append(net.layers, l)
			rows, width, step = l.outRows, l.outW, l.step
		default:
			return nil, fmt.Errorf("%s: not part of the known embedding graph", where)
		}
	}
	if rows != 1 || width != 1 || ch != Dim {
		return nil, fmt.Errorf("the graph gives %d×%d×%d, want 1×1×%d", rows, width, ch, Dim)
	}
	for i := range len(net.layers) - 1 {
		l, next := &net.layers[i], &net.layers[i+1]
		// The next layer's new rows read its input from row first on.
		first := next.outRows - next.step
		if next.kind == poolLayer {
			first *= next.kh
		}
		l.keep = next.inRows - first - l.step
		if l.keep < 0 || l.keep > l.outRows-l.step {
			return nil, fmt.Errorf("layer %d: a step reads %d rows of its %d", i+1, next.inRows-first, l.outRows)
		}
	}
	if s := g.tensors[input(nodes[len(nodes)-1], 1)]; len(s.ints) != 4 || s.ints[3] != Dim {
		return nil, fmt.Errorf("the output is reshaped to %v, want [-1 1 1 %d]", s.ints, Dim)
	}
	return net, nil
}

// activations are a convNet's per-layer outputs for one window.
type activations [][]float32

func (net *convNet) newActivations() activations {
	a := make(activations, len(net.layers))
	for i, l := range net.layers {
		a[i] = make([]float32, l.outRows*l.outW*l.cout)
	}
	return a
}

// forward computes the layers for the window in mel (WindowFrames ×
// Bands). With incremental set, a holds the previous window's layers,
// StepFrames earlier: each layer computes only its new rows, at the end,
// after moving there the rows before them that the next layer's new rows
// read (keep). Older rows are left as they were, read by nothing. The
// embedding is the last layer's output.
func (net *convNet) forward(mel []float32, a activations, incremental bool) []float32 {
	in := mel
	for i := range net.layers {
		l := &net.layers[i]
		out := a[i]
		from := 0
		if incremental {
			rowSize := l.outW * l.cout
			from = l.outRows - l.step
			copy(out[(from-l.keep)*rowSize:from*rowSize], out[(l.outRows-l.keep)*rowSize:])
		}
		if l.kind == convLayer {
			l.conv(in, out, from)
		} else {
			l.pool(in, out, from)
		}
		in = out
	}
	return in
}

// conv computes output rows from.. of a convolution: each output
// position starts from the bias and takes the products of the kernel's
// rows that fall inside the input, in one call (see accumulate); four
// rows of a column at a time where a kernel can (see accumulate4).
func (l *layer) conv(in, out []float32, from int) {
	inRow, outRow := l.inW*l.cin, l.outW*l.cout
	tap := l.cin * l.cout
	four := canAccumulate4(l.cout, l.act)
	var tp taps
	tp.wStride, tp.pxStride, tp.rows = l.kw*tap, inRow, l.kh
	for x := 0; x < l.outW; x++ {
		// The kernel columns that fall inside the bands are
		// neighbours in memory in every row, as are their weights.
		lo, hi := max(0, l.padL-x), min(l.kw, l.inW+l.padL-x)
		xi := x + lo - l.padL
		tp.run = (hi - lo) * l.cin
		tp.w = l.w[lo*tap:]
		for t := from; t < l.outRows; {
			acc := out[t*outRow+x*l.cout:]
			if lo >= hi {
				copy(acc[:l.cout], l.bias)
				if l.act != nil {
					l.act.apply(acc[:l.cout])
				}
				t++
				continue
			}
			tp.px = in[t*inRow+xi*l.cin:]
			if four && t+4 <= l.outRows {
				for p := range 4 {
					copy(acc[p*outRow:][:l.cout], l.bias)
				}
				accumulate4(acc, l.cout, outRow, &tp, inRow, l.act)
				t += 4
				continue
			}
			copy(acc[:l.cout], l.bias)
			accumulate(acc[:l.cout], &tp, l.act)
			t++
		}
	}
}

// pool computes output rows from.. of a max pooling.
func (l *layer) pool(in, out []float32, from int) {
	c := l.cin
	for t := from; t < l.outRows; t++ {
		for x := 0; x < l.outW; x++ {
			dst := out[(t*l.outW+x)*c : (t*l.outW+x+1)*c]
			for y := 0; y < l.kh; y++ {
				for dx := 0; dx < l.kw; dx++ {
					src := in[((t*l.kh+y)*l.inW+x*l.kw+dx)*c:][:c]
					if y == 0 && dx == 0 {
						copy(dst, src)
						continue
					}
					for k, v := range src {
						dst[k] = max(dst[k], v)
					}
				}
			}
		}
	}
}
