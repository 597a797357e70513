//go:build !unix

package eval

import "time"

// usage is not measured on this platform.
func usage() (time.Duration, float64) { return 0, 0 }
