package embedding

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// This file reads the part of the ONNX format (a protocol buffer, see
// onnx.proto) that the two graphs use: the nodes in order, their
// attributes, and float tensors. It is a reader of outside input, so
// every length is checked against what is left and against fixed bounds,
// and it never trusts a declared size to allocate.

// graph is an ONNX graph reduced to what inference needs.
type graph struct {
	nodes   []node
	tensors map[string]tensor // initializers and Constant outputs
}

type node struct {
	op      string
	inputs  []string
	outputs []string
	attrs   map[string]attr
}

type attr struct {
	f     float32
	i     int64
	ints  []int64
	t     *tensor
	isSet bool
}

type tensor struct {
	dims []int64
	data []float32 // float tensors only
	ints []int64   // int64 tensors (shapes)
}

// ONNX data types this reader understands.
const (
	onnxFloat = 1
	onnxInt64 = 7
)

const (
	maxTensorValues = 1 << 22 // 16 MB of float32: far above either graph
	maxNodes        = 4096
	maxDims         = 8
)

var errTruncated = errors.New("truncated")

// wire is a protocol-buffer message being read.
type wire struct{ b []byte }

// next returns the next field: its number, wire type, and either its
// varint value or its bytes (length-delimited and fixed fields).
func (w *wire) next() (field int, typ int, v uint64, data []byte, err error) {
	key, err := w.varint()
	if err != nil {
		return 0, 0, 0, nil, err
	}
	field, typ = int(key>>3), int(key&7)
	if field == 0 {
		return 0, 0, 0, nil, errors.New("field number 0")
	}
	switch typ {
	case 0:
		v, err = w.varint()
	case 1:
		data, err = w.take(8)
	case 2:
		var n uint64
		if n, err = w.varint(); err == nil {
			if n > uint64(len(w.b)) {
				return 0, 0, 0, nil, errTruncated
			}
			data, err = w.take(int(n))
		}
	case 5:
		data, err = w.take(4)
	default:
		err = fmt.Errorf("wire type %d", typ)
	}
	return field, typ, v, data, err
}

func (w *wire) varint() (uint64, error) {
	v, n := binary.Uvarint(w.b)
	if n <= 0 {
		return 0, errTruncated
	}
	w.b = w.b[n:]
	return v, nil
}

func (w *wire) take(n int) ([]byte, error) {
	if n > len(w.b) {
		return nil, errTruncated
	}
	d := w.b[:n]
	w.b = w.b[n:]
	return d, nil
}

// readGraph reads a ModelProto and returns its graph.
func readGraph(b []byte) (*graph, error) {
	g := &graph{tensors: map[string]tensor{}}
	found := false
	w := wire{b}
	for len(w.b) > 0 {
		field, typ, _, data, err := w.next()
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		if field == 7 && typ == 2 { // ModelProto.graph
			if found {
				return nil, errors.New("model: two graphs")
			}
			found = true
			if err := g.read(data); err != nil {
				return nil, fmt.Errorf("graph: %w", err)
			}
		}
	}
	if !found {
		return nil, errors.New("model: no graph")
	}
	return g, nil
}

func (g *graph) read(b []byte) error {
	w := wire{b}
	for len(w.b) > 0 {
		field, typ, _, data, err := w.next()
		if err != nil {
			return err
		}
		if typ != 2 {
			continue
		}
		switch field {
		case 1: // node
			if len(g.nodes) >= maxNodes {
				return fmt.Errorf("more than %d nodes", maxNodes)
			}
			n, err := readNode(data)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(g.nodes)+1, err)
			}
			if n.op == "Constant" {
				a := n.attrs["value"]
				if a.t == nil || len(n.outputs) != 1 {
					return fmt.Errorf("node %d: Constant without a tensor value", len(g.nodes)+1)
				}
				g.tensors[n.outputs[0]] = *a.t
			}
			g.nodes = append(g.nodes, n)
		case 5: // initializer
			name, t, err := readTensor(data)
			if err != nil {
				return fmt.Errorf("initializer %q: %w", name, err)
			}
			g.tensors[name] = t
		}
	}
	return nil
}

func readNode(b []byte) (node, error) {
	n := node{attrs: map[string]attr{}}
	w := wire{b}
	for len(w.b) > 0 {
		field, typ, _, data, err := w.next()
		if err != nil {
			return n, err
		}
		if typ != 2 {
			continue
		}
		switch field {
		case 1:
			n.inputs = append(n.inputs, string(data))
		case 2:
			n.outputs = append(n.outputs, string(data))
		case 4:
			n.op = string(data)
		case 5:
			name, a, err := readAttr(data)
			if err != nil {
				return n, fmt.Errorf("attribute %q: %w", name, err)
			}
			n.attrs[name] = a
		}
	}
	if n.op == "" {
		return n, errors.New("no op_type")
	}
	return n, nil
}

func readAttr(b []byte) (string, attr, error) {
	var name string
	a := attr{isSet: true}
	w := wire{b}
	for len(w.b) > 0 {
		field, typ, v, data, err := w.next()
		if err != nil {
			return name, a, err
		}
		switch {
		case field == 1 && typ == 2:
			name = string(data)
		case field == 2 && typ == 5:
			a.f = math.Float32frombits(binary.LittleEndian.Uint32(data))
		case field == 3 && typ == 0:
			a.i = int64(v)
		case field == 5 && typ == 2:
			_, t, err := readTensor(data)
			if err != nil {
				return name, a, err
			}
			a.t = &t
		case field == 8:
			ints, err := appendInt64s(a.ints, typ, v, data)
			if err != nil {
				return name, a, err
			}
			a.ints = ints
		}
	}
	return name, a, nil
}

// appendInt64s appends a repeated int64 field's value, packed or not.
func appendInt64s(dst []int64, typ int, v uint64, data []byte) ([]int64, error) {
	if typ == 0 {
		if len(dst) >= maxTensorValues {
			return nil, errors.New("too many values")
		}
		return append(dst, int64(v)), nil
	}
	if typ != 2 {
		return nil, fmt.Errorf("int64 list of wire type %d", typ)
	}
	w := wire{data}
	for len(w.b) > 0 {
		x, err := w.varint()
		if err != nil {
			return nil, err
		}
		if len(dst) >= maxTensorValues {
			return nil, errors.New("too many values")
		}
		dst = append(dst, int64(x))
	}
	return dst, nil
}

func readTensor(b []byte) (string, tensor, error) {
	var (
		name     string
		t        tensor
		dtype    uint64
		raw      []byte
		floats   []float32
		haveType bool
	)
	w := wire{b}
	for len(w.b) > 0 {
		field, typ, v, data, err := w.next()
		if err != nil {
			return name, t, err
		}
		switch field {
		case 1:
			if t.dims, err = appendInt64s(t.dims, typ, v, data); err != nil {
				return name, t, err
			}
			if len(t.dims) > maxDims {
				return name, t, fmt.Errorf("more than %d dimensions", maxDims)
			}
		case 2:
			dtype, haveType = v, true
		case 4: // float_data
			switch typ {
			case 5:
				floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(data)))
			case 2:
				if len(data)%4 != 0 {
					return name, t, errors.New("float_data not a multiple of 4 bytes")
				}
				for i := 0; i < len(data); i += 4 {
					floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(data[i:])))
				}
			}
			if len(floats) > maxTensorValues {
				return name, t, errors.New("too many values")
			}
		case 7: // int64_data
			if t.ints, err = appendInt64s(t.ints, typ, v, data); err != nil {
				return name, t, err
			}
		case 8:
			if typ == 2 {
				name = string(data)
			}
		case 9:
			if typ == 2 {
				raw = data
			}
		}
	}
	if !haveType {
		return name, t, errors.New("no data type")
	}
	count := int64(1)
	for _, d := range t.dims {
		if d < 0 || d > maxTensorValues {
			return name, t, fmt.Errorf("dimension %d", d)
		}
		if count *= d; count > maxTensorValues {
			return name, t, fmt.Errorf("more than %d values", maxTensorValues)
		}
	}
	switch dtype {
	case onnxFloat:
		switch {
		case raw != nil:
			if int64(len(raw)) != 4*count {
				return name, t, fmt.Errorf("%d bytes of data for %d floats", len(raw), count)
			}
			t.data = make([]float32, count)
			for i := range t.data {
				t.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case int64(len(floats)) == count:
			t.data = floats
		default:
			return name, t, fmt.Errorf("%d floats for %d values", len(floats), count)
		}
		for _, v := range t.data {
			if math.IsNaN(float64(v)) {
				return name, t, errors.New("a value is NaN")
			}
		}
	case onnxInt64:
		if raw != nil {
			if int64(len(raw)) != 8*count {
				return name, t, fmt.Errorf("%d bytes of data for %d int64s", len(raw), count)
			}
			t.ints = make([]int64, count)
			for i := range t.ints {
				t.ints[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		} else if int64(len(t.ints)) != count {
			return name, t, fmt.Errorf("%d int64s for %d values", len(t.ints), count)
		}
	default:
		// Other types (booleans of the heads' If) are not read.
	}
	return name, t, nil
}

// size returns the number of values dims describe.
func (t tensor) size() int {
	n := 1
	for _, d := range t.dims {
		n *= int(d)
	}
	return n
}

// shape reports whether t's dims are exactly want.
func (t tensor) shape(want ...int) bool {
	if len(t.dims) != len(want) {
		return false
	}
	for i, d := range t.dims {
		if int(d) != want[i] {
			return false
		}
	}
	return true
}
