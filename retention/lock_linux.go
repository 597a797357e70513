package retention

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

const lockFile = "lock"

// lockDir takes an exclusive flock on dir/lock so the daemon and
// `earshot purge` never work on the store at the same time. The kernel drops
// the lock when the process dies, so a crash never leaves it stale.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked by pid %s (a running daemon enforces the window itself)", ErrLocked, dir, holder)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())), 0)
	return f, nil
}

func unlockDir(f *os.File) error {
	f.Truncate(0)
	return f.Close() // closing the descriptor releases the flock
}

// fdatasync flushes a file's data and the metadata needed to read it.
func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
