package wakenet

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// tone returns n samples of a sine at hz, amplitude a (of full scale).
func tone(n int, hz, a float64) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(a * 32767 * math.Sin(2*math.Pi*hz*float64(i)/SampleRate))
	}
	return pcm
}

// band returns the mel band whose centre lies nearest hz.
func band(hz float64) int {
	f := NewFrontend()
	best, at := 0.0, 0
	for b, ws := range f.bank {
		for _, w := range ws {
			if w.w > best && math.Abs(float64(w.bin)*SampleRate/fftSize-hz) < 40 {
				best, at = w.w, b
			}
		}
	}
	return at
}

func TestFeatures(t *testing.T) {
	f := NewFrontend()
	x := make([]float32, Inputs)

	// Quiet noise, with a tone in the second half: the tone's band rises
	// from below its mean to above it, the far bands do not move.
	rng := rand.New(rand.NewPCG(1, 1))
	pcm := append(make([]int16, WindowSamples/2), tone(WindowSamples-WindowSamples/2, 1000, 0.3)...)
	for i := range pcm {
		pcm[i] += int16(rng.NormFloat64() * 300) // -40 dBFS: 20 dB down is still well above the floor
	}
	f.Features(x, pcm)
	b := band(1000)
	first, last := x[b], x[(Steps-1)*Bands+b]
	if first > -5 || last < 5 {
		t.Errorf("1 kHz band %d: %.1f before the tone, %.1f in it; want far below and above its mean", b, first, last)
	}
	if far := x[(Steps-1)*Bands+Bands-1]; math.Abs(float64(far)) > math.Abs(float64(last))/4 {
		t.Errorf("top band moved by %.1f with a 1 kHz tone (its own band by %.1f)", far, last)
	}
	// Each band's mean over the window is taken away.
	for b := 0; b < Bands; b++ {
		sum := 0.0
		for s := 0; s < Steps; s++ {
			sum += float64(x[s*Bands+b])
		}
		if math.Abs(sum/Steps) > 0.05 {
			t.Fatalf("band %d has mean %.3f, want 0", b, sum/Steps)
		}
	}

	// The level does not matter above the floor: the same sound 20 dB
	// softer gives the same features.
	soft := make([]int16, len(pcm))
	for i, v := range pcm {
		soft[i] = int16(math.Round(float64(v) / 10))
	}
	y := f.Features(make([]float32, Inputs), soft)
	for i := range x {
		if math.Abs(float64(x[i]-y[i])) > 0.15 {
			t.Fatalf("input %d: %.3f at full level, %.3f 20 dB down", i, x[i], y[i])
		}
	}

	// A longer input is read from its end; a shorter one as if silence
	// came first.
	// (The sample before the window counts only for the pre-emphasis of
	// its first frame: here it is 0, as for a window that starts the
	// audio.)
	long := append(append(tone(5000, 300, 0.3), 0), pcm...)
	z := f.Features(make([]float32, Inputs), long)
	if !equal(x, z) {
		t.Error("features of a longer input differ from those of its last WindowSamples")
	}
	short := tone(WindowSamples/2, 1000, 0.3)
	x = f.Features(x, append(make([]int16, WindowSamples-len(short)), short...))
	z = f.Features(make([]float32, Inputs), short)
	if !equal(x, z) {
		t.Error("features of a shorter input differ from those of it after silence")
	}
}

// TestFloor: digital silence and a converter's dither sound alike, and
// give the same features; a quiet room above the floor does not.
func TestFloor(t *testing.T) {
	f := NewFrontend()
	rng := rand.New(rand.NewPCG(3, 3))
	noise := func(n int, dbfs float64) []int16 {
		pcm := make([]int16, n)
		for i := range pcm {
			pcm[i] = int16(math.Round(rng.NormFloat64() * 32768 * math.Pow(10, dbfs/20)))
		}
		return pcm
	}
	speech := tone(WindowSamples/2, 700, 0.2)
	silent := f.Features(make([]float32, Inputs), append(make([]int16, WindowSamples/2), speech...))
	dither := make([]int16, WindowSamples/2)
	for i := range dither {
		dither[i] = int16(rng.IntN(3) - 1)
	}
	dithered := f.Features(make([]float32, Inputs), append(dither, speech...))
	for i := range silent {
		if d := math.Abs(float64(silent[i] - dithered[i])); d > 0.05 {
			t.Fatalf("input %d: %.3f after digital silence, %.3f after dither", i, silent[i], dithered[i])
		}
	}
	// Hiss 10 dB above the floor before silence: the top band, where the
	// tone has no energy, hears it.
	x := f.Features(make([]float32, Inputs), append(noise(WindowSamples/2, FloorDBFS+10), make([]int16, WindowSamples/2)...))
	if first, last := x[Bands-1], x[(Steps-1)*Bands+Bands-1]; first-last < 1.5 {
		t.Errorf("top band: %.2f in hiss 10 dB above the floor, %.2f in silence; want the hiss well above", first, last)
	}
	// Hiss 10 dB below the floor is silence.
	x = f.Features(x, append(noise(WindowSamples/2, FloorDBFS-10), make([]int16, WindowSamples/2)...))
	for i, v := range x {
		if math.Abs(float64(v)) > 0.15 {
			t.Fatalf("input %d is %.3f with hiss below the floor, want about 0", i, v)
		}
	}
}

// TestStream: the stream's input for its last window is the front end's
// for the same audio, however the audio arrives.
func TestStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pcm := make([]int16, 3*WindowSamples)
	for i := range pcm {
		pcm[i] = int16(3000*math.Sin(float64(i)*0.05*(1+float64(i)/float64(len(pcm)))) + rng.NormFloat64()*300)
	}
	fe := NewFrontend()
	s := NewStream()
	want, got := make([]float32, Inputs), make([]float32, Inputs)
	for _, chunk := range []int{320, 1, 7, 5000} {
		s.Reset()
		pushed, checked := 0, 0
		for pushed < len(pcm) {
			n := min(chunk, len(pcm)-pushed)
			s.Push(pcm[pushed : pushed+n])
			pushed += n
			if !s.Full() && pushed >= WindowSamples {
				t.Fatalf("chunks of %d: not full after %d samples", chunk, pushed)
			}
			if pushed < frameLen {
				continue
			}
			// Before the window is full, the stream assumes silence
			// before the audio, as the front end does.
			if chunk < 320 && pushed%997 != 0 {
				continue // checking every sample would take a minute
			}
			end := frameLen + (pushed-frameLen)/hop*hop // the last whole frame's end
			fe.Features(want, pcm[:end])
			s.Features(got)
			if !equal(want, got) {
				t.Fatalf("chunks of %d, %d samples pushed: the stream's input differs from the front end's", chunk, pushed)
			}
			checked++
		}
		if checked == 0 {
			t.Fatalf("chunks of %d: never full", chunk)
		}
	}
	frame := pcm[:320]
	if n := testing.AllocsPerRun(100, func() { s.Push(frame); s.Features(got) }); n != 0 {
		t.Errorf("Push and Features allocate %.0f times", n)
	}
}

func equal(a, b []float32) bool {
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-4 {
			return false
		}
	}
	return true
}

func TestFFT(t *testing.T) {
	f := NewFrontend()
	for i := range f.frame {
		f.frame[i] = math.Cos(2 * math.Pi * 32 * float64(i) / fftSize)
	}
	f.fft()
	for k := 0; k <= fftSize/2; k++ {
		// The reference: a direct DFT of the same frame.
		var want complex128
		for i, v := range f.frame {
			a := -2 * math.Pi * float64(k*i) / fftSize
			want += complex(v*math.Cos(a), v*math.Sin(a))
		}
		if d := f.spec[k] - want; math.Hypot(real(d), imag(d)) > 1e-9*fftSize {
			t.Fatalf("bin %d: %v, the DFT gives %v", k, f.spec[k], want)
		}
	}
}

func TestScoreAllocs(t *testing.T) {
	s := NewScorer(Builtin("hey jarvis"))
	pcm := tone(WindowSamples, 440, 0.2)
	if n := testing.AllocsPerRun(10, func() { s.Score(pcm) }); n != 0 {
		t.Errorf("Score allocates %.0f times", n)
	}
}

func TestBuiltin(t *testing.T) {
	n := Builtin("  Hey   JARVIS ")
	if n == nil {
		t.Fatal(`no built-in net for "hey jarvis"`)
	}
	if len(n.Members) < 1 || n.Members[0].Hidden < 8 || !(n.Reject <= n.Accept && n.Accept < n.Rescue && n.Rescue <= n.Scan && n.Scan <= 1) {
		t.Errorf("built-in net: %d members, thresholds %+v", len(n.Members), n.Thresholds)
	}
	if Builtin("ok computer") != nil {
		t.Error(`a net for "ok computer"`)
	}
}

// toy makes examples of a problem a net must learn: a tone that rises
// through the window (the "wake phrase") or falls, at random pitches and
// levels, in noise.
func toy(rng *rand.Rand, f *Frontend, n int) []Example {
	var out []Example
	for k := 0; k < n; k++ {
		wake := k%2 == 0
		lo := 300 + rng.Float64()*500
		hi := lo * (2 + rng.Float64())
		a := 0.05 + rng.Float64()*0.4
		pcm := make([]int16, WindowSamples)
		phase := 0.0
		for i := range pcm {
			p := float64(i) / WindowSamples
			if !wake {
				p = 1 - p
			}
			phase += 2 * math.Pi * (lo + (hi-lo)*p) / SampleRate
			pcm[i] = int16(32767 * (a*math.Sin(phase) + 0.01*rng.NormFloat64()))
		}
		out = append(out, Example{X: f.Features(make([]float32, Inputs), pcm), Wake: wake})
	}
	return out
}

func TestTrain(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := NewFrontend()
	train, held := toy(rng, f, 200), toy(rng, f, 100)
	n := Train(train, "rise", TrainOptions{Hidden: 8, Epochs: 15, Members: 2, Seed: 3})
	sc := NewScorer(n)
	var wake, other []float32
	for _, e := range held {
		if s := sc.ScoreFeatures(e.X); e.Wake {
			wake = append(wake, s)
		} else {
			other = append(other, s)
		}
	}
	if lo, hi := Quantile(wake, 0), Quantile(other, 1); lo <= hi {
		t.Errorf("held-out rising tones score from %.3f, falling ones up to %.3f: not apart", lo, hi)
	}
	// Training is repeatable.
	again := Train(train, "rise", TrainOptions{Hidden: 8, Epochs: 15, Members: 2, Seed: 3})
	for k, m := range n.Members {
		if !equal(m.W1, again.Members[k].W1) || m.B2 != again.Members[k].B2 {
			t.Errorf("member %d: the same examples and seed trained two different nets", k)
		}
	}
	if equal(n.Members[0].W1, n.Members[1].W1) {
		t.Error("two members of a net start from the same seed")
	}

	th := PickThresholds(wake, other, []float32{0.2, 0.95, 0.97})
	if th.Reject > Quantile(wake, 0.01) || th.Accept < th.Reject || th.Rescue <= Quantile(other, 1) || th.Scan <= 0.95 || th.Scan > 0.97 || th.Scan < th.Rescue {
		t.Errorf("thresholds %+v for wake scores from %.3f and other up to %.3f", th, Quantile(wake, 0), Quantile(other, 1))
	}
	if th := PickThresholds(wake, other, nil); th.Scan != 1 {
		t.Errorf("no files scanned: Scan %v, want 1 (never)", th.Scan)
	}
}

func TestReadWrite(t *testing.T) {
	n := Builtin("hey jarvis")
	var buf bytes.Buffer
	if _, err := n.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	m, err := Read(bytes.NewReader(buf.Bytes()), "m")
	if err != nil {
		t.Fatal(err)
	}
	if m.Phrase != n.Phrase || m.Thresholds != n.Thresholds || len(m.Members) != len(n.Members) {
		t.Fatal("a net read back differs from the one written")
	}
	for k, a := range m.Members {
		b := n.Members[k]
		if a.Hidden != b.Hidden || !equal(a.W1, b.W1) || !equal(a.Scale, b.Scale) || a.B2 != b.B2 {
			t.Errorf("member %d read back differs from the one written", k)
		}
	}
	good := buf.Bytes()
	at := len(magic) + 4 + len(n.Phrase) // the thresholds
	patch := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	nan := patch(at+16+8+4, math.Float32bits(float32(math.NaN()))) // the first member's first mean
	threshold := patch(at, math.Float32bits(1.5))
	inputs := patch(at+16, Inputs+1)
	members := patch(at+20, 99)
	hidden := patch(at+24, 1<<30)
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "m: header: unexpected EOF"},
		{"magic", []byte("GIF89a" + strings.Repeat("x", 40)), "not a wake-word model"},
		{"version", append([]byte("earshot-wakenet-3\n"), good[len(magic):]...), "train it again"},
		{"truncated", good[:len(good)-3], "m: weights: unexpected EOF"},
		{"trailing", append(append([]byte(nil), good...), 0), "data after the model"},
		{"nan", nan, "member 1: a weight is NaN"},
		{"threshold", threshold, "threshold 1.5"},
		{"inputs", inputs, "made for 1217 inputs"},
		{"members", members, "99 members"},
		{"hidden", hidden, "member 1: hidden layer of 1073741824"},
	} {
		_, err := Read(bytes.NewReader(tt.data), "m")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one with %q", tt.name, err, tt.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	Builtin("hey jarvis").WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		// A net that reads must score without panicking.
		NewScorer(n).Score(make([]int16, 100))
	})
}

func BenchmarkScore(b *testing.B) {
	s := NewScorer(Builtin("hey jarvis"))
	pcm := tone(WindowSamples, 440, 0.2)
	b.ReportAllocs()
	for b.Loop() {
		s.Score(pcm)
	}
}

// BenchmarkScan is what the listener spends per 40 ms of speech it
// scans: two frames pushed to the stream and one scan.
func BenchmarkScan(b *testing.B) {
	s := NewScorer(Builtin("hey jarvis"))
	st := NewStream()
	st.Push(tone(WindowSamples, 440, 0.2))
	frame := tone(640, 300, 0.2)
	b.ReportAllocs()
	for b.Loop() {
		st.Push(frame)
		s.ScanStream(st, s.Net.Scan)
	}
}

// TestScanStream: a scan says yes exactly when the full score reaches the
// threshold, and then gives that score.
func TestScanStream(t *testing.T) {
	s := NewScorer(Builtin("hey jarvis"))
	st := NewStream()
	rng := rand.New(rand.NewPCG(3, 3))
	pcm := make([]int16, 2*WindowSamples)
	for i := range pcm {
		pcm[i] = int16(2000*math.Sin(float64(i)*0.03) + rng.NormFloat64()*500)
	}
	st.Push(pcm)
	full := s.ScoreStream(st)
	for _, th := range []float32{0, full / 2, full, full + 1e-3, 1} {
		got, ok := s.ScanStream(st, th)
		if ok != (full >= th) || (ok && got != full) {
			t.Errorf("threshold %v: scan %v, %v; the full score is %v", th, got, ok, full)
		}
	}
}
