//go:build !cgo || noportaudio

package portaudio

import (
	"context"
	"errors"
	"testing"
)

func TestStubSaysWhy(t *testing.T) {
	if _, err := OpenInput("default", InputOptions{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("OpenInput = %v, want ErrUnavailable", err)
	}
	if err := Play(context.Background(), "default", nil, 16000); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Play = %v, want ErrUnavailable", err)
	}
	if _, err := Devices(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Devices = %v, want ErrUnavailable", err)
	}
}
