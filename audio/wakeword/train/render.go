package train

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
)

// Clip is one rendered training example: audio, and where in it the wake
// phrase ends (in samples; -1 when it holds no wake phrase), and starts.
type Clip struct {
	PCM                    []int16
	PhraseStart, PhraseEnd int
}

// Effects vary a rendering the ways microphones, rooms and speakers do.
type Effects struct {
	Cents       int     // pitch shift, formants included
	Reverb      int     // sox reverberance, 0 for none
	Lowpass     int     // Hz, 0 for none
	Highpass    int     // Hz, 0 for none
	Noise       string  // one of noiseKinds, or ""
	SNR         float64 // dB of speech over noise
	PeakDBFS    float64 // level of the loudest sample
	Lead, Trail float64 // seconds of noise or silence around the speech
}

// randomEffects draws Effects.
func randomEffects(rng *rand.Rand) Effects {
	e := Effects{PeakDBFS: -1 - 29*rng.Float64(), Lead: 0.3 + 0.9*rng.Float64(), Trail: 0.2 + 0.5*rng.Float64()}
	if rng.Float64() < 0.5 {
		e.Cents = rng.IntN(501) - 250
	}
	if rng.Float64() < 0.4 {
		e.Reverb = 10 + rng.IntN(61)
	}
	if rng.Float64() < 0.3 {
		e.Lowpass = 3000 + rng.IntN(4001)
	}
	if rng.Float64() < 0.3 {
		e.Highpass = 100 + rng.IntN(301)
	}
	if rng.Float64() < 0.75 {
		e.Noise = pick(rng, noiseKinds)
		e.SNR = 30 * rng.Float64()
	}
	return e
}

// noiseKinds are the noises rendered under speech: steady ones of three
// colours, the babble of other people talking, and the clatter of a
// kitchen (dishes, cutlery, a tap), the last two as they come and go.
var noiseKinds = []string{"white", "pink", "brown", "babble", "clatter"}

// sox returns the sox effects of e that sox applies (the rest are done
// here).
func (e Effects) sox() []string {
	var fx []string
	if e.Cents != 0 {
		fx = append(fx, "pitch", strconv.Itoa(e.Cents))
	}
	if e.Highpass > 0 {
		fx = append(fx, "highpass", strconv.Itoa(e.Highpass))
	}
	if e.Lowpass > 0 {
		fx = append(fx, "lowpass", strconv.Itoa(e.Lowpass))
	}
	if e.Reverb > 0 {
		fx = append(fx, "reverb", strconv.Itoa(e.Reverb))
	}
	return fx
}

// speechBounds returns where speech starts and ends in pcm: the first and
// last 10 ms within 35 dB of the loudest.
func speechBounds(pcm []int16) (int, int) {
	const win = 160
	var energies []float64
	peak := 0.0
	for i := 0; i+win <= len(pcm); i += win {
		e := 0.0
		for _, v := range pcm[i : i+win] {
			e += float64(v) * float64(v)
		}
		energies = append(energies, e)
		peak = max(peak, e)
	}
	start, end := -1, -1
	for i, e := range energies {
		if e*3162 >= peak && peak > 0 {
			if start < 0 {
				start = i
			}
			end = i
		}
	}
	if start < 0 {
		return 0, 0
	}
	return start * win, (end + 1) * win
}

// trim cuts pcm to its speech.
func trim(pcm []int16) []int16 {
	s, e := speechBounds(pcm)
	return pcm[s:e]
}

// finish applies e to speech: effects, lead and trail, level and noise
// (drawn by noise, unit power, as long as asked). phraseStart and
// phraseEnd are sample positions in speech (or -1) and come back moved by
// the lead.
func finish(ctx context.Context, speech []int16, phraseStart, phraseEnd int, e Effects, noise func(kind string, n int) []float64) (Clip, error) {
	lead, trail := int(e.Lead*16000), int(e.Trail*16000)
	padded := make([]int16, lead+len(speech)+trail)
	copy(padded[lead:], speech)
	out, err := effect(ctx, padded, e.sox())
	if err != nil {
		return Clip{}, err
	}
	// sox keeps the length for these effects (reverb adds a tail, cut).
	out = out[:min(len(out), len(padded))]
	x := make([]float64, len(out))
	peak, power := 0.0, 0.0
	for i, v := range out {
		x[i] = float64(v)
		peak = max(peak, math.Abs(x[i]))
	}
	if peak == 0 {
		peak = 1
	}
	gain := 32767 * math.Pow(10, e.PeakDBFS/20) / peak
	for i := range x {
		x[i] *= gain
	}
	if e.Noise != "" {
		n := 0
		for _, v := range x[lead : lead+len(speech)] {
			power += v * v
			n++
		}
		power /= float64(max(n, 1))
		nx := noise(e.Noise, len(x))
		g := math.Sqrt(power / math.Pow(10, e.SNR/10))
		for i := range x {
			x[i] += g * nx[i]
		}
	}
	pcm := make([]int16, len(x))
	for i, v := range x {
		pcm[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	c := Clip{PCM: pcm, PhraseStart: -1, PhraseEnd: -1}
	if phraseEnd >= 0 {
		c.PhraseStart, c.PhraseEnd = phraseStart+lead, phraseEnd+lead
	}
	return c, nil
}

// makeNoise returns n samples of unit-power noise of a kind (one of
// noiseKinds). Babble is made of talk, other utterances rendered
// alongside (none of them the wake phrase), several at once at random
// offsets; without any it is pink.
func makeNoise(kind string, n int, rng *rand.Rand, talk [][]int16) []float64 {
	switch {
	case kind == "babble" && len(talk) > 0:
		return babble(n, rng, talk)
	case kind == "babble":
		kind = "pink"
	case kind == "clatter":
		return clatter(n, rng)
	}
	return colouredNoise(kind, n, rng)
}

// babble sums 2 to 6 voices of talk, each at its own level, looped to n
// samples.
func babble(n int, rng *rand.Rand, talk [][]int16) []float64 {
	x := make([]float64, n)
	for range 2 + rng.IntN(5) {
		t := talk[rng.IntN(len(talk))]
		if len(t) == 0 {
			continue
		}
		p := 0.0
		for _, v := range t {
			p += float64(v) * float64(v)
		}
		g := math.Pow(10, -6*rng.Float64()/20) / math.Sqrt(max(p/float64(len(t)), 1))
		off := rng.IntN(len(t))
		for i := range x {
			x[i] += g * float64(t[(off+i)%len(t)])
		}
	}
	return unitPower(x)
}

// clatter is a kitchen's: knocks and rings of dishes and cutlery (decaying
// tones over a click), a few a second, over a faint running tap.
func clatter(n int, rng *rand.Rand) []float64 {
	x := colouredNoise("white", n, rng)
	tap := 0.02 + 0.1*rng.Float64()
	for i := range x {
		x[i] *= tap
	}
	rate := 1 + 5*rng.Float64() // events per second
	for t := int(rng.ExpFloat64() / rate * 16000); t < n; t += 1 + int(rng.ExpFloat64()/rate*16000) {
		amp := math.Pow(10, -20*rng.Float64()/20)
		decay := 0.005 + 0.15*rng.Float64() // seconds
		var tones [3]float64
		for k := range tones {
			tones[k] = 2 * math.Pi * (400 + 7600*rng.Float64()) / 16000
		}
		for i := 0; t+i < n && float64(i) < decay*16000*7; i++ {
			env := amp * math.Exp(-float64(i)/(decay*16000))
			v := 0.0
			for _, w := range tones {
				v += math.Sin(w * float64(i))
			}
			if i < 80 {
				v += 3 * rng.NormFloat64()
			}
			x[t+i] += env * v
		}
	}
	return unitPower(x)
}

// unitPower scales x to a mean square of 1 (unless it is silent).
func unitPower(x []float64) []float64 {
	if p := math.Sqrt(meanSquare(x)); p > 0 {
		for i := range x {
			x[i] /= p
		}
	}
	return x
}

// meanSquare is the power of x, 0 for none.
func meanSquare(x []float64) float64 {
	p := 0.0
	for _, v := range x {
		p += v * v
	}
	return p / float64(max(len(x), 1))
}

// colouredNoise returns n samples of unit-power noise of a colour.
func colouredNoise(colour string, n int, rng *rand.Rand) []float64 {
	x := make([]float64, n)
	var b0, b1, b2, b3, b4, b5, b6, brown float64
	for i := range x {
		w := rng.NormFloat64()
		switch colour {
		case "pink": // Paul Kellet's filter
			b0 = 0.99886*b0 + w*0.0555179
			b1 = 0.99332*b1 + w*0.0750759
			b2 = 0.96900*b2 + w*0.1538520
			b3 = 0.86650*b3 + w*0.3104856
			b4 = 0.55000*b4 + w*0.5329522
			b5 = -0.7616*b5 - w*0.0168980
			x[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w*0.5362
			b6 = w * 0.115926
		case "brown":
			brown = 0.995*brown + w*0.1
			x[i] = brown
		default:
			x[i] = w
		}
	}
	return unitPower(x)
}
