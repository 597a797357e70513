package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Mute sources, as the hub contract names them.
const (
	SourceButton = "button"
	SourceHub    = "hub"
	SourceCLI    = "cli"
)

// ErrMutedAtDevice refuses a hub unmute of a mute set by the physical button.
var ErrMutedAtDevice = errors.New("muted at device")

// MuteGate owns the mute state. It is persisted (fsynced) before a change is
// acknowledged, so a mute survives a crash or a reboot; a state file that
// cannot be read leaves the device muted, because the safe failure of a
// microphone is deafness.
type MuteGate struct {
	path string

	mu      sync.Mutex
	muted   bool
	source  string
	changed chan struct{} // closed on every change, then replaced
}

type muteFile struct {
	Muted  bool   `json:"muted"`
	Source string `json:"source,omitempty"`
}

// OpenMuteGate loads the persisted state at path. A missing file means
// unmuted; a corrupt one means muted (from the CLI, so it can be lifted
// locally) and is reported in the returned warning.
func OpenMuteGate(path string) (g *MuteGate, warning error) {
	g = &MuteGate{path: path, changed: make(chan struct{})}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return g, nil
	case err != nil:
		g.muted, g.source = true, SourceCLI
		return g, fmt.Errorf("mute state %s unreadable, staying muted: %w", path, err)
	}
	var f muteFile
	if err := json.Unmarshal(data, &f); err != nil || (f.Muted && !validSource(f.Source)) {
		g.muted, g.source = true, SourceCLI
		return g, fmt.Errorf("mute state %s is corrupt, staying muted until unmuted locally", path)
	}
	g.muted, g.source = f.Muted, f.Source
	if !g.muted {
		g.source = ""
	}
	return g, nil
}

func validSource(s string) bool { return s == SourceButton || s == SourceHub || s == SourceCLI }

// Muted reports whether the device is muted and by whom ("" when not).
func (g *MuteGate) Muted() (muted bool, source string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.muted, g.source
}

// Changed returns a channel closed at the next change of state.
func (g *MuteGate) Changed() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.changed
}

// Mute deafens the device. Muting an already muted device keeps the
// stronger source: a button mute stays a button mute.
func (g *MuteGate) Mute(source string) error {
	if !validSource(source) {
		return fmt.Errorf("unknown mute source %q", source)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.muted && (g.source == SourceButton || g.source == source) {
		return nil
	}
	return g.set(true, source)
}

// Unmute lifts a mute. The hub cannot lift a button mute; the button and
// the local CLI (someone at the device) can lift any.
func (g *MuteGate) Unmute(source string) error {
	if !validSource(source) {
		return fmt.Errorf("unknown mute source %q", source)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.muted {
		return nil
	}
	if g.source == SourceButton && source == SourceHub {
		return ErrMutedAtDevice
	}
	return g.set(false, "")
}

// Toggle is the button's short press.
func (g *MuteGate) Toggle(source string) (muted bool, err error) {
	g.mu.Lock()
	m := g.muted
	g.mu.Unlock()
	if m {
		return false, g.Unmute(source)
	}
	return true, g.Mute(source)
}

// set persists first, then changes memory: an acknowledged mute is durable.
func (g *MuteGate) set(muted bool, source string) error {
	if err := writeFileSync(g.path, muteFile{Muted: muted, Source: source}); err != nil {
		if muted {
			// Deafen now even if the disk refuses; report that it won't survive a restart.
			g.muted, g.source = true, source
			g.notify()
			return fmt.Errorf("muted, but the mute will not survive a restart: %w", err)
		}
		return fmt.Errorf("unmute not saved, staying muted: %w", err)
	}
	g.muted, g.source = muted, source
	g.notify()
	return nil
}

func (g *MuteGate) notify() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// writeFileSync replaces path atomically and durably with v as JSON.
func writeFileSync(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
