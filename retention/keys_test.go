package retention

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestMemoryKeys(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	rl := &receiptLog{}
	o := testOptions(t, clk, rl)
	o.Keys = KeysMemory
	s := mustOpen(t, dir, o)
	r := mustAppend(t, s, Record{Transcript: "forget me"}, tone(100, 1))
	if g, err := s.Get(r.ID); err != nil || g.Transcript != "forget me" {
		t.Fatalf("Get = %+v, %v", g, err)
	}
	if _, err := os.Stat(filepath.Join(dir, masterKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("keys: memory wrote a key file: %v", err)
	}
	s.Close()
	s = mustOpen(t, dir, o)
	if got := mustList(t, s); len(got) != 0 {
		t.Fatalf("records survived a restart with keys: memory: %v", ids(got))
	}
	if got := rl.get(); len(got) != 1 || got[0].Scope != ScopeAll || got[0].Records != 1 {
		t.Fatalf("receipts %+v", got)
	}
	if len(segFiles(t, dir)) != 0 {
		t.Fatal("segments of the forgotten records are still there")
	}
	mustAppend(t, s, Record{}, nil)
}

func TestSwitchKeyModes(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock(epoch)
	rl := &receiptLog{}
	o := testOptions(t, clk, rl)
	s := mustOpen(t, dir, o)
	mustAppend(t, s, Record{}, nil)
	s.Close()

	o.Keys = KeysMemory
	s = mustOpen(t, dir, o)
	if len(mustList(t, s)) != 0 {
		t.Fatal("disk records readable after switching to memory keys")
	}
	if _, err := os.Stat(filepath.Join(dir, masterKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("key file kept after switching to keys: memory")
	}
	mustAppend(t, s, Record{}, nil)
	s.Close()

	o.Keys = KeysDisk
	s = mustOpen(t, dir, o)
	if len(mustList(t, s)) != 0 {
		t.Fatal("memory records readable after switching to disk keys")
	}
	if n := len(rl.get()); n != 2 {
		t.Fatalf("%d receipts, want one per switch", n)
	}
}

// TestDeleteAllReplacesKey: after DeleteAll the master key is new, so a
// stale copy of an old index slot (as flash wear-levelling may keep) no
// longer opens, and the store carries on across restarts.
func TestDeleteAllReplacesKey(t *testing.T) {
	for _, mode := range []KeyMode{KeysDisk, KeysMemory} {
		t.Run(string(mode), func(t *testing.T) {
			dir := t.TempDir()
			clk := newFakeClock(epoch)
			o := testOptions(t, clk, nil)
			o.Keys = mode
			s := mustOpen(t, dir, o)
			mustAppend(t, s, Record{Transcript: "x"}, tone(100, 1))
			stale, _ := os.ReadFile(filepath.Join(dir, indexFile))
			oldKey, _ := os.ReadFile(filepath.Join(dir, masterKeyFile))
			if _, err := s.DeleteAll(); err != nil {
				t.Fatal(err)
			}
			if _, err := openSlot(s.master, 0, stale[headerSize:headerSize+slotSize]); err == nil {
				t.Fatal("a stale slot still opens under the current key")
			}
			if newKey, _ := os.ReadFile(filepath.Join(dir, masterKeyFile)); mode == KeysDisk && bytes.Equal(newKey, oldKey) {
				t.Fatal("key file unchanged by DeleteAll")
			}
			r := mustAppend(t, s, Record{Transcript: "after"}, tone(100, 2))
			s.Close()
			s = mustOpen(t, dir, o)
			want := 1
			if mode == KeysMemory {
				want = 0
			}
			if got := mustList(t, s); len(got) != want || (want == 1 && got[0].ID != r.ID) {
				t.Fatalf("after restart: %v", ids(got))
			}
		})
	}
}

func TestFilePermissions(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, testOptions(t, newFakeClock(epoch), nil))
	mustAppend(t, s, Record{}, nil)
	s.Close()
	os.Chmod(filepath.Join(dir, masterKeyFile), 0o644)
	mustOpen(t, dir, testOptions(t, newFakeClock(epoch), nil)).Close()
	for name := range storeFiles(t, dir) {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %s, want no access for group or others", name, st.Mode().Perm())
		}
	}
}
