package retention

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threeRecords makes a store holding a, b, c and closes it.
func threeRecords(t *testing.T, clk *fakeClock) (dir string, recs []Record, ents []slotEntry) {
	t.Helper()
	dir = t.TempDir()
	s := mustOpen(t, dir, testOptions(t, clk, nil))
	for i, tr := range []string{"alpha", "bravo", "charlie"} {
		clk.Advance(time.Second)
		r := mustAppend(t, s, Record{Transcript: tr}, tone(2000, i))
		recs = append(recs, r)
		ents = append(ents, s.byID[mustParse(t, r.ID)].slotEntry)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, recs, ents
}

// checkIntact asserts exactly want are listed and every one decrypts.
func checkIntact(t *testing.T, s *Store, want []Record) {
	t.Helper()
	got := mustList(t, s)
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("listed %v, want %v", ids(got), ids(want))
	}
	for i, r := range got {
		if r.Transcript != want[i].Transcript {
			t.Errorf("%s: transcript %q, want %q", r.ID, r.Transcript, want[i].Transcript)
		}
		if _, err := s.Audio(r.ID); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
	}
}

func TestForeignFilesQuarantined(t *testing.T) {
	clk := newFakeClock(epoch)
	dir, recs, _ := threeRecords(t, clk)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o600)
	os.WriteFile(filepath.Join(dir, "seg-zz"), []byte("not a segment"), 0o600)
	os.Mkdir(filepath.Join(dir, "cache"), 0o700)
	s := mustOpen(t, dir, testOptions(t, clk, nil))
	checkIntact(t, s, recs)
	q, _ := os.ReadDir(filepath.Join(dir, quarantineDir))
	if len(q) != 3 {
		t.Fatalf("quarantine holds %d entries, want 3", len(q))
	}
	for _, name := range []string{"notes.txt", "seg-zz", "cache"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still in the store dir", name)
		}
	}
	s.Close()
	// Quarantine never outlives the window.
	clk.Advance(25 * time.Hour)
	mustOpen(t, dir, testOptions(t, clk, nil))
	if q, _ := os.ReadDir(filepath.Join(dir, quarantineDir)); len(q) != 0 {
		t.Fatalf("quarantine still holds %d entries after the window", len(q))
	}
}

func TestDamagedSegment(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, seg string, ents []slotEntry)
		// listed at open, and left after reading every record's audio
		listed, left []int
		quarantined  bool
	}{
		{"truncated mid-record", func(t *testing.T, seg string, e []slotEntry) {
			os.Truncate(seg, e[1].off+int64(e[1].length)/2)
		}, []int{0}, []int{0}, false},
		{"bit flip in audio", func(t *testing.T, seg string, e []slotEntry) {
			flipByte(t, seg, e[1].off+int64(e[1].metaLen)+100)
		}, []int{0, 1, 2}, []int{0, 2}, false},
		{"bit flip in metadata", func(t *testing.T, seg string, e []slotEntry) {
			flipByte(t, seg, e[1].off+3)
		}, []int{0, 2}, []int{0, 2}, false},
		{"header damaged", func(t *testing.T, seg string, e []slotEntry) {
			flipByte(t, seg, 1)
		}, nil, nil, true},
		{"segment missing", func(t *testing.T, seg string, e []slotEntry) {
			os.Remove(seg)
		}, nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(epoch)
			dir, recs, ents := threeRecords(t, clk)
			tc.damage(t, filepath.Join(dir, segName(ents[0].seg)), ents)
			rl := &receiptLog{}
			s := mustOpen(t, dir, testOptions(t, clk, rl))
			pick := func(idx []int) []Record {
				var out []Record
				for _, i := range idx {
					out = append(out, recs[i])
				}
				return out
			}
			got := mustList(t, s)
			if !slices.Equal(ids(got), ids(pick(tc.listed))) {
				t.Fatalf("listed %v, want %v", ids(got), ids(pick(tc.listed)))
			}
			for _, r := range got {
				_, err := s.Audio(r.ID)
				if err != nil && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Audio(%s) = %v, want nil or ErrCorrupt", r.ID, err)
				}
			}
			checkIntact(t, s, pick(tc.left))
			_, err := os.Stat(filepath.Join(dir, quarantineDir))
			if tc.quarantined != (err == nil) {
				t.Errorf("quarantine dir exists: %v, want %v", err == nil, tc.quarantined)
			}
			s.Close()
			s = mustOpen(t, dir, testOptions(t, clk, nil))
			checkIntact(t, s, pick(tc.left))
		})
	}
}

func TestEmptySegmentFromCrashedCreate(t *testing.T) {
	clk := newFakeClock(epoch)
	dir, recs, _ := threeRecords(t, clk)
	stub := filepath.Join(dir, segName(99))
	os.WriteFile(stub, encodeSegHeader(99)[:7], 0o600)
	s := mustOpen(t, dir, testOptions(t, clk, nil))
	checkIntact(t, s, recs)
	if _, err := os.Stat(stub); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("segment cut short at creation was not removed")
	}
	if _, err := os.Stat(filepath.Join(dir, quarantineDir)); err == nil {
		t.Fatal("a segment cut short at creation was quarantined")
	}
}

func TestDamagedIndex(t *testing.T) {
	idxPath := func(dir string) string { return filepath.Join(dir, indexFile) }
	newest := func(t *testing.T, dir string) int64 {
		b, _ := os.ReadFile(idxPath(dir))
		_, c, err := decodeHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		return int64(c)
	}
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		left    []int
		openErr string
	}{
		{"bit flip in a slot", func(t *testing.T, dir string) {
			flipByte(t, idxPath(dir), headerSize+1*slotSize+40)
		}, []int{0, 2}, ""},
		{"torn slot at the end", func(t *testing.T, dir string) {
			f, _ := os.OpenFile(idxPath(dir), os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte(strings.Repeat("\x5a", 60)))
			f.Close()
		}, []int{0, 1, 2}, ""},
		{"newest header copy damaged", func(t *testing.T, dir string) {
			flipByte(t, idxPath(dir), newest(t, dir)*headerCopySize+20)
		}, []int{0, 1, 2}, ""},
		{"both header copies damaged", func(t *testing.T, dir string) {
			flipByte(t, idxPath(dir), 2)
			flipByte(t, idxPath(dir), headerCopySize+2)
		}, nil, "both header copies are damaged"},
		{"index cut to a few bytes", func(t *testing.T, dir string) {
			os.Truncate(idxPath(dir), 10)
		}, nil, "shorter than its"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(epoch)
			dir, recs, _ := threeRecords(t, clk)
			before := storeFiles(t, dir)
			tc.damage(t, dir)
			s, err := Open(dir, testOptions(t, clk, nil))
			if tc.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.openErr) || !strings.Contains(err.Error(), indexFile) {
					t.Fatalf("Open = %v, want an error naming %s and saying %q", err, indexFile, tc.openErr)
				}
				t.Logf("Open: %v", err)
				// Nothing was destroyed: the segments are untouched.
				after := storeFiles(t, dir)
				for name, b := range before {
					if strings.HasPrefix(name, segPrefix) && string(after[name]) != string(b) {
						t.Errorf("%s changed after a refused open", name)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var want []Record
			for _, i := range tc.left {
				want = append(want, recs[i])
			}
			checkIntact(t, s, want)
		})
	}
}

func TestKeyFile(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(path string)
		mismatch bool // Open refuses with ErrKeyMismatch and destroys nothing
	}{
		{"another valid key", func(p string) { os.WriteFile(p, encodeMasterKey(randomKey()), 0o600) }, true},
		{"truncated", func(p string) { os.Truncate(p, 20) }, true},
		{"bit flip", func(p string) { b, _ := os.ReadFile(p); b[10] ^= 1; os.WriteFile(p, b, 0o600) }, true},
		{"missing", func(p string) { os.Remove(p) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(epoch)
			dir, recs, _ := threeRecords(t, clk)
			keyPath := filepath.Join(dir, masterKeyFile)
			good, _ := os.ReadFile(keyPath)
			tc.damage(keyPath)
			rl := &receiptLog{}
			s, err := Open(dir, testOptions(t, clk, rl))
			if tc.mismatch {
				if !errors.Is(err, ErrKeyMismatch) || !strings.Contains(err.Error(), keyPath) {
					t.Fatalf("Open = %v, want ErrKeyMismatch naming %s", err, keyPath)
				}
				t.Logf("Open: %v", err)
				os.WriteFile(keyPath, good, 0o600)
				checkIntact(t, mustOpen(t, dir, testOptions(t, clk, nil)), recs)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := mustList(t, s); len(got) != 0 {
				t.Fatalf("records readable without their key: %v", ids(got))
			}
			if got := rl.get(); len(got) != 1 || got[0].Scope != ScopeAll || got[0].Records != 3 {
				t.Fatalf("receipts %+v", got)
			}
		})
	}
}

// TestDiskFull fills a small tmpfs when the test may mount one, and
// injects ENOSPC otherwise: the failing append reports it, every record
// already stored stays intact, and the store works again once space is
// freed.
func TestDiskFull(t *testing.T) {
	t.Run("tmpfs", func(t *testing.T) {
		dir := t.TempDir()
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0700"); err != nil {
			t.Skipf("cannot mount a tmpfs (%v); the injected case covers this", err)
		}
		t.Cleanup(func() { unix.Unmount(dir, 0) })
		clk := newFakeClock(epoch)
		s := mustOpen(t, dir, testOptions(t, clk, nil))
		var stored []Record
		var err error
		for i := range 100 {
			var r Record
			if r, err = s.Append(Record{Transcript: "filler"}, tone(8000, i)); err != nil {
				break
			}
			stored = append(stored, r)
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("append on a full disk = %v, want ENOSPC", err)
		}
		checkIntact(t, s, stored)
		if _, err := s.Delete(stored[0].ID, stored[1].ID); err != nil {
			t.Fatal(err)
		}
		r := mustAppend(t, s, Record{Transcript: "after"}, tone(8000, 1000))
		s.Close()
		checkIntact(t, mustOpen(t, dir, testOptions(t, clk, nil)), append(stored[2:], r))
	})
	for _, op := range []string{"segment", "slot"} {
		t.Run("injected "+op, func(t *testing.T) {
			clk := newFakeClock(epoch)
			dir := t.TempDir()
			s := mustOpen(t, dir, testOptions(t, clk, nil))
			a := mustAppend(t, s, Record{Transcript: "a"}, tone(800, 1))
			s.fault = func(o string) error {
				if o == op {
					return syscall.ENOSPC
				}
				return nil
			}
			if _, err := s.Append(Record{Transcript: "b"}, tone(800, 2)); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("append = %v, want ENOSPC", err)
			}
			checkIntact(t, s, []Record{a})
			s.fault = nil
			c := mustAppend(t, s, Record{Transcript: "c"}, tone(800, 3))
			s.Close()
			checkIntact(t, mustOpen(t, dir, testOptions(t, clk, nil)), []Record{a, c})
		})
	}
}

// TestKeyReplacedOnEmptyStore is the state a crash leaves between DeleteAll
// renaming a new key file into place and the header naming it: the index
// is empty, so the new key is adopted.
func TestKeyReplacedOnEmptyStore(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	s := mustOpen(t, dir, testOptions(t, clk, nil))
	r := mustAppend(t, s, Record{}, nil)
	if _, err := s.Delete(r.ID); err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.WriteFile(filepath.Join(dir, masterKeyFile), encodeMasterKey(randomKey()), 0o600)
	s = mustOpen(t, dir, testOptions(t, clk, nil))
	r = mustAppend(t, s, Record{Transcript: "new"}, nil)
	s.Close()
	checkIntact(t, mustOpen(t, dir, testOptions(t, clk, nil)), []Record{r})
}

// A crash right after a new store's first header write leaves an index of
// one header copy (64 bytes). The store must open from it, not refuse.
func TestIndexWithOnlyTheFirstHeaderCopy(t *testing.T) {
	clk := newFakeClock(epoch)
	dir := t.TempDir()
	s := mustOpen(t, dir, testOptions(t, clk, nil))
	s.Close()
	path := filepath.Join(dir, indexFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, c, err := decodeHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	one := b[c*headerCopySize : (c+1)*headerCopySize]
	if err := os.WriteFile(path, one, 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, testOptions(t, clk, nil))
	if _, err := s.Append(Record{Transcript: "after the crash"}, make([]int16, 160)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = mustOpen(t, dir, testOptions(t, clk, nil))
	defer s.Close()
	if recs, err := s.List(Filter{}); err != nil || len(recs) != 1 || recs[0].Transcript != "after the crash" {
		t.Fatalf("after reopening: %+v, %v", recs, err)
	}
}
