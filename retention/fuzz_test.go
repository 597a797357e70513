package retention

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// fuzzRecord is the record the fuzz seeds hold.
func fuzzRecord() (slotEntry, Record, []int16, []byte) {
	var e slotEntry
	copy(e.id[:], "fixed-record-id!") // deterministic: fuzz workers rebuild it
	copy(e.key[:], bytes.Repeat([]byte{7}, keySize))
	r := Record{Transcript: "turn on the kitchen lights", Intent: "LightsOn", Slots: map[string]string{"room": "kitchen"}}
	pcm := tone(64, 5)
	blob, metaLen, err := sealRecord(nil, &e.key, e.id, &r, pcm)
	if err != nil {
		panic(err)
	}
	e.seg, e.off, e.length, e.metaLen = 1, segHeaderSize, uint32(len(blob)), uint32(metaLen)
	return e, r, pcm, append(encodeSegHeader(1), blob...)
}

// FuzzDecodeSegment feeds arbitrary segment files to the read path with a
// valid index entry: it must never panic and never return a record other
// than the one that was written.
func FuzzDecodeSegment(f *testing.F) {
	e, want, wantPCM, seg := fuzzRecord()
	f.Add(seg)
	f.Add(seg[:len(seg)/2])
	f.Add(append(bytes.Clone(seg), 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if checkSegHeader(data, e.seg) != nil {
			return
		}
		rd := bytes.NewReader(data)
		if plain, err := readPart(rd, &e, partMeta); err == nil {
			var got Record
			if err := decodeMeta(plain, &got); err != nil {
				t.Fatalf("authentic metadata does not decode: %v", err)
			}
			if got.Transcript != want.Transcript || got.Intent != want.Intent || !maps.Equal(got.Slots, want.Slots) {
				t.Fatalf("decoded %+v, want %+v", got, want)
			}
		}
		if plain, err := readPart(rd, &e, partAudio); err == nil {
			pcm, err := decodePCM(plain)
			if err != nil || !slices.Equal(pcm, wantPCM) {
				t.Fatalf("decoded audio differs (%v)", err)
			}
		}
	})
}

// FuzzDecodeIndex feeds arbitrary index files to the header and slot
// decoders under a fixed master key.
func FuzzDecodeIndex(f *testing.F) {
	aead, _ := chacha20poly1305.NewX(bytes.Repeat([]byte{1}, keySize))
	e, _, _, _ := fuzzRecord()
	idx := make([]byte, headerSize+2*slotSize)
	h := header{seq: 3, mode: modeDiskByte, hwm: epoch.UnixNano(), window: windowUnset}
	h.encode(idx)
	h.seq++
	h.encode(idx[headerCopySize:])
	sealSlot(aead, 1, &e, idx[headerSize+slotSize:])
	f.Add(idx)
	f.Add(idx[:headerSize+slotSize+50])
	f.Add(idx[headerCopySize:])
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, _, err := decodeHeader(data); err != nil || len(data) < headerSize {
			return
		}
		slots := data[headerSize:]
		for i := int64(0); (i+1)*slotSize <= int64(len(slots)); i++ {
			got, err := openSlot(aead, i, slots[i*slotSize:(i+1)*slotSize])
			if err != nil {
				continue
			}
			if got != e || i != 1 {
				t.Fatalf("slot %d opened to %+v, only slot 1 holding %+v is authentic", i, got, e)
			}
		}
	})
}

// FuzzDecodeMeta checks the metadata decoder on arbitrary plaintext: no
// panic, limits hold, and what decodes re-encodes to the same record.
func FuzzDecodeMeta(f *testing.F) {
	_, r, _, _ := fuzzRecord()
	b, _ := appendMeta(nil, &r)
	f.Add(b)
	f.Add([]byte{metaVersion, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Add([]byte{metaVersion, 0, 0, 2, 1, 'a', 0, 1, 'a', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Record
		if decodeMeta(data, &got) != nil {
			return
		}
		if len(got.Transcript) > maxTranscript || len(got.Slots) > maxSlots {
			t.Fatalf("limits exceeded: %d bytes, %d slots", len(got.Transcript), len(got.Slots))
		}
		enc, err := appendMeta(nil, &got)
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		var again Record
		if err := decodeMeta(enc, &again); err != nil || again.Transcript != got.Transcript || again.Intent != got.Intent || !maps.Equal(again.Slots, got.Slots) {
			t.Fatalf("round trip changed %+v to %+v (%v)", got, again, err)
		}
	})
}

// FuzzParseID: ids come from the CLI, the control socket and the hub.
func FuzzParseID(f *testing.F) {
	f.Add("01M8EE0VG0BKF1KSG6TTQG39ZQ")
	f.Add("7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
	f.Add("8ZZZZZZZZZZZZZZZZZZZZZZZZZ")
	f.Add("01m8ee0vg0bkf1ksg6ttqg39zq")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseID(s)
		if err != nil {
			return
		}
		if got := id.String(); got != strings.ToUpper(s) {
			t.Fatalf("parseID(%q).String() = %q", s, got)
		}
	})
}

// FuzzDecodeMasterKey: the key file is read from disk at every start.
func FuzzDecodeMasterKey(f *testing.F) {
	f.Add(encodeMasterKey(bytes.Repeat([]byte{9}, keySize)))
	f.Add([]byte("ESMK"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := decodeMasterKey(data)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeMasterKey(key), data) {
			t.Fatal("key file does not round-trip")
		}
	})
}

// FuzzOpenStore runs Open on arbitrary index and segment files under a
// known master key: no panic, and every record that comes back is one that
// was written.
func FuzzOpenStore(f *testing.F) {
	key := encodeMasterKey(bytes.Repeat([]byte{3}, keySize))
	seed := f.TempDir()
	os.WriteFile(filepath.Join(seed, masterKeyFile), key, 0o600)
	clk := newFakeClock(epoch)
	o := Options{Window: 24 * time.Hour, Clock: clk.Now, Monotonic: clk.Mono}
	s, err := Open(seed, o)
	if err != nil {
		f.Fatal(err)
	}
	for i, tr := range []string{"alpha", "bravo"} {
		if _, err := s.Append(Record{Transcript: tr}, tone(100, i)); err != nil {
			f.Fatal(err)
		}
	}
	s.Close()
	idx, _ := os.ReadFile(filepath.Join(seed, indexFile))
	seg, _ := os.ReadFile(filepath.Join(seed, segName(0)))
	f.Add(idx, seg)
	f.Add(idx[:len(idx)-7], seg)
	f.Add(idx, seg[:len(seg)-9])
	f.Fuzz(func(t *testing.T, idx, seg []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, masterKeyFile), key, 0o600)
		os.WriteFile(filepath.Join(dir, indexFile), idx, 0o600)
		os.WriteFile(filepath.Join(dir, segName(0)), seg, 0o600)
		s, err := Open(dir, o)
		if err != nil {
			return
		}
		defer s.Close()
		recs, err := s.List(Filter{})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, r := range recs {
			if r.Transcript != "alpha" && r.Transcript != "bravo" {
				t.Fatalf("a record that was never written: %+v", r)
			}
			if _, err := s.Audio(r.ID); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Audio: %v", err)
			}
		}
	})
}
