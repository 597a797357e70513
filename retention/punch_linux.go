package retention

import (
	"os"

	"golang.org/x/sys/unix"
)

// punchHole releases the blocks of a destroyed record inside a segment that
// still holds live records. The record is already unreadable (its key is
// gone); this only reclaims space and drops the ciphertext early.
func punchHole(f *os.File, off, n int64) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}
