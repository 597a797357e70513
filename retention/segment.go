package retention

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// A segment file is a 16-byte header followed by sealed records appended
// back to back. Which bytes belong to which record, and the key to open
// them, live only in the index: a segment alone is opaque.
const (
	segHeaderSize = 16
	segPrefix     = "seg-"
	segVersion    = 1
)

var segMagic = []byte("ESSG")

func segName(id uint32) string { return fmt.Sprintf("%s%08x", segPrefix, id) }

// parseSegName returns the id of a segment file name, ok=false if the name
// is not one.
func parseSegName(name string) (uint32, bool) {
	hex, ok := strings.CutPrefix(name, segPrefix)
	if !ok || len(hex) != 8 || strings.ToLower(hex) != hex {
		return 0, false
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	return uint32(v), err == nil
}

func encodeSegHeader(id uint32) []byte {
	b := make([]byte, segHeaderSize)
	copy(b, segMagic)
	b[4] = segVersion
	binary.LittleEndian.PutUint32(b[8:], id)
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[:12], castagnoli))
	return b
}

func checkSegHeader(b []byte, id uint32) error {
	switch {
	case len(b) < segHeaderSize:
		return fmt.Errorf("header is %d bytes, want %d", len(b), segHeaderSize)
	case !bytes.Equal(b[:4], segMagic):
		return errors.New("bad magic")
	case binary.LittleEndian.Uint32(b[12:]) != crc32.Checksum(b[:12], castagnoli):
		return errors.New("header checksum mismatch")
	case b[4] != segVersion:
		return fmt.Errorf("version %d, want %d", b[4], segVersion)
	case binary.LittleEndian.Uint32(b[8:]) != id:
		return fmt.Errorf("header names segment %d", binary.LittleEndian.Uint32(b[8:]))
	}
	return nil
}

// Record parts are sealed with ChaCha20-Poly1305 (fast without AES
// instructions, as on a Raspberry Pi) under the record's own key. The key is
// used for exactly two messages, so the nonce is just the part number; the
// record id is authenticated, so bytes moved between records do not open.
const (
	partMeta  = 0
	partAudio = 1
)

func recordNonce(part byte) []byte {
	n := make([]byte, chacha20poly1305.NonceSize)
	n[0] = part
	return n
}

func recordAD(id recordID, part byte) []byte {
	ad := make([]byte, 0, 32)
	ad = append(ad, "earshot/record/v1"...)
	ad = append(ad, id[:]...)
	return append(ad, part)
}

// Limits on metadata, so a bad caller or a damaged file cannot make the
// store allocate without bound.
const (
	maxTranscript = 16 << 10
	maxName       = 256
	maxSlots      = 64
	maxMeta       = 64 << 10
	metaVersion   = 1
)

// appendMeta encodes transcript, intent and slots (sorted by name).
func appendMeta(b []byte, r *Record) ([]byte, error) {
	if len(r.Transcript) > maxTranscript {
		return b, fmt.Errorf("transcript is %d bytes, limit %d", len(r.Transcript), maxTranscript)
	}
	if len(r.Intent) > maxName {
		return b, fmt.Errorf("intent name is %d bytes, limit %d", len(r.Intent), maxName)
	}
	if len(r.Slots) > maxSlots {
		return b, fmt.Errorf("%d slots, limit %d", len(r.Slots), maxSlots)
	}
	b = append(b, metaVersion)
	b = appendString(b, r.Transcript)
	b = appendString(b, r.Intent)
	b = binary.AppendUvarint(b, uint64(len(r.Slots)))
	names := make([]string, 0, len(r.Slots))
	for k, v := range r.Slots {
		if len(k) > maxName || len(v) > maxName {
			return b, fmt.Errorf("slot %.32q: name and value are limited to %d bytes", k, maxName)
		}
		names = append(names, k)
	}
	sortStrings(names)
	for _, k := range names {
		b = appendString(b, k)
		b = appendString(b, r.Slots[k])
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodeMeta is the inverse of appendMeta; it fills r's content fields.
func decodeMeta(b []byte, r *Record) error {
	if len(b) == 0 || b[0] != metaVersion {
		return errors.New("metadata: unknown version")
	}
	d := decoder{b: b[1:]}
	r.Transcript = d.string(maxTranscript)
	r.Intent = d.string(maxName)
	n := d.uvarint()
	if n > maxSlots {
		return fmt.Errorf("metadata: %d slots, limit %d", n, maxSlots)
	}
	r.Slots = nil
	if n > 0 {
		r.Slots = make(map[string]string, n)
	}
	for range n {
		k := d.string(maxName)
		v := d.string(maxName)
		if d.err != nil {
			break
		}
		if _, dup := r.Slots[k]; dup {
			return fmt.Errorf("metadata: slot %q twice", k)
		}
		r.Slots[k] = v
	}
	if d.err != nil {
		return fmt.Errorf("metadata: %w", d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("metadata: %d trailing bytes", len(d.b))
	}
	return nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("truncated or overlong length")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string(limit int) string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(limit) || n > uint64(len(d.b)) {
		d.err = fmt.Errorf("string of %d bytes exceeds limit %d or the %d bytes left", n, limit, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// sealRecord builds the sealed record in buf (reused between calls, so
// Append's allocations do not grow with the audio) and returns it with the
// length of the metadata part. Plaintext exists only in buf, in RAM, and is
// sealed in place.
func sealRecord(buf []byte, key *[keySize]byte, id recordID, r *Record, pcm []int16) ([]byte, int, error) {
	aead, err := chacha20poly1305.New(key[:])
	if err != nil {
		return buf, 0, err
	}
	meta, err := appendMeta(buf[:0], r)
	if err != nil {
		return meta, 0, err
	}
	overhead := aead.Overhead()
	total := len(meta) + overhead + 2*len(pcm) + overhead
	if cap(meta) < total {
		grown := make([]byte, len(meta), total+total/4)
		copy(grown, meta)
		meta = grown
	}
	sealedMeta := aead.Seal(meta[:0], recordNonce(partMeta), meta, recordAD(id, partMeta))
	metaLen := len(sealedMeta)
	audio := meta[metaLen : metaLen+2*len(pcm)]
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(audio[2*i:], uint16(s))
	}
	aead.Seal(audio[:0], recordNonce(partAudio), audio, recordAD(id, partAudio))
	return meta[:total], metaLen, nil
}

// errCorrupt marks a record whose bytes do not authenticate.
var errCorrupt = errors.New("record does not authenticate")

// readPart reads and opens one part of the record described by e.
func readPart(f io.ReaderAt, e *slotEntry, part byte) ([]byte, error) {
	off, n := e.off, int64(e.metaLen)
	if part == partAudio {
		off, n = e.off+int64(e.metaLen), int64(e.length)-int64(e.metaLen)
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: segment is truncated", errCorrupt)
		}
		return nil, err
	}
	aead, err := chacha20poly1305.New(e.key[:])
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(buf[:0], recordNonce(part), buf, recordAD(e.id, part))
	if err != nil {
		return nil, errCorrupt
	}
	return plain, nil
}

func decodePCM(b []byte) ([]int16, error) {
	if len(b)%2 != 0 {
		return nil, fmt.Errorf("%w: odd audio length %d", errCorrupt, len(b))
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm, nil
}

// openSegmentFile opens a segment for reading and checks its header.
func openSegmentFile(path string, id uint32) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	hdr := make([]byte, segHeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, 0, err
	}
	if err := checkSegHeader(hdr, id); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}
