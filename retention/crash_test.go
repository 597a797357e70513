package retention

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The long variant runs 2000 crash trials: `go test ./retention -long`, or
// EARSHOT_LONG=1 when the flag cannot be passed (go test ./...).
var long = flag.Bool("long", false, "run the long variants (more crash trials)")

const (
	crashChildEnv = "EARSHOT_RETENTION_CRASH_DIR"
	crashSeedEnv  = "EARSHOT_RETENTION_CRASH_SEED"
)

// crashChild runs in a re-executed test binary: it appends and deletes in a
// loop, reporting each operation on stdout before it starts (lower case)
// and after it returned (upper case), until the parent SIGKILLs it.
func crashChild() {
	dir := os.Getenv(crashChildEnv)
	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 7))
	s, err := Open(dir, Options{Window: 24 * time.Hour})
	if err != nil {
		fmt.Fprintf(os.Stderr, "child open: %v\n", err)
		os.Exit(2)
	}
	known, err := s.List(Filter{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "child list: %v\n", err)
		os.Exit(2)
	}
	var live []string
	for _, r := range known {
		live = append(live, r.ID)
	}
	out := os.Stdout
	for seq := seed * 1_000_000; ; seq++ {
		n := strconv.FormatUint(seq, 10)
		fmt.Fprintf(out, "a %d\n", seq)
		r, err := s.Append(Record{Transcript: "utterance " + n, Intent: "Seq", Slots: map[string]string{"n": n}}, tone(rng.IntN(8000), int(seq)))
		if err != nil {
			fmt.Fprintf(os.Stderr, "child append: %v\n", err)
			os.Exit(2)
		}
		fmt.Fprintf(out, "A %d %s\n", seq, r.ID)
		live = append(live, r.ID)
		switch p := rng.IntN(1000); {
		case p < 400 && len(live) > 0:
			i := rng.IntN(len(live))
			id := live[i]
			live = slices.Delete(live, i, i+1)
			fmt.Fprintf(out, "d %s\n", id)
			if _, err := s.Delete(id); err != nil {
				fmt.Fprintf(os.Stderr, "child delete: %v\n", err)
				os.Exit(2)
			}
			fmt.Fprintf(out, "D %s\n", id)
		case p < 405:
			fmt.Fprintln(out, "x")
			if _, err := s.DeleteAll(); err != nil {
				fmt.Fprintf(os.Stderr, "child delete all: %v\n", err)
				os.Exit(2)
			}
			fmt.Fprintln(out, "X")
			live = live[:0]
		}
	}
}

// crashModel is what the parent knows the child acknowledged.
type crashModel struct {
	present map[string]uint64 // acknowledged, not deleted: id -> seq
	deleted map[string]bool   // acknowledged deletions
	// in flight when the child died
	appending uint64
	deleting  string
	wiping    bool
}

func (m *crashModel) apply(line string) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return errors.New("empty line")
	}
	switch f[0] {
	case "a":
		seq, err := strconv.ParseUint(f[1], 10, 64)
		m.appending = seq
		return err
	case "A":
		seq, err := strconv.ParseUint(f[1], 10, 64)
		m.present[f[2]] = seq
		m.appending = 0
		return err
	case "d":
		m.deleting = f[1]
	case "D":
		delete(m.present, f[1])
		m.deleted[f[1]] = true
		m.deleting = ""
	case "x":
		m.wiping = true
	case "X":
		for id := range m.present {
			m.deleted[id] = true
		}
		clear(m.present)
		m.wiping = false
	default:
		return fmt.Errorf("unknown line %q", line)
	}
	return nil
}

// TestCrashSafety SIGKILLs a child that appends and deletes at random
// moments, then checks the store: it opens, every record decrypts and is
// the one written, nothing acknowledged as deleted comes back, and nothing
// acknowledged as stored is lost.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary hundreds of times")
	}
	trials := 200
	if *long || os.Getenv("EARSHOT_LONG") != "" {
		trials = 2000
	}
	dir := t.TempDir()
	m := &crashModel{present: map[string]uint64{}, deleted: map[string]bool{}}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	failures := 0
	for trial := 1; trial <= trials && failures < 5; trial++ {
		if err := crashTrial(dir, trial, rng.IntN(120)+1, m); err != nil {
			failures++
			t.Errorf("trial %d: %v", trial, err)
		}
		if trial%250 == 0 {
			t.Logf("%d trials, %d failures", trial, failures)
		}
	}
	t.Logf("crash trials: %d, failures: %d, records at the end: %d, deletions checked: %d", trials, failures, len(m.present), len(m.deleted))
}

func crashTrial(dir string, trial, killAfter int, m *crashModel) error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashSeedEnv+"="+strconv.Itoa(trial))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdout)
	lines := 0
	for sc.Scan() {
		if err := m.apply(sc.Text()); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return err
		}
		if lines++; lines == killAfter {
			cmd.Process.Kill() // SIGKILL: no deferred code, no flush
			break
		}
	}
	// Lines the child wrote before it died are still in the pipe.
	for sc.Scan() {
		if err := m.apply(sc.Text()); err != nil {
			return err
		}
	}
	io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	if lines < killAfter {
		return fmt.Errorf("child exited on its own (%v): %s", werr, stderr.String())
	}
	return verifyAfterCrash(dir, m)
}

func verifyAfterCrash(dir string, m *crashModel) error {
	// Nothing expires within a day, so any receipt means the store found a
	// record that does not authenticate and destroyed it: a corrupt record.
	var receipts []Receipt
	s, err := Open(dir, Options{Window: 24 * time.Hour, OnReceipt: func(rc Receipt) { receipts = append(receipts, rc) }})
	if err != nil {
		return fmt.Errorf("open after kill: %w", err)
	}
	defer s.Close()
	recs, err := s.List(Filter{})
	if err != nil {
		return fmt.Errorf("list after kill: %w", err)
	}
	if len(receipts) > 0 {
		return fmt.Errorf("store destroyed records it could not authenticate: %+v", receipts)
	}
	got := make(map[string]uint64, len(recs))
	for _, r := range recs {
		seq, err := strconv.ParseUint(r.Slots["n"], 10, 64)
		if err != nil || r.Transcript != "utterance "+r.Slots["n"] || r.Intent != "Seq" {
			return fmt.Errorf("record %s is not one that was written: %+v", r.ID, r)
		}
		if m.deleted[r.ID] {
			return fmt.Errorf("deleted record %s (seq %d) came back", r.ID, seq)
		}
		if want, ok := m.present[r.ID]; ok && want != seq {
			return fmt.Errorf("record %s has seq %d, want %d", r.ID, seq, want)
		}
		if _, ok := m.present[r.ID]; !ok && seq != m.appending {
			return fmt.Errorf("record %s (seq %d) appeared but was neither acknowledged nor in flight (%d)", r.ID, seq, m.appending)
		}
		pcm, err := s.Audio(r.ID)
		if err != nil {
			return fmt.Errorf("audio of %s: %w", r.ID, err)
		}
		if want := tone(len(pcm), int(seq)); !slices.Equal(pcm, want) {
			return fmt.Errorf("audio of %s differs from what was written", r.ID)
		}
		got[r.ID] = seq
	}
	for id, seq := range m.present {
		if _, ok := got[id]; !ok && id != m.deleting && !m.wiping {
			return fmt.Errorf("acknowledged record %s (seq %d) was lost", id, seq)
		}
	}
	// The store as it is now is the truth for the next trial; a record that
	// was being deleted or wiped and is gone counts as deleted.
	for id := range m.present {
		if _, ok := got[id]; !ok {
			m.deleted[id] = true
		}
	}
	m.present = got
	m.appending, m.deleting, m.wiping = 0, "", false
	return nil
}
