//go:build unix

package eval

import (
	"runtime"
	"syscall"
	"time"
)

// usage returns the process's CPU time so far and its peak RSS in MiB.
func usage() (cpu time.Duration, peakMB float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	peak := float64(ru.Maxrss) // kilobytes on Linux
	if runtime.GOOS == "darwin" {
		peak /= 1024 // bytes there
	}
	return cpu, peak / 1024
}
