package main

// Whole-daemon performance, measured on the real binary (built without the
// race detector) in one run on the same audio:
//
//	go test -run '^$' -bench BenchmarkDaemon -benchtime 1x ./cmd/earshot
//
// It reports CPU seconds per hour of idle audio (silence and speech without
// the wake word) and the ratio against pocketsphinx_continuous keyword
// spotting on the same file, the daemon's peak RSS, the latency from end of
// speech to the action record at a real mosquitto, and the time to READY=1.
// With -earshot.perf-opinion it runs the daemon with wake.second_opinion
// on, for what Moonshine adds to each.

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/earshot/earshot/device/hub/mosquittotest"
)

var (
	perfMinutes = flag.Float64("earshot.perf-minutes", 10, "minutes of idle audio for BenchmarkDaemon")
	perfOpinion = flag.Bool("earshot.perf-opinion", false, "BenchmarkDaemon with wake.second_opinion on (Moonshine, from make models)")
)

// ordinary is speech without the wake word, some of it close to commands.
var ordinary = []string{
	"could you pass me the salt please",
	"the meeting has been moved to thursday afternoon",
	"turn left at the next traffic light",
	"i think the kitchen needs a new coat of paint",
	"hey travis how was the football match",
	"we should set a time for the dinner party",
	"the lights in the stadium were very bright last night",
	"my sister lives in the bedroom community north of town",
	"remember to water the plants before you leave",
	"the weather forecast says it will rain all weekend",
	"jars of honey were on sale at the market",
	"please switch the channel to the news",
	"five minutes later the bus finally arrived",
	"he turned off the engine and waited",
	"what time does the library close on sunday",
	"the children were playing in the living room",
	"she bought a timer for her chess games",
	"delete the old photos from the camera when you can",
}

// buildIdleAudio renders ordinary speech with pauses into about minutes of audio.
func buildIdleAudio(b testing.TB, dir string, minutes float64) (string, time.Duration) {
	b.Helper()
	need(b, "flite", "sox")
	voices := []string{"slt", "rms", "awb", "kal"}
	var clips []string
	for i, s := range ordinary {
		raw := filepath.Join(dir, fmt.Sprintf("o%d-raw.wav", i))
		wav := filepath.Join(dir, fmt.Sprintf("o%d.wav", i))
		run(b, "flite", "-voice", voices[i%len(voices)], "-t", s, "-o", raw)
		run(b, "sox", raw, "-r", "16000", "-c", "1", "-b", "16", wav)
		clips = append(clips, wav)
	}
	gaps := make([]string, 8)
	for i := range gaps {
		gaps[i] = silence(b, dir, time.Duration(1+i)*time.Second)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var parts []string
	var total time.Duration
	for total < time.Duration(minutes*float64(time.Minute)) {
		parts = append(parts, clips[rng.IntN(len(clips))])
		g := rng.IntN(len(gaps))
		parts = append(parts, gaps[g])
		total += 3*time.Second + time.Duration(1+g)*time.Second // approximate; measured below
	}
	list := filepath.Join(dir, "idle.wav")
	run(b, "sox", append(parts, list)...)
	out, err := exec.Command("soxi", "-D", list).Output()
	if err != nil {
		b.Fatal(err)
	}
	var secs float64
	fmt.Sscanf(string(out), "%f", &secs)
	return list, time.Duration(secs * float64(time.Second))
}

// opinion adds wake.second_opinion to a config's sections when
// -earshot.perf-opinion asks for it.
func opinion(b *testing.B, sections map[string]string) map[string]string {
	if *perfOpinion {
		sections["wake"] = wakeSection(b) + "\n  second_opinion: true"
	}
	return sections
}

// rusage returns user+system CPU and peak RSS of a finished process.
func rusage(ps *os.ProcessState) (time.Duration, float64) {
	ru := ps.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, float64(ru.Maxrss) / 1024 // KiB -> MiB
}

func BenchmarkDaemon(b *testing.B) {
	need(b, "pocketsphinx_continuous", "mosquitto")
	dir := b.TempDir()
	bin := filepath.Join(dir, "earshot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	idle, length := buildIdleAudio(b, dir, *perfMinutes)
	cmdWav := speak(b, dir, "cmds", 1500*time.Millisecond,
		utterance{"hey jarvis, turn on the kitchen lights", "slt"},
		utterance{"hey jarvis, set a timer for five minutes", "rms"},
		utterance{"hey jarvis, switch off the bedroom lights", "slt"},
		utterance{"hey jarvis, turn on the office lights", "rms"},
		utterance{"hey jarvis, set a timer for ten minutes", "slt"},
		utterance{"hey jarvis, turn off the kitchen lights", "rms"},
		utterance{"hey jarvis, lights on in the living room", "slt"},
		utterance{"hey jarvis, stop the timer", "rms"},
		utterance{"hey jarvis, switch on the bathroom lights", "slt"},
		utterance{"hey jarvis, set a two minute timer", "rms"},
		utterance{"hey jarvis, turn the kitchen lights off", "slt"},
		utterance{"hey jarvis, cancel the timer", "rms"},
	)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// 1. Idle CPU and peak RSS: the whole file as fast as possible.
		notify := filepath.Join(dir, fmt.Sprintf("notify%d.sock", i))
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
		if err != nil {
			b.Fatal(err)
		}
		cfg := writeConfig(b, dir, opinion(b, map[string]string{"audio": "audio:\n  input: \"file:" + idle + "\""}))
		start := time.Now()
		d := startDaemonBin(b, bin, cfg, []string{"NOTIFY_SOCKET=" + notify}, "--realtime=false")
		buf := make([]byte, 1024)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		var ready time.Duration
		for ready == 0 {
			n, err := conn.Read(buf)
			if err != nil {
				b.Fatalf("no READY=1: %v", err)
			}
			if strings.Contains(string(buf[:n]), "READY=1") {
				ready = time.Since(start)
			}
		}
		conn.Close()
		frames := uint64(length / (20 * time.Millisecond))
		waitFor(b, "the idle audio to be consumed", 30*time.Minute, func() bool {
			st := d.status()
			return st.FramesRead >= frames-1 && !st.Listening
		})
		falseWakes := len(d.history())
		d.stop(syscall.SIGTERM, 10*time.Second)
		cpu, rss := rusage(d.cmd.ProcessState)

		// 2. The peer: pocketsphinx_continuous keyword spotting on the same file.
		kws := exec.Command("pocketsphinx_continuous", "-infile", idle, "-keyphrase", "hey jarvis",
			"-kws_threshold", "1e-20", "-logfn", "/dev/null")
		if out, err := kws.Output(); err != nil {
			b.Fatalf("pocketsphinx_continuous: %v\n%s", err, out)
		}
		kwsCPU, kwsRSS := rusage(kws.ProcessState)

		// 3. Latency: commands in real time, action records at a real broker.
		br := mosquittotest.Start(b)
		sp := newSpy(b, br)
		cfg = writeConfig(b, dir, opinion(b, map[string]string{
			"audio": "audio:\n  input: \"file:" + cmdWav + "\"",
			"mqtt":  "mqtt:\n  broker: " + br.URL + "\n  discovery: false",
		}))
		d = startDaemonBin(b, bin, cfg, nil, "--realtime=true")
		// The file source paces from its first frame: estimate that instant.
		t0 := time.Now()
		for j := 0; j < 20; j++ {
			if est := time.Now().Add(-time.Duration(d.status().FramesRead) * 20 * time.Millisecond); est.Before(t0) {
				t0 = est
			}
		}
		ends := speechEnds(b, cmdWav)
		waitFor(b, "the commands", 2*time.Minute, func() bool { return len(sp.on("/action")) >= len(ends) || !d.status().Listening })
		// Each action belongs to the last end of speech before it, so a
		// command that was not recognised does not shift the others.
		var lat []time.Duration
		for _, m := range sp.on("/action") {
			at := m.At.Sub(t0)
			k := len(ends) - 1
			for k >= 0 && ends[k] > at {
				k--
			}
			if k >= 0 {
				lat = append(lat, at-ends[k])
			}
		}
		d.stop(syscall.SIGTERM, 10*time.Second)
		slices.Sort(lat)
		if len(lat) == 0 {
			b.Fatal("no actions for the latency run")
		}

		hours := length.Hours()
		b.ReportMetric(cpu.Seconds()/hours, "cpu_s/audio_h")
		b.ReportMetric(kwsCPU.Seconds()/hours, "kws_cpu_s/audio_h")
		b.ReportMetric(cpu.Seconds()/kwsCPU.Seconds(), "ratio_vs_kws")
		b.ReportMetric(rss, "peak_rss_MB")
		b.ReportMetric(kwsRSS, "kws_rss_MB")
		b.ReportMetric(float64(ready.Milliseconds()), "ready_ms")
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "eos_to_action_p50_ms")
		b.ReportMetric(float64(lat[(len(lat)*95+99)/100-1].Milliseconds()), "eos_to_action_p95_ms")
		b.ReportMetric(float64(falseWakes), "false_wakes")
		b.ReportMetric(float64(len(lat)), "actions")
		b.Logf("idle audio %.1f min: daemon %.2f CPU s (%.1f MB peak), pocketsphinx_continuous KWS %.2f CPU s (%.1f MB); READY=1 after %v; end of speech to action: %v",
			length.Minutes(), cpu.Seconds(), rss, kwsCPU.Seconds(), kwsRSS, ready, lat)
	}
}

// speechEnds finds where each utterance's speech ends in a WAV of
// utterances separated by silence (sox's silence effect would also do).
func speechEnds(b testing.TB, wav string) []time.Duration {
	b.Helper()
	pcm := readPCM(b, wav)
	const frame = 320
	var ends []time.Duration
	loud, quiet := false, 0
	for i := 0; i+frame <= len(pcm); i += frame {
		var e float64
		for _, s := range pcm[i : i+frame] {
			e += float64(s) * float64(s)
		}
		if e/frame > 200*200 {
			loud, quiet = true, 0
			continue
		}
		quiet++
		// 400 ms of quiet ends an utterance (flite's pauses between words are shorter).
		if loud && quiet == 20 {
			ends = append(ends, time.Duration(i-19*frame)*time.Second/16000)
			loud = false
		}
	}
	return ends
}
