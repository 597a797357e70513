package retention

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"
)

// crockford is the ULID alphabet: sortable, no I, L, O or U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idLen is the length of a textual id.
const idLen = 26

// recordID is a ULID: 48 bits of Unix milliseconds then 80 random bits, so
// ids sort by time and two devices never collide in practice.
type recordID [16]byte

func newID(t time.Time) recordID {
	var id recordID
	ms := uint64(t.UnixMilli())
	if t.Before(time.Unix(0, 0)) {
		ms = 0
	}
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(id[:6], ts[2:])
	rand.Read(id[6:]) // never fails since Go 1.24
	return id
}

// after returns an id for the same millisecond as prev that sorts after it,
// so records stored within one millisecond keep their order.
func (id recordID) after(prev recordID) recordID {
	if [6]byte(id[:6]) != [6]byte(prev[:6]) || string(id[6:]) > string(prev[6:]) {
		return id
	}
	next := prev
	for i := len(next) - 1; i >= 6; i-- {
		next[i]++
		if next[i] != 0 {
			return next
		}
	}
	return id // 2^80 ids in one millisecond: give up on order, keep uniqueness odds
}

func (id recordID) String() string {
	return string(id.appendText(make([]byte, 0, idLen)))
}

// appendText appends the 26-character form to b: the 128 bits, prefixed
// by two zero bits, five bits to a character, most significant first.
func (id recordID) appendText(b []byte) []byte {
	hi, lo := binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(id[8:])
	for c := range idLen {
		shift := uint(125 - 5*c) // of the lowest of this character's bits
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift == 0:
			v = lo
		default:
			v = lo>>shift | hi<<(64-shift)
		}
		b = append(b, crockford[v&31])
	}
	return b
}

// parseID accepts the 26-character form, in either case.
func parseID(s string) (recordID, error) {
	var id recordID
	if len(s) != idLen {
		return id, fmt.Errorf("invalid record id %q: want %d Crockford base32 characters", s, idLen)
	}
	var bits [130]byte
	for c := range idLen {
		v := crockVal(s[c])
		if v < 0 {
			return id, fmt.Errorf("invalid record id %q: character %q is not Crockford base32", s, s[c])
		}
		for b := range 5 {
			bits[c*5+b] = byte(v>>(4-b)) & 1
		}
	}
	if bits[0] != 0 || bits[1] != 0 {
		return id, fmt.Errorf("invalid record id %q: first character must be 0-7", s)
	}
	for i := range 128 {
		id[i/8] |= bits[i+2] << (7 - i%8)
	}
	return id, nil
}

func crockVal(c byte) int {
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	for i := range len(crockford) {
		if crockford[i] == c {
			return i
		}
	}
	return -1
}
