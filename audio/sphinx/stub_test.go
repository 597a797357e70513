//go:build !cgo || nopocketsphinx

package sphinx

import (
	"errors"
	"testing"
)

func TestStubUnavailable(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("New: %v, want ErrUnavailable", err)
	}
}
