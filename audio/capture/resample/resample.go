// Package resample converts mono 16-bit PCM between sample rates with a
// windowed-sinc low-pass, so a 44.1 or 48 kHz WAV can feed the 16 kHz
// pipeline without aliasing. It is for whole clips (files, playback), not
// for the per-frame capture path, and it allocates its output.
package resample

import (
	"fmt"
	"math"
)

// halfTaps is the kernel half-width in output-rate-normalised zero
// crossings: enough for ~50 dB stopband, cheap enough for minutes of audio.
const halfTaps = 16

// MaxRate bounds accepted rates; anything above is surely a corrupt header.
const MaxRate = 384000

// PCM returns pcm resampled from rate from to rate to. Equal rates return a
// copy.
func PCM(pcm []int16, from, to int) ([]int16, error) {
	if from <= 0 || to <= 0 || from > MaxRate || to > MaxRate {
		return nil, fmt.Errorf("resample: rates %d Hz -> %d Hz: want 1..%d Hz", from, to, MaxRate)
	}
	if from == to {
		return append([]int16(nil), pcm...), nil
	}
	n := int(int64(len(pcm)) * int64(to) / int64(from))
	out := make([]int16, n)
	ratio := float64(from) / float64(to)
	// Cut off below the lower Nyquist frequency; when downsampling the
	// kernel widens by the ratio to keep the same stopband.
	cutoff := 0.95 * math.Min(1, 1/ratio) // in cycles per input sample * 2
	width := float64(halfTaps) / cutoff   // kernel half-width in input samples
	for i := range out {
		centre := float64(i) * ratio
		lo := int(math.Ceil(centre - width))
		hi := int(math.Floor(centre + width))
		var acc, wsum float64
		for j := max(lo, 0); j <= min(hi, len(pcm)-1); j++ {
			x := float64(j) - centre
			w := cutoff * sinc(cutoff*x) * blackman(x/width)
			acc += w * float64(pcm[j])
			wsum += w
		}
		if wsum != 0 {
			// Normalising by the kernel sum keeps DC gain at exactly 1,
			// also near the edges where the kernel is cut short.
			acc /= wsum
		}
		out[i] = int16(math.Round(math.Max(-32768, math.Min(32767, acc))))
	}
	return out, nil
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window on [-1, 1].
func blackman(x float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	t := math.Pi * (x + 1)
	return 0.42 - 0.5*math.Cos(t) + 0.08*math.Cos(2*t)
}
