//go:build !cgo || noportaudio

package portaudio

import "context"

// Input is a PortAudio capture stream. In this build PortAudio is not
// available and OpenInput always fails with ErrUnavailable.
type Input struct{}

// OpenInput returns ErrUnavailable: this binary was built without PortAudio.
func OpenInput(device string, opts InputOptions) (*Input, error) {
	return nil, ErrUnavailable
}

// Start returns ErrUnavailable.
func (*Input) Start() error { return ErrUnavailable }

// Stop returns ErrUnavailable.
func (*Input) Stop() error { return ErrUnavailable }

// Read returns ErrUnavailable.
func (*Input) Read(buf []int16) error { return ErrUnavailable }

// Close does nothing.
func (*Input) Close() error { return nil }

// Name returns "".
func (*Input) Name() string { return "" }

// FramesRead returns 0.
func (*Input) FramesRead() uint64 { return 0 }

// Overflows returns 0.
func (*Input) Overflows() uint64 { return 0 }

// Play returns ErrUnavailable.
func Play(ctx context.Context, device string, pcm []int16, sampleRate int) error {
	return ErrUnavailable
}

// Devices returns ErrUnavailable.
func Devices() ([]DeviceInfo, error) { return nil, ErrUnavailable }
