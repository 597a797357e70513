//go:build !linux

package retention

import (
	"errors"
	"os"
)

// punchHole is not available: space comes back when the segment is unlinked.
func punchHole(f *os.File, off, n int64) error { return errors.ErrUnsupported }
