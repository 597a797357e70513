//go:build cgo && !noportaudio

package portaudio

import (
	"fmt"
	"strings"
	"sync"

	pa "github.com/gordonklaus/portaudio"
)

// lib reference-counts Pa_Initialize/Pa_Terminate. PortAudio's state is
// process-wide whatever we do, so this is the one package-level variable:
// every Input, Play and Devices call holds a reference while it runs. When
// the last reference goes, PortAudio terminates, so the next open rescans the
// devices and sees a microphone plugged in meanwhile.
var lib struct {
	mu    sync.Mutex
	refs  int
	quiet bool // ALSA's and JACK's own messages are silenced (quiet.go)
}

func acquire() error {
	lib.mu.Lock()
	defer lib.mu.Unlock()
	if lib.refs == 0 {
		quietAudioLibs()
		if err := pa.Initialize(); err != nil {
			return fmt.Errorf("portaudio: initialize: %w", err)
		}
		burnStreamIDs()
	}
	lib.refs++
	return nil
}

// gordonklaus/portaudio passes each stream's small integer id to C as
// unsafe.Pointer(id). The runtime treats non-nil pointers below 4096 as
// corrupt: checkptr (on under -race, -msan, -asan) aborts the process on
// the second stream opened, and stack copying may too. Ids are never reused
// and an OpenStream that fails its argument check still takes one, so
// burning the first 4096 once (about a millisecond) makes every id a legal
// pointer value.
const minLegalPointer = 4096

var idsBurned bool // guarded by lib.mu

func burnStreamIDs() {
	if idsBurned {
		return
	}
	idsBurned = true
	for range minLegalPointer {
		// No buffers or callback: fails in Go before reaching C.
		_, _ = pa.OpenStream(pa.StreamParameters{})
	}
}

func release() {
	lib.mu.Lock()
	defer lib.mu.Unlock()
	if lib.refs == 0 {
		return
	}
	lib.refs--
	if lib.refs == 0 {
		// Terminate only fails when PortAudio was not initialised, which
		// the reference count rules out.
		_ = pa.Terminate()
	}
}

// Devices lists the devices PortAudio sees, for `earshot devices`-style
// listings and for the error when a configured name matches nothing.
func Devices() ([]DeviceInfo, error) {
	if err := acquire(); err != nil {
		return nil, err
	}
	defer release()
	devs, err := pa.Devices()
	if err != nil {
		return nil, fmt.Errorf("portaudio: list devices: %w", err)
	}
	out := make([]DeviceInfo, 0, len(devs))
	for _, d := range devs {
		info := DeviceInfo{
			Name:              d.Name,
			MaxInputChannels:  d.MaxInputChannels,
			MaxOutputChannels: d.MaxOutputChannels,
			DefaultSampleRate: d.DefaultSampleRate,
		}
		if h := d.HostApi; h != nil {
			info.HostAPI = h.Name
			info.DefaultInput = h.DefaultInputDevice == d
			info.DefaultOutput = h.DefaultOutputDevice == d
		}
		out = append(out, info)
	}
	return out, nil
}

// findDevice resolves a configured name to a device with channels in the
// wanted direction. "default" and "" mean the host's default device; any
// other name matches case-insensitively, exactly first, then as a substring
// ("USB" finds "USB PnP Sound Device: Audio (hw:1,0)"). The caller holds a
// library reference.
func findDevice(name string, input bool) (*pa.DeviceInfo, error) {
	kind, channels := "output", func(d *pa.DeviceInfo) int { return d.MaxOutputChannels }
	if input {
		kind, channels = "input", func(d *pa.DeviceInfo) int { return d.MaxInputChannels }
	}
	if name == "" || name == "default" {
		var d *pa.DeviceInfo
		var err error
		if input {
			d, err = pa.DefaultInputDevice()
		} else {
			d, err = pa.DefaultOutputDevice()
		}
		if err != nil {
			return nil, fmt.Errorf("portaudio: no default %s device: %w", kind, err)
		}
		return d, nil
	}
	devs, err := pa.Devices()
	if err != nil {
		return nil, fmt.Errorf("portaudio: list devices: %w", err)
	}
	var names []string
	var matches []*pa.DeviceInfo
	want := strings.ToLower(name)
	for _, d := range devs {
		if channels(d) < 1 {
			continue
		}
		names = append(names, fmt.Sprintf("%q", d.Name))
		lower := strings.ToLower(d.Name)
		if lower == want {
			return d, nil
		}
		if strings.Contains(lower, want) {
			matches = append(matches, d)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		if len(names) == 0 {
			return nil, fmt.Errorf("portaudio: %s device %q not found: no %s devices at all", kind, name, kind)
		}
		return nil, fmt.Errorf("portaudio: %s device %q not found; %s devices: %s",
			kind, name, kind, strings.Join(names, ", "))
	default:
		var ms []string
		for _, m := range matches {
			ms = append(ms, fmt.Sprintf("%q", m.Name))
		}
		return nil, fmt.Errorf("portaudio: %s device %q is ambiguous, it matches %s; use more of the name",
			kind, name, strings.Join(ms, ", "))
	}
}
