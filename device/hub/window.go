package hub

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FormatWindow prints a retention window the way users write it: hours,
// minutes and seconds with zero units left out ("24h", "1h30m", "45s",
// "0s"). Days are printed as hours so the value is a valid Go duration.
// Sub-second windows fall back to time.Duration.String.
func FormatWindow(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d < 0 || d%time.Second != 0 {
		return d.String()
	}
	var b strings.Builder
	h, m, s := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

// ParseWindow reads a window as written in config and commands: a Go
// duration, optionally led by whole days ("2h", "90m", "1d", "1d12h").
// Negative windows are refused.
func ParseWindow(s string) (time.Duration, error) {
	rest := s
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("window %q: want whole days before 'd' (e.g. 1d12h)", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		rest = s[i+1:]
		if rest == "" {
			return days, nil
		}
		if rest[0] == '-' || rest[0] == '+' {
			return 0, fmt.Errorf("window %q: sign after days", s)
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return 0, fmt.Errorf("window %q: want a duration like 2h, 90m or 1d", s)
	}
	if d < 0 {
		return 0, errors.New("window " + strconv.Quote(s) + ": must not be negative")
	}
	total := days + d
	if total < days { // overflow
		return 0, fmt.Errorf("window %q: too long", s)
	}
	return total, nil
}
