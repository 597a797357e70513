package retention

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The index file holds two header copies and then fixed-size slots, one per
// live record, each sealed under the master key. A slot holds the record's
// key: zeroing the slot is what destroys the record. See FORMAT.md.
const (
	indexFile      = "index"
	headerCopySize = 64
	headerSize     = 2 * headerCopySize
	slotSize       = 128
	slotPlainSize  = 84
	slotNonceSize  = 24
	slotSealedSize = slotNonceSize + slotPlainSize + 16
	windowUnset    = -1
	indexVersion   = 1
	modeDiskByte   = 1
	modeMemoryByte = 2
)

var headerMagic = []byte("ESIX")

// header is the store-wide state that must survive restarts.
type header struct {
	seq      uint64
	mode     byte
	keyCheck [16]byte
	hwm      int64 // high-water mark of wall time, Unix ns
	window   int64 // window set by SetWindow, ns; windowUnset if never
}

func (h *header) encode(b []byte) {
	clear(b[:headerCopySize])
	copy(b, headerMagic)
	b[4] = indexVersion
	b[5] = h.mode
	binary.LittleEndian.PutUint64(b[8:], h.seq)
	copy(b[16:32], h.keyCheck[:])
	binary.LittleEndian.PutUint64(b[32:], uint64(h.hwm))
	binary.LittleEndian.PutUint64(b[40:], uint64(h.window))
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
}

func decodeHeaderCopy(b []byte) (header, error) {
	var h header
	switch {
	case len(b) < headerCopySize:
		return h, errors.New("short")
	case !bytes.Equal(b[:4], headerMagic):
		return h, errors.New("bad magic")
	case binary.LittleEndian.Uint32(b[60:]) != crc32.Checksum(b[:60], castagnoli):
		return h, errors.New("checksum mismatch")
	case b[4] != indexVersion:
		return h, fmt.Errorf("version %d, want %d", b[4], indexVersion)
	case b[5] != modeDiskByte && b[5] != modeMemoryByte:
		return h, fmt.Errorf("key mode %d unknown", b[5])
	}
	h.mode = b[5]
	h.seq = binary.LittleEndian.Uint64(b[8:])
	copy(h.keyCheck[:], b[16:32])
	h.hwm = int64(binary.LittleEndian.Uint64(b[32:]))
	h.window = int64(binary.LittleEndian.Uint64(b[40:]))
	if h.window < windowUnset {
		return h, fmt.Errorf("window %d out of range", h.window)
	}
	return h, nil
}

// decodeHeader returns the newest intact copy and which copy it was; the
// next write goes to the other one, so a torn header write always leaves
// the previous header intact.
//
// A file holding only copy A is what a crash leaves right after a new
// store's first header write: copy B then counts as damaged.
func decodeHeader(b []byte) (header, int, error) {
	if len(b) < headerCopySize {
		return header{}, 0, fmt.Errorf("file is %d bytes, shorter than its %d-byte header", len(b), headerSize)
	}
	if len(b) < headerSize {
		b = append(b[:len(b):len(b)], make([]byte, headerSize-len(b))...)
	}
	a, errA := decodeHeaderCopy(b[:headerCopySize])
	c, errB := decodeHeaderCopy(b[headerCopySize:headerSize])
	switch {
	case errA != nil && errB != nil:
		return header{}, 0, fmt.Errorf("both header copies are damaged (copy A: %v; copy B: %v)", errA, errB)
	case errB != nil || (errA == nil && a.seq >= c.seq):
		return a, 0, nil
	default:
		return c, 1, nil
	}
}

// slotEntry is the plaintext of one slot.
type slotEntry struct {
	id      recordID
	time    int64 // Unix ns
	dur     int64 // ns
	seg     uint32
	off     int64
	length  uint32 // bytes of the sealed record in the segment
	metaLen uint32 // bytes of the sealed metadata part
	key     [keySize]byte
}

func (e *slotEntry) encode(b []byte) {
	copy(b[0:16], e.id[:])
	binary.LittleEndian.PutUint64(b[16:], uint64(e.time))
	binary.LittleEndian.PutUint64(b[24:], uint64(e.dur))
	binary.LittleEndian.PutUint32(b[32:], e.seg)
	binary.LittleEndian.PutUint64(b[36:], uint64(e.off))
	binary.LittleEndian.PutUint32(b[44:], e.length)
	binary.LittleEndian.PutUint32(b[48:], e.metaLen)
	copy(b[52:84], e.key[:])
}

func decodeSlotPlain(b []byte) (slotEntry, error) {
	var e slotEntry
	copy(e.id[:], b[0:16])
	e.time = int64(binary.LittleEndian.Uint64(b[16:]))
	e.dur = int64(binary.LittleEndian.Uint64(b[24:]))
	e.seg = binary.LittleEndian.Uint32(b[32:])
	e.off = int64(binary.LittleEndian.Uint64(b[36:]))
	e.length = binary.LittleEndian.Uint32(b[44:])
	e.metaLen = binary.LittleEndian.Uint32(b[48:])
	copy(e.key[:], b[52:84])
	if e.off < segHeaderSize || e.dur < 0 || e.metaLen < 16 || e.length < e.metaLen+16 {
		return e, errors.New("slot fields out of range")
	}
	return e, nil
}

func slotAD(idx int64) []byte {
	ad := make([]byte, 0, 24)
	ad = append(ad, "earshot/slot/v1"...)
	return binary.LittleEndian.AppendUint64(ad, uint64(idx))
}

// sealSlot writes the sealed form of e for slot idx into b (slotSize bytes).
// The slot index is authenticated, so a slot copied elsewhere does not open.
func sealSlot(aead cipher.AEAD, idx int64, e *slotEntry, b []byte) {
	clear(b[:slotSize])
	nonce := b[:slotNonceSize]
	rand.Read(nonce)
	var plain [slotPlainSize]byte
	e.encode(plain[:])
	aead.Seal(b[slotNonceSize:slotNonceSize], nonce, plain[:], slotAD(idx))
	clear(plain[:])
}

var errSlotFree = errors.New("slot is free")

// openSlot decodes slot idx; errSlotFree for an all-zero slot.
func openSlot(aead cipher.AEAD, idx int64, b []byte) (slotEntry, error) {
	if len(b) != slotSize {
		return slotEntry{}, fmt.Errorf("slot is %d bytes, want %d", len(b), slotSize)
	}
	if isZero(b) {
		return slotEntry{}, errSlotFree
	}
	if !isZero(b[slotSealedSize:]) {
		return slotEntry{}, errors.New("slot padding is not zero")
	}
	var plain [slotPlainSize]byte
	if _, err := aead.Open(plain[:0], b[:slotNonceSize], b[slotNonceSize:slotSealedSize], slotAD(idx)); err != nil {
		return slotEntry{}, fmt.Errorf("slot does not authenticate: %w", err)
	}
	e, err := decodeSlotPlain(plain[:])
	clear(plain[:])
	return e, err
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
