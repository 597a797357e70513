package cli

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot/earshot/retention"
)

// Under systemd the text handler's time= was noise (the journal has it) and
// every line had the journal's default priority, so `journalctl -p warning`
// missed the errors. Each line now starts with its syslog priority.
func TestJournalLinesCarryPriorities(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&Env{Stderr: &buf, Journal: true}, slog.LevelDebug).With("component", "test")
	log.Debug("chatter")
	log.Info("listening", "window", "24h")
	log.Warn("broker unreachable")
	log.Error("microphone gone")
	log.WithGroup("g").Log(t.Context(), slog.LevelError+2, "worse")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{"<7>level=DEBUG msg=chatter component=test", "<6>level=INFO msg=listening component=test window=24h",
		"<4>level=WARN msg=\"broker unreachable\" component=test", "<3>level=ERROR msg=\"microphone gone\" component=test", "<3>level=ERROR+2 msg=worse"}
	if len(lines) != len(want) {
		t.Fatalf("lines:\n%s", buf.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start %q", i, lines[i], w)
		}
	}
	if strings.Contains(buf.String(), "time=") {
		t.Errorf("journal lines carry time=:\n%s", buf.String())
	}

	// On a terminal or in a file, times stay and there is no prefix.
	buf.Reset()
	newLogger(&Env{Stderr: &buf}, slog.LevelInfo).Warn("careful")
	if !strings.HasPrefix(buf.String(), "time=") {
		t.Errorf("terminal line %q", buf.String())
	}
}

// The commands log through it: purge's warning about a foreign file in
// the store is a <4> line under systemd.
func TestPurgeLogsToTheJournalWithPriorities(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "")
	store := filepath.Join(dir, "state", "store")
	st, err := retention.Open(store, retention.Options{Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	os.WriteFile(filepath.Join(store, "stray.txt"), []byte("?"), 0o600)
	var out, errb bytes.Buffer
	code := Main(t.Context(), []string{"purge", "--config", cfg}, &Env{Stdout: &out, Stderr: &errb, Journal: true})
	if code != 0 || !strings.Contains(errb.String(), "<4>level=WARN msg=\"quarantined file\"") {
		t.Errorf("purge: exit %d, stderr:\n%s", code, errb.String())
	}
}
