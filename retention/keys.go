package retention

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeyMode says where the master key lives.
type KeyMode string

const (
	// KeysDisk keeps the master key in a 0600 file in the store directory.
	KeysDisk KeyMode = "disk"
	// KeysMemory keeps the master key in RAM only: a restart forgets every
	// record, which is removed at the next Open.
	KeysMemory KeyMode = "memory"
)

const (
	masterKeyFile = "master.key"
	masterKeySize = 44 // magic 4, version 1, reserved 3, key 32, crc 4
	keySize       = 32
)

var (
	masterMagic = []byte("ESMK")
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
)

func encodeMasterKey(key []byte) []byte {
	b := make([]byte, masterKeySize)
	copy(b, masterMagic)
	b[4] = 1
	copy(b[8:40], key)
	binary.LittleEndian.PutUint32(b[40:], crc32.Checksum(b[:40], castagnoli))
	return b
}

func decodeMasterKey(b []byte) ([]byte, error) {
	switch {
	case len(b) != masterKeySize:
		return nil, fmt.Errorf("size %d bytes, want %d", len(b), masterKeySize)
	case !bytes.Equal(b[:4], masterMagic):
		return nil, errors.New("not an earshot master key (bad magic)")
	case b[4] != 1:
		return nil, fmt.Errorf("version %d, want 1", b[4])
	case binary.LittleEndian.Uint32(b[40:]) != crc32.Checksum(b[:40], castagnoli):
		return nil, errors.New("checksum mismatch (file damaged)")
	}
	return bytes.Clone(b[8:40]), nil
}

// loadMasterKey reads the key file, creating it when absent. created tells
// the caller that any existing records were sealed under a key that is gone.
func loadMasterKey(dir string) (key []byte, created bool, err error) {
	path := filepath.Join(dir, masterKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if st, serr := os.Stat(path); serr == nil && st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return nil, false, fmt.Errorf("key file %s is readable by others (%s) and cannot be fixed: %w", path, st.Mode().Perm(), err)
			}
		}
		key, err := decodeMasterKey(b)
		if err != nil {
			return nil, false, fmt.Errorf("%w: key file %s: %w", ErrKeyMismatch, path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("read key file %s: %w", path, err)
	}
	key = randomKey()
	if err := writeFileAtomic(dir, masterKeyFile, encodeMasterKey(key)); err != nil {
		return nil, false, fmt.Errorf("create key file: %w", err)
	}
	return key, true, nil
}

func randomKey() []byte {
	k := make([]byte, keySize)
	rand.Read(k) // never fails since Go 1.24
	return k
}

// keyCheck identifies a master key without revealing it, so Open can tell
// "this store was sealed under another key" from "this slot is damaged".
func keyCheck(key []byte) [16]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("earshot key check v1"))
	var c [16]byte
	copy(c[:], m.Sum(nil))
	return c
}

// writeFileAtomic replaces dir/name: temp file, fsync, rename, fsync dir.
// It is only used for key material, never for audio or transcripts.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, werr)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return syncDir(dir)
}

// shredFile overwrites a small file with zeros, syncs and unlinks it.
func shredFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("shred %s: %w", path, err)
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		f.WriteAt(make([]byte, st.Size()), 0)
		f.Sync()
	}
	f.Close()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("shred %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// rekeyEmpty replaces the master key of an empty store. The new key file is
// renamed into place before the header names it; a crash in between leaves
// an empty index under a key check that does not match, which Open adopts.
func (s *Store) rekeyEmpty() error {
	key := randomKey()
	defer clear(key)
	if s.opts.Keys != KeysMemory {
		if err := writeFileAtomic(s.dir, masterKeyFile, encodeMasterKey(key)); err != nil {
			return err
		}
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return err
	}
	s.master = aead
	s.hdr.keyCheck = keyCheck(key)
	if err := s.stampHeader(s.clk.now()); err != nil {
		return err
	}
	return s.syncIndex()
}
