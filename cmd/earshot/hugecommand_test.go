package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earshot/earshot/device/hub/mosquittotest"
)

// BenchmarkHugeCommand measures what one 64 MiB message on cmd/state costs
// the real daemon (built without the race detector), at a real mosquitto:
//
//	go test -run '^$' -bench HugeCommand -benchtime 1x ./cmd/earshot
//
// It reports the daemon's RSS before, its peak (VmHWM) while the message
// went past, and its RSS once answered. paho reads a whole packet into
// memory; the link cuts an oversized payload out as it streams in.
func BenchmarkHugeCommand(b *testing.B) {
	need(b, "mosquitto")
	dir := b.TempDir()
	bin := filepath.Join(dir, "earshot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	br := mosquittotest.Start(b)
	sp := newSpy(b, br)
	cfg := writeConfig(b, dir, map[string]string{
		"audio": "audio:\n  input: \"file:" + silence(b, dir, time.Second) + "\"",
		"mqtt":  "mqtt:\n  broker: " + br.URL,
	})
	d := startDaemonBin(b, bin, cfg, nil)
	waitFor(b, "hub link", 10*time.Second, func() bool { return d.status().Hub == "connected" })
	const size = 64 << 20
	payload := append([]byte(`{"id":"big","pad":"`), bytes.Repeat([]byte("x"), size-22)...)
	payload = append(payload, `"}`...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := procStatus(b, d.cmd.Process.Pid)
		replies := len(sp.on("/reply"))
		sp.publish(b, "earshot/test-speaker/cmd/state", string(payload))
		waitFor(b, "the refusal", 60*time.Second, func() bool {
			rs := sp.on("/reply")
			return len(rs) > replies && bytes.Contains(rs[len(rs)-1].Payload, []byte(fmt.Sprintf("payload of %d bytes exceeds 4096", len(payload))))
		})
		after := procStatus(b, d.cmd.Process.Pid)
		b.ReportMetric(before["VmRSS"], "rss_mb_before")
		b.ReportMetric(after["VmHWM"], "peak_rss_mb")
		b.ReportMetric(after["VmRSS"], "rss_mb_after")
	}
	if st := d.status(); st.Hub != "connected" {
		b.Errorf("hub link after the huge command: %s", st.Hub)
	}
}

// procStatus reads the Vm* lines of /proc/PID/status, in MB.
func procStatus(b testing.TB, pid int) map[string]float64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(k, "Vm") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err == nil {
			out[k] = kb / 1024
		}
	}
	return out
}
