package embedding

// Graph is an ONNX graph as this package reads it, for other packages
// that read small ONNX models of their own (a wake-word head): nodes in
// order and float tensors by name.
type Graph struct{ g *graph }

// Node is one operation of a Graph.
type Node struct {
	Op              string
	Inputs, Outputs []string
	// Ints, Floats hold the integer and float attributes by name.
	Ints   map[string][]int64
	Floats map[string]float32
}

// ReadONNX reads an ONNX model's graph from its bytes. The reader
// bounds every size and refuses NaN weights.
func ReadONNX(b []byte) (*Graph, error) {
	g, err := readGraph(b)
	if err != nil {
		return nil, err
	}
	return &Graph{g}, nil
}

// Nodes returns the graph's nodes in order.
func (g *Graph) Nodes() []Node {
	out := make([]Node, len(g.g.nodes))
	for i, n := range g.g.nodes {
		nd := Node{Op: n.op, Inputs: n.inputs, Outputs: n.outputs, Ints: map[string][]int64{}, Floats: map[string]float32{}}
		for k, a := range n.attrs {
			if a.ints != nil {
				nd.Ints[k] = a.ints
			} else {
				nd.Ints[k] = []int64{a.i}
			}
			nd.Floats[k] = a.f
		}
		out[i] = nd
	}
	return out
}

// Tensor returns a float tensor's dimensions and values by name.
func (g *Graph) Tensor(name string) (dims []int64, data []float32, ok bool) {
	t, ok := g.g.tensors[name]
	if !ok || t.data == nil {
		return nil, nil, false
	}
	return t.dims, t.data, true
}
