//go:build cgo

package moonshine

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// The tiny model's decoder: layers, key-value heads, head size.
const (
	layers   = 6
	kvHeads  = 8
	headSize = 36
)

var (
	envOnce sync.Once
	envErr  error
)

// Model is a loaded Moonshine model. Its methods are safe for concurrent
// use; each call runs the graphs on one thread.
type Model struct {
	enc, dec          *ort.DynamicAdvancedSession
	decIn, decOut     []string
	tok               *Tokenizer
	mu                sync.Mutex
	emptyPast         []ort.Value // a zero-length cache for each past input
	pastAt, presentAt []int       // index of each past input in decIn; present output in decOut
	own               []bool      // by cache input: the decoder's own keys and values, not the encoder's
}

// Load loads the model in dir (EncoderFile, DecoderFile, TokenizerFile
// and LibraryFile). ONNX Runtime is loaded once per process, from the
// first directory given.
func Load(dir string) (*Model, error) {
	if err := Present(dir); err != nil {
		return nil, err
	}
	envOnce.Do(func() {
		ort.SetSharedLibraryPath(filepath.Join(dir, LibraryFile))
		envErr = ort.InitializeEnvironment(ort.WithLogLevelError())
	})
	if envErr != nil {
		return nil, fmt.Errorf("moonshine: ONNX Runtime: %w", envErr)
	}
	tok, err := LoadTokenizer(filepath.Join(dir, TokenizerFile))
	if err != nil {
		return nil, err
	}
	opts, err := sessionOptions(false)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	m := &Model{tok: tok}
	m.enc, err = ort.NewDynamicAdvancedSession(filepath.Join(dir, EncoderFile), []string{"input_values"}, []string{"last_hidden_state"}, opts)
	if err != nil {
		return nil, fmt.Errorf("moonshine: %s: %w", EncoderFile, err)
	}
	decOpts, err := sessionOptions(true)
	if err != nil {
		m.Close()
		return nil, err
	}
	defer decOpts.Destroy()
	ins, outs, err := ort.GetInputOutputInfo(filepath.Join(dir, DecoderFile))
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("moonshine: %s: %w", DecoderFile, err)
	}
	for _, in := range ins {
		m.decIn = append(m.decIn, in.Name)
	}
	for _, out := range outs {
		m.decOut = append(m.decOut, out.Name)
	}
	if err := m.bindCache(); err != nil {
		m.Close()
		return nil, err
	}
	m.dec, err = ort.NewDynamicAdvancedSession(filepath.Join(dir, DecoderFile), m.decIn, m.decOut, decOpts)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("moonshine: %s: %w", DecoderFile, err)
	}
	return m, nil
}

// sessionOptions are a graph's options: the decoder's repack its weights
// for the CPU's kernels once, at load.
func sessionOptions(repack bool) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("moonshine: %w", err)
	}
	// One thread: the device's other core keeps hearing the microphone.
	// No arena: it keeps the largest tensor's memory for good.
	// The decoder's output projection (the token embedding, transposed:
	// 288 × 32768 weights stored as 8-bit) is dequantised once, at load,
	// not at every run: ONNX Runtime leaves a DequantizeLinear of
	// constant weights unfolded unless its QDQ rewrites are off, and that
	// one node was half of every decoder run's time (ORT's profiler, over
	// a held search), with as much again in the kernel, mapping and
	// zeroing a fresh 38 MB for its output each time. The scores are the
	// same to the last digit; the float weights are held instead.
	// The decoder runs for every token of every sentence weighed: its
	// weights, the projection's now among them, are repacked at load (a
	// candidate's opinion about 0.12 -> 0.07 s, a command read 1.0 ->
	// 0.8 s on a loaded build machine; scores move by under 1e-4). The
	// encoder runs once a candidate: its weights are not, a copy of them
	// for no time measured.
	options := []error{opts.SetIntraOpNumThreads(1), opts.SetInterOpNumThreads(1), opts.SetCpuMemArena(false),
		opts.AddSessionConfigEntry("session.disable_quant_qdq", "1")}
	if !repack {
		options = append(options, opts.AddSessionConfigEntry("session.disable_prepacking", "1"))
	}
	for _, err := range options {
		if err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("moonshine: %w", err)
		}
	}
	return opts, nil
}

// bindCache pairs each past_key_values input with its present output and
// makes the empty cache of a transcript's first step.
func (m *Model) bindCache() error {
	out := map[string]int{}
	for i, n := range m.decOut {
		out[n] = i
	}
	for i, n := range m.decIn {
		rest, ok := strings.CutPrefix(n, "past_key_values")
		if !ok {
			continue
		}
		j, ok := out["present"+rest]
		if !ok {
			return fmt.Errorf("moonshine: %s: input %s has no present%s", DecoderFile, n, rest)
		}
		t, err := ort.NewTensor(ort.NewShape(0, kvHeads, 1, headSize), []float32{})
		if err != nil {
			return fmt.Errorf("moonshine: %w", err)
		}
		m.pastAt, m.presentAt = append(m.pastAt, i), append(m.presentAt, j)
		m.own = append(m.own, strings.Contains(n, ".decoder."))
		m.emptyPast = append(m.emptyPast, t)
	}
	if len(m.pastAt) != 4*layers || m.decOut[0] != "logits" {
		return fmt.Errorf("moonshine: %s: %d cache inputs, first output %q: not Moonshine tiny's decoder", DecoderFile, len(m.pastAt), m.decOut[0])
	}
	return nil
}

// Close frees the sessions.
func (m *Model) Close() {
	for _, s := range []*ort.DynamicAdvancedSession{m.enc, m.dec} {
		if s != nil {
			s.Destroy()
		}
	}
	for _, v := range m.emptyPast {
		v.Destroy()
	}
	m.enc, m.dec, m.emptyPast = nil, nil, nil
}

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *Tokenizer { return m.tok }

// Audio is what the encoder made of a stretch of audio; Close frees it.
type Audio struct {
	m      *Model
	hidden ort.Value
	// Seconds is how long the audio was.
	Seconds float64
}

// Hear runs the encoder on pcm (16 kHz mono).
func (m *Model) Hear(pcm []int16) (*Audio, error) {
	if len(pcm) < SampleRate/10 {
		return nil, errors.New("moonshine: less than 100 ms of audio")
	}
	x := make([]float32, len(pcm))
	for i, s := range pcm {
		x[i] = float32(s) / 32768
	}
	in, err := ort.NewTensor(ort.NewShape(1, int64(len(x))), x)
	if err != nil {
		return nil, fmt.Errorf("moonshine: %w", err)
	}
	defer in.Destroy()
	out := []ort.Value{nil}
	m.mu.Lock()
	err = m.enc.Run([]ort.Value{in}, out)
	m.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("moonshine: encoder: %w", err)
	}
	return &Audio{m: m, hidden: out[0], Seconds: float64(len(pcm)) / SampleRate}, nil
}

// Close frees the encoder's output.
func (a *Audio) Close() {
	if a.hidden != nil {
		a.hidden.Destroy()
		a.hidden = nil
	}
}

// step runs the decoder on ids after the cache past (nil: the first step)
// and returns the logits of the next token after each id, and all the
// outputs (the logits first, then the cache for the next step). The
// caller destroys the outputs.
func (a *Audio) step(ids []int64, past []ort.Value) (logits *ort.Tensor[float32], outs []ort.Value, err error) {
	idT, err := ort.NewTensor(ort.NewShape(1, int64(len(ids))), ids)
	if err != nil {
		return nil, nil, err
	}
	defer idT.Destroy()
	return a.run(idT, a.hidden, past)
}

// run is step for a batch: ids (batch, tokens) after past, a cache of
// the same batch (nil: the first step), attending to hidden, the
// encoder's output for each.
func (a *Audio) run(ids *ort.Tensor[int64], hidden ort.Value, past []ort.Value) (logits *ort.Tensor[float32], outs []ort.Value, err error) {
	m := a.m
	cached, err := ort.NewTensor(ort.NewShape(1), []bool{past != nil})
	if err != nil {
		return nil, nil, err
	}
	defer cached.Destroy()
	in := make([]ort.Value, len(m.decIn))
	for i, n := range m.decIn {
		switch n {
		case "input_ids":
			in[i] = ids
		case "encoder_hidden_states":
			in[i] = hidden
		case "use_cache_branch":
			in[i] = cached
		}
	}
	for k, i := range m.pastAt {
		if past == nil {
			in[i] = m.emptyPast[k]
		} else {
			in[i] = past[k]
		}
	}
	outs = make([]ort.Value, len(m.decOut))
	m.mu.Lock()
	err = m.dec.Run(in, outs)
	m.mu.Unlock()
	if err != nil {
		return nil, nil, fmt.Errorf("moonshine: decoder: %w", err)
	}
	l, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		destroy(outs)
		return nil, nil, errors.New("moonshine: decoder: logits are not float32")
	}
	return l, outs, nil
}

func destroy(vs []ort.Value) {
	for _, v := range vs {
		if v != nil {
			v.Destroy()
		}
	}
}

// logSoftmax returns the log-probability of token k in a row of logits.
func logSoftmax(row []float32, k int) float64 {
	top, logSum := normaliser(row)
	return float64(row[k]-top) - logSum
}

// normaliser returns a row of logits' largest value and the log of the
// sum of exp(logit - largest): a token's log-probability is
// logit - largest - that.
func normaliser(row []float32) (top float32, logSum float64) {
	top = float32(math.Inf(-1))
	for _, v := range row {
		top = max(top, v)
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v - top))
	}
	return top, math.Log(sum)
}

// Score returns the log-probability that the transcript of the audio
// begins with tokens (Tokenizer.Encode of a phrase): the decoder is
// given them, not asked for its own.
func (a *Audio) Score(tokens []int) (float64, error) {
	if len(tokens) == 0 {
		return 0, nil
	}
	ids := make([]int64, 1+len(tokens))
	ids[0] = bos
	for i, t := range tokens {
		ids[i+1] = int64(t)
	}
	logits, outs, err := a.step(ids, nil)
	if err != nil {
		return 0, err
	}
	defer destroy(outs)
	data := logits.GetData()
	v := int(logits.GetShape()[2])
	var lp float64
	for i, t := range tokens {
		lp += logSoftmax(data[i*v:(i+1)*v], t)
	}
	return lp, nil
}

// Transcribe decodes the audio greedily, as a batch of one (beams): at
// most about six tokens a second, as Moonshine's own code bounds it.
func (a *Audio) Transcribe() (string, error) {
	b, err := a.beams()
	if err != nil {
		return "", err
	}
	defer b.close()
	var toks []int
	for range int(a.Seconds*6) + 1 {
		row, best := b.rows[0], 0
		for k, x := range row {
			if x > row[best] {
				best = k
			}
		}
		if best == eos {
			break
		}
		toks = append(toks, best)
		if err := b.next([]int{0}, []int64{int64(best)}); err != nil {
			return "", err
		}
	}
	return a.m.tok.Decode(toks), nil
}

// next runs the decoder on ids after the cache past (nil: the first step)
// and returns the logits of the token after them and the cache after
// them. The decoder's own keys and values grow each step and are the
// caller's to free (Audio.free); the encoder's are made on the first step
// and shared by every cache after it.
func (a *Audio) next(ids []int64, past []ort.Value) (row []float32, cache []ort.Value, err error) {
	logits, outs, err := a.step(ids, past)
	if err != nil {
		return nil, nil, err
	}
	data := logits.GetData()
	v := int(logits.GetShape()[2])
	row = slices.Clone(data[len(data)-v:])
	cache = make([]ort.Value, len(a.m.pastAt))
	for k, j := range a.m.presentAt {
		if past == nil || a.m.own[k] {
			cache[k], outs[j] = outs[j], nil
		} else {
			cache[k] = past[k]
		}
	}
	destroy(outs)
	return row, cache, nil
}

// free frees the decoder's own part of a cache.
func (a *Audio) free(cache []ort.Value) {
	for k, v := range cache {
		if a.m.own[k] && v != nil {
			v.Destroy()
		}
	}
}

// encoderPart is the encoder's part of a cache, shared by every cache
// made after it.
func (a *Audio) encoderPart(cache []ort.Value) []ort.Value {
	var out []ort.Value
	for k, v := range cache {
		if !a.m.own[k] {
			out = append(out, v)
		}
	}
	return out
}
