package capture

import (
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/preroll"
	"github.com/earshot/earshot/audio/vad"
)

// framePath is the per-frame work between the microphone and the wake-word
// spotter: read a frame, keep it in the pre-roll, ask the VAD about it.
type framePath struct {
	src   audio.Source
	ring  *preroll.Ring
	vad   *vad.Detector
	frame []int16
}

func newFramePath(src audio.Source) *framePath {
	return &framePath{
		src:   src,
		ring:  preroll.New(time.Second),
		vad:   vad.New(vad.Config{}),
		frame: make([]int16, audio.FrameSamples),
	}
}

func (p *framePath) step() (speech bool, err error) {
	if err := p.src.Read(p.frame); err != nil {
		return false, err
	}
	p.ring.Write(p.frame)
	return p.vad.IsSpeech(p.frame), nil
}

func noise(n int, dbfs float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 9))
	amp := 32768 * math.Pow(10, dbfs/20)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * r.NormFloat64())
	}
	return s
}

func TestFramePathDoesNotAllocate(t *testing.T) {
	src := NewPCMSource("noise", noise(audio.SampleRate, -40, 1), FileOptions{Loop: true})
	started(t, src)
	p := newFramePath(src)
	if a := testing.AllocsPerRun(200, func() { _, _ = p.step() }); a != 0 {
		t.Fatalf("capture -> pre-roll -> VAD allocated %.1f times per frame, want 0", a)
	}
}

// TestSpokenCommandThroughFramePath runs real synthesised speech, framed by
// room noise, through file source, pre-roll and VAD: the VAD must find the
// speech, find its end, and the pre-roll must hold audio from before it.
func TestSpokenCommandThroughFramePath(t *testing.T) {
	espeak, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Skip("espeak-ng not installed (apt-get install espeak-ng)")
	}
	wav := filepath.Join(t.TempDir(), "cmd.wav")
	if out, err := exec.Command(espeak, "-w", wav, "turn on the kitchen lights").CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	clip, err := OpenFile(wav, FileOptions{}) // 22.05 kHz: exercises resampling
	if err != nil {
		t.Fatal(err)
	}
	speech := clip.pcm
	lead, tail := 2*audio.SampleRate, 2*audio.SampleRate
	pcm := noise(lead+len(speech)+tail, -55, 2)
	for i, s := range speech {
		pcm[lead+i] = int16(max(-32768, min(32767, int(pcm[lead+i])+int(s))))
	}
	p := newFramePath(started(t, NewPCMSource("room+speech", pcm, FileOptions{})))

	const endSilence = 35 // 700 ms of frames, the default speech.end_silence
	frameAt := func(sample int) int { return sample / audio.FrameSamples }
	onset, end, silent := -1, -1, 0
	var snapshot []int16
	for i := 0; ; i++ {
		sp, err := p.step()
		if err != nil {
			break
		}
		if sp && onset < 0 {
			onset = i
			snapshot = p.ring.Snapshot(nil)
		}
		if sp {
			silent = 0
		} else if silent++; onset >= 0 && end < 0 && silent == endSilence {
			end = i
		}
	}
	speechStart, speechEnd := frameAt(lead), frameAt(lead+len(speech))
	t.Logf("speech frames %d..%d; VAD onset %d, end of speech %d", speechStart, speechEnd, onset, end)
	if onset < speechStart || onset > speechStart+10 {
		t.Fatalf("speech found at frame %d, want within 200 ms of %d", onset, speechStart)
	}
	// End of speech: end_silence after the last word, give or take the
	// quiet tail espeak leaves and the VAD's hangover.
	if end < speechEnd || end > speechEnd+endSilence+10 {
		t.Fatalf("end of speech at frame %d, want between %d and %d", end, speechEnd, speechEnd+endSilence+10)
	}
	if len(snapshot) != audio.SampleRate {
		t.Fatalf("pre-roll at onset holds %d samples, want a full second", len(snapshot))
	}
	// The pre-roll ends with the onset frame, so it starts a second before.
	from := (onset+1)*audio.FrameSamples - audio.SampleRate
	for i, v := range snapshot {
		if v != pcm[from+i] {
			t.Fatalf("pre-roll sample %d differs from the input at %d", i, from+i)
		}
	}
}

// BenchmarkFramePath measures capture -> pre-roll -> VAD per 20 ms frame.
// cpu-% is the share of one core this takes in real time.
func BenchmarkFramePath(b *testing.B) {
	src := NewPCMSource("noise", noise(audio.SampleRate, -40, 1), FileOptions{Loop: true})
	if err := src.Start(); err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	p := newFramePath(src)
	b.ReportAllocs()
	b.SetBytes(2 * audio.FrameSamples)
	for b.Loop() {
		if _, err := p.step(); err != nil {
			b.Fatal(err)
		}
	}
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(100*perFrame/float64(audio.FrameDuration.Nanoseconds()), "cpu-%")
}
