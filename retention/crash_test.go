package retention

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
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

// crashSizeCap is the max_bytes of the "size" trials: a handful of records,
// so eviction runs inside most appends.
const crashSizeCap = 48 << 10

// crashChild runs in a re-executed test binary: it appends and deletes in a
// loop, reporting each operation on stdout before it starts (lower case)
// and after it returned (upper case), until the parent SIGKILLs it. In odd
// trials it runs with a small max_bytes, so eviction (reported as "S n")
// happens inside appends, and also deletes by time.
func crashChild() {
	dir := os.Getenv(crashChildEnv)
	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 7))
	out := os.Stdout
	die := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", what, err)
		os.Exit(2)
	}
	o := Options{Window: 24 * time.Hour, OnReceipt: func(rc Receipt) { fmt.Fprintf(out, "S %d\n", rc.Records) }}
	sizeMode := seed%2 == 1
	if sizeMode {
		o.MaxBytes = crashSizeCap
	}
	fmt.Fprintln(out, "o")
	s, err := Open(dir, o)
	if err != nil {
		die("open", err)
	}
	fmt.Fprintln(out, "O")
	live, err := s.List(Filter{})
	if err != nil {
		die("list", err)
	}
	for seq := seed * 1_000_000; ; seq++ {
		n := strconv.FormatUint(seq, 10)
		fmt.Fprintf(out, "a %d\n", seq)
		r, err := s.Append(Record{Transcript: "utterance " + n, Intent: "Seq", Slots: map[string]string{"n": n}}, tone(rng.IntN(8000), int(seq)))
		if err != nil {
			die("append", err)
		}
		fmt.Fprintf(out, "A %d %s %d\n", seq, r.ID, r.Time.UnixNano())
		live = append(live, r)
		switch p := rng.IntN(1000); {
		case p < 400 && len(live) > 0:
			i := rng.IntN(len(live))
			id := live[i].ID
			live = slices.Delete(live, i, i+1)
			fmt.Fprintf(out, "d %s\n", id)
			if _, err := s.Delete(id); err != nil && !errors.Is(err, ErrNotFound) { // evicted meanwhile
				die("delete", err)
			}
			fmt.Fprintf(out, "D %s\n", id)
		case p < 405:
			fmt.Fprintln(out, "x")
			if _, err := s.DeleteAll(); err != nil {
				die("delete all", err)
			}
			fmt.Fprintln(out, "X")
			live = live[:0]
		case sizeMode && p < 450 && len(live) > 0:
			t := live[rng.IntN(len(live))].Time
			fmt.Fprintf(out, "b %d\n", t.UnixNano())
			if _, err := s.DeleteBefore(t); err != nil {
				die("delete before", err)
			}
			fmt.Fprintf(out, "B %d\n", t.UnixNano())
			live = slices.DeleteFunc(live, func(r Record) bool { return r.Time.Before(t) })
		}
	}
}

type crashRec struct {
	seq  uint64
	time int64
}

// crashModel is what the parent knows the child acknowledged.
type crashModel struct {
	present map[string]crashRec // acknowledged, not deleted
	deleted map[string]bool     // acknowledged deletions
	// in flight when the child died
	opening   bool
	appending uint64
	deleting  string
	wiping    bool
	before    int64 // DeleteBefore time, 0 if none
}

func (m *crashModel) apply(line string) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return errors.New("empty line")
	}
	var err error
	num := func(s string) int64 {
		v, perr := strconv.ParseInt(s, 10, 64)
		err = errors.Join(err, perr)
		return v
	}
	switch f[0] {
	case "o":
		m.opening = true
	case "O":
		m.opening = false
	case "a":
		m.appending = uint64(num(f[1]))
	case "A":
		m.present[f[2]] = crashRec{seq: uint64(num(f[1])), time: num(f[3])}
		m.appending = 0
	case "S":
		// Eviction took the n oldest; ids sort by time.
		for _, id := range m.oldest(int(num(f[1]))) {
			m.drop(id)
		}
	case "d":
		m.deleting = f[1]
	case "D":
		m.drop(f[1])
		m.deleting = ""
	case "x":
		m.wiping = true
	case "X":
		for id := range m.present {
			m.drop(id)
		}
		m.wiping = false
	case "b":
		m.before = num(f[1])
	case "B":
		for id, r := range m.present {
			if r.time < m.before {
				m.drop(id)
			}
		}
		m.before = 0
	default:
		return fmt.Errorf("unknown line %q", line)
	}
	return err
}

func (m *crashModel) drop(id string) {
	delete(m.present, id)
	m.deleted[id] = true
}

func (m *crashModel) oldest(n int) []string {
	ids := slices.Sorted(maps.Keys(m.present))
	return ids[:min(n, len(ids))]
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
	m := &crashModel{present: map[string]crashRec{}, deleted: map[string]bool{}}
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
	// Nothing expires within a day and this open has no size cap, so any
	// receipt means the store found a record that does not authenticate
	// and destroyed it: a corrupt record.
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
	got := make(map[string]crashRec, len(recs))
	for _, r := range recs {
		seq, err := strconv.ParseUint(r.Slots["n"], 10, 64)
		if err != nil || r.Transcript != "utterance "+r.Slots["n"] || r.Intent != "Seq" {
			return fmt.Errorf("record %s is not one that was written: %+v", r.ID, r)
		}
		if m.deleted[r.ID] {
			return fmt.Errorf("deleted record %s (seq %d) came back", r.ID, seq)
		}
		want, ok := m.present[r.ID]
		if ok && (want.seq != seq || want.time != r.Time.UnixNano()) {
			return fmt.Errorf("record %s is seq %d at %v, want seq %d at %d", r.ID, seq, r.Time, want.seq, want.time)
		}
		if !ok && seq != m.appending {
			return fmt.Errorf("record %s (seq %d) appeared but was neither acknowledged nor in flight (%d)", r.ID, seq, m.appending)
		}
		pcm, err := s.Audio(r.ID)
		if err != nil {
			return fmt.Errorf("audio of %s: %w", r.ID, err)
		}
		if want := tone(len(pcm), int(seq)); !slices.Equal(pcm, want) {
			return fmt.Errorf("audio of %s differs from what was written", r.ID)
		}
		got[r.ID] = crashRec{seq: seq, time: r.Time.UnixNano()}
	}
	// An acknowledged record may be missing only because the operation in
	// flight was removing it: that delete, a DeleteAll, a DeleteBefore
	// covering it, or an eviction (inside an append or at open), which
	// takes the oldest first.
	var evicted []string
	for id, r := range m.present {
		if _, ok := got[id]; ok || id == m.deleting || m.wiping || (m.before != 0 && r.time < m.before) {
			continue
		}
		evicted = append(evicted, id)
	}
	slices.Sort(evicted)
	if len(evicted) > 0 {
		if m.appending == 0 && !m.opening {
			return fmt.Errorf("acknowledged records %v were lost", evicted)
		}
		if !slices.Equal(evicted, m.oldest(len(evicted))) {
			return fmt.Errorf("records %v were lost, but eviction takes the oldest first", evicted)
		}
	}
	// The store as it is now is the truth for the next trial; what was
	// being removed and is gone counts as deleted.
	for id := range m.present {
		if _, ok := got[id]; !ok {
			m.deleted[id] = true
		}
	}
	m.present = got
	m.opening, m.appending, m.deleting, m.wiping, m.before = false, 0, "", false, 0
	return nil
}
