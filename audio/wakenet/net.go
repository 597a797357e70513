package wakenet

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Net tells a spoken wake phrase from what only sounds like it: a few
// small neural networks (Members), trained alike from different random
// starts, whose probabilities are averaged. Its thresholds were chosen
// on data held back from training (see PickThresholds).
type Net struct {
	// Phrase is the wake phrase the net was trained for; it knows no other.
	Phrase  string
	Members []*Member
	Thresholds
}

// Member is one network: Inputs features, standardised, one hidden layer
// of rectifiers, one logistic output.
type Member struct {
	Hidden int
	Mean   []float32 // Inputs: the training data's mean, taken away first
	Scale  []float32 // Inputs: then multiplied by 1 / its deviation
	W1     []float32 // Hidden × Inputs
	B1     []float32 // Hidden
	W2     []float32 // Hidden
	B2     float32
}

func newMember(hidden int) *Member {
	return &Member{
		Hidden: hidden,
		Mean:   make([]float32, Inputs), Scale: make([]float32, Inputs),
		W1: make([]float32, hidden*Inputs), B1: make([]float32, hidden), W2: make([]float32, hidden),
	}
}

// Thresholds say what a score means to the listener.
type Thresholds struct {
	// Reject: below it a spotted candidate is dropped without being
	// verified.
	Reject float32
	// Accept: a wake phrase the verifier heard is kept only at or above it.
	Accept float32
	// Rescue: a candidate the verifier rejected is a wake phrase after all
	// at or above it.
	Rescue float32
	// Scan: a window of speech scored at or above it is a candidate even
	// if the keyword spotter did not fire (see Stream).
	Scan float32
}

// Score returns the probability that x (from Frontend.Features) is the
// wake phrase: the members' mean. z is scratch space of Inputs values.
func (n *Net) Score(x, z []float32) float32 {
	var sum float32
	for _, m := range n.Members {
		sum += m.score(x, z)
	}
	return n.mean(sum)
}

// mean turns the sum of the members' scores into the net's score.
func (n *Net) mean(sum float32) float32 { return sum / float32(len(n.Members)) }

func (m *Member) score(x, z []float32) float32 {
	for i, v := range x[:Inputs] {
		z[i] = (v - m.Mean[i]) * m.Scale[i]
	}
	z = z[:Inputs]
	out := m.B2
	for j := range m.Hidden {
		// A row of W1 at a time: contiguous, where a column is not.
		row := m.W1[j*Inputs : (j+1)*Inputs]
		sum := m.B1[j]
		for i, w := range row {
			sum += w * z[i]
		}
		if sum > 0 {
			out += m.W2[j] * sum
		}
	}
	return sigmoid(out)
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// Scorer scores audio with a net. It is not safe for concurrent use.
type Scorer struct {
	Net *Net
	fe  *Frontend
	x   []float32
	z   []float32
}

// NewScorer makes a scorer for n.
func NewScorer(n *Net) *Scorer {
	return &Scorer{Net: n, fe: NewFrontend(), x: make([]float32, Inputs), z: make([]float32, Inputs)}
}

// ScoreFeatures scores the features x (from Frontend.Features).
func (s *Scorer) ScoreFeatures(x []float32) float32 { return s.Net.Score(x, s.z) }

// ScoreStream scores the latest window of st (see Stream.Features).
func (s *Scorer) ScoreStream(st *Stream) float32 { return s.Net.Score(st.Features(s.x), s.z) }

// ScanStream reports whether the latest window of st scores at least th,
// and its score if so. It stops at the first member whose score leaves
// the mean no way to reach th: most windows of speech cost one member.
func (s *Scorer) ScanStream(st *Stream, th float32) (float32, bool) {
	x := st.Features(s.x)
	n := float32(len(s.Net.Members))
	var sum float32
	for k, m := range s.Net.Members {
		sum += m.score(x, s.z)
		// The members left score at most 1 each (with a margin for
		// rounding: a scan may go on needlessly, never stop wrongly).
		if k < len(s.Net.Members)-1 && (sum+n-float32(k+1))/n < th-1e-6 {
			return 0, false
		}
	}
	score := s.Net.mean(sum)
	return score, score >= th
}

// Score returns the probability that the wake phrase ends where pcm
// ends (see Frontend.Features). It does not keep pcm.
func (s *Scorer) Score(pcm []int16) float32 {
	return s.Net.Score(s.fe.Features(s.x, pcm), s.z)
}

// The model file: magic, the phrase (length-prefixed), the four
// thresholds, Inputs, the number of members, then for each member its
// hidden size and the float32 arrays Mean, Scale, W1, B1, W2 and B2; all
// little-endian. The version names the front end too: 4 is the first
// with each band's floor (FloorDBFS), and a net trained on other features
// would score wrongly, so an older file is refused, not read.
const magic = "earshot-wakenet-4\n"

// Bounds on a model file, so that a corrupt header cannot allocate
// gigabytes.
const (
	maxPhrase  = 256
	maxMembers = 16
	maxHidden  = 1024
)

// WriteTo writes n in the model file format.
func (n *Net) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	buf.WriteString(magic)
	put := func(v any) { binary.Write(&buf, binary.LittleEndian, v) }
	put(uint32(len(n.Phrase)))
	buf.WriteString(n.Phrase)
	put([]float32{n.Reject, n.Accept, n.Rescue, n.Scan})
	put([]uint32{Inputs, uint32(len(n.Members))})
	for _, m := range n.Members {
		put(uint32(m.Hidden))
		for _, a := range [][]float32{m.Mean, m.Scale, m.W1, m.B1, m.W2, {m.B2}} {
			put(a)
		}
	}
	return buf.WriteTo(w)
}

// Read reads a net in the model file format; name is for errors.
func Read(r io.Reader, name string) (*Net, error) {
	br := bufio.NewReader(r)
	fail := func(what string, err error) (*Net, error) {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("wakenet: %s: %s: %w", name, what, err)
	}
	bad := func(format string, args ...any) (*Net, error) {
		return nil, fmt.Errorf("wakenet: %s: "+format, append([]any{name}, args...)...)
	}
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil {
		return fail("header", err)
	}
	if string(head) != magic {
		if bytes.HasPrefix(head, []byte("earshot-wakenet-")) {
			return bad("model version %q, this front end reads %q: train it again (audio/wakenet/train)", head, magic)
		}
		return bad("not a wake-word model (header %q)", head)
	}
	var plen uint32
	if err := binary.Read(br, binary.LittleEndian, &plen); err != nil {
		return fail("phrase", err)
	}
	if plen > maxPhrase {
		return bad("phrase of %d bytes", plen)
	}
	phrase := make([]byte, plen)
	if _, err := io.ReadFull(br, phrase); err != nil {
		return fail("phrase", err)
	}
	n := &Net{Phrase: string(phrase)}
	var th [4]float32
	var dims [2]uint32
	if err := binary.Read(br, binary.LittleEndian, &th); err != nil {
		return fail("thresholds", err)
	}
	n.Reject, n.Accept, n.Rescue, n.Scan = th[0], th[1], th[2], th[3]
	if err := binary.Read(br, binary.LittleEndian, &dims); err != nil {
		return fail("sizes", err)
	}
	if dims[0] != Inputs {
		return bad("made for %d inputs, this front end gives %d", dims[0], Inputs)
	}
	if dims[1] == 0 || dims[1] > maxMembers {
		return bad("%d members, want 1..%d", dims[1], maxMembers)
	}
	for k := 0; k < int(dims[1]); k++ {
		var h uint32
		if err := binary.Read(br, binary.LittleEndian, &h); err != nil {
			return fail("member", err)
		}
		if h == 0 || h > maxHidden {
			return bad("member %d: hidden layer of %d, want 1..%d", k+1, h, maxHidden)
		}
		m := newMember(int(h))
		b2 := make([]float32, 1)
		for _, a := range [][]float32{m.Mean, m.Scale, m.W1, m.B1, m.W2, b2} {
			if err := binary.Read(br, binary.LittleEndian, a); err != nil {
				return fail("weights", err)
			}
		}
		m.B2 = b2[0]
		n.Members = append(n.Members, m)
	}
	for _, v := range th {
		if math.IsNaN(float64(v)) || v < 0 || v > 1 {
			return bad("threshold %v, want 0..1", v)
		}
	}
	for k, m := range n.Members {
		for _, a := range [][]float32{m.Mean, m.Scale, m.W1, m.B1, m.W2, {m.B2}} {
			for _, v := range a {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return bad("member %d: a weight is %v", k+1, v)
				}
			}
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return bad("data after the model")
	}
	return n, nil
}

//go:embed hey_jarvis.bin
var builtin []byte

// Builtin returns the net trained for "hey jarvis" that ships with
// earshot, or nil when phrase is another: a net knows one phrase.
func Builtin(phrase string) *Net {
	n, err := Read(bytes.NewReader(builtin), "hey_jarvis.bin")
	if err != nil {
		panic(err) // the build embedded a broken model; tests catch it
	}
	if !n.Knows(phrase) {
		return nil
	}
	return n
}

// Knows reports whether n was trained for phrase (case and spacing aside).
func (n *Net) Knows(phrase string) bool { return normalise(phrase) == normalise(n.Phrase) }

func normalise(phrase string) string {
	return strings.Join(strings.Fields(strings.ToLower(phrase)), " ")
}
