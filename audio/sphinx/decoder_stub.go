//go:build !cgo || nopocketsphinx

package sphinx

// Available reports whether this build can decode speech.
const Available = false

// Decoder is unavailable in this build; every method fails.
type Decoder struct{}

// New always returns ErrUnavailable in this build.
func New(Config) (*Decoder, error) { return nil, ErrUnavailable }

// Close is a no-op.
func (d *Decoder) Close() error { return nil }

// SetKeyphrase returns ErrUnavailable.
func (d *Decoder) SetKeyphrase(string, string, float64) error { return ErrUnavailable }

// SetJSGF returns ErrUnavailable.
func (d *Decoder) SetJSGF(string, string, string) error { return ErrUnavailable }

// SetFSG returns ErrUnavailable.
func (d *Decoder) SetFSG(string, FSG) error { return ErrUnavailable }

// SetFSGBeams returns ErrUnavailable.
func (d *Decoder) SetFSGBeams(string, FSG, Beams) error { return ErrUnavailable }

// FSGSize returns ErrUnavailable.
func (d *Decoder) FSGSize(string) (int, int, error) { return 0, 0, ErrUnavailable }

// UnsetSearch returns ErrUnavailable.
func (d *Decoder) UnsetSearch(string) error { return ErrUnavailable }

// SetAllphone returns ErrUnavailable.
func (d *Decoder) SetAllphone(string) error { return ErrUnavailable }

// SetSearch returns ErrUnavailable.
func (d *Decoder) SetSearch(string) error { return ErrUnavailable }

// StartUtt returns ErrUnavailable.
func (d *Decoder) StartUtt() error { return ErrUnavailable }

// InUtt is always false.
func (d *Decoder) InUtt() bool { return false }

// Process returns ErrUnavailable.
func (d *Decoder) Process([]int16) error { return ErrUnavailable }

// EndUtt returns ErrUnavailable.
func (d *Decoder) EndUtt() error { return ErrUnavailable }

// Hyp returns no hypothesis.
func (d *Decoder) Hyp() (string, int32) { return "", 0 }

// Frames is always 0.
func (d *Decoder) Frames() int { return 0 }

// Segments returns nothing.
func (d *Decoder) Segments() []Segment { return nil }

// AddWords returns ErrUnavailable.
func (d *Decoder) AddWords(map[string][]string) error { return ErrUnavailable }

// TrimHeap does nothing.
func TrimHeap() {}

// Track reports ErrUnavailable.
func (d *Decoder) Track([]int16) error { return ErrUnavailable }

// UseTrackedMean does nothing.
func (d *Decoder) UseTrackedMean() {}

// ResetCMN does nothing.
func (d *Decoder) ResetCMN() {}
