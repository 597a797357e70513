package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestMuteGateRules(t *testing.T) {
	type step struct {
		op, source string
		wantErr    error
		wantMuted  bool
		wantSource string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"hub cannot lift a button mute", []step{
			{"mute", SourceButton, nil, true, SourceButton},
			{"unmute", SourceHub, ErrMutedAtDevice, true, SourceButton},
			{"unmute", SourceCLI, nil, false, ""},
		}},
		{"button lifts a hub mute", []step{
			{"mute", SourceHub, nil, true, SourceHub},
			{"unmute", SourceButton, nil, false, ""},
		}},
		{"hub mute over button mute keeps button", []step{
			{"mute", SourceButton, nil, true, SourceButton},
			{"mute", SourceHub, nil, true, SourceButton},
			{"unmute", SourceHub, ErrMutedAtDevice, true, SourceButton},
		}},
		{"button mute over hub mute becomes button", []step{
			{"mute", SourceHub, nil, true, SourceHub},
			{"mute", SourceButton, nil, true, SourceButton},
		}},
		{"hub lifts its own and a cli mute", []step{
			{"mute", SourceCLI, nil, true, SourceCLI},
			{"unmute", SourceHub, nil, false, ""},
		}},
		{"unmute when not muted is a no-op", []step{
			{"unmute", SourceHub, nil, false, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mute.json")
			g, warn := OpenMuteGate(path)
			if warn != nil {
				t.Fatal(warn)
			}
			for i, s := range tt.steps {
				var err error
				if s.op == "mute" {
					err = g.Mute(s.source)
				} else {
					err = g.Unmute(s.source)
				}
				muted, src := g.Muted()
				if !errors.Is(err, s.wantErr) || muted != s.wantMuted || src != s.wantSource {
					t.Fatalf("step %d %s(%s): err=%v muted=%v source=%q; want %v %v %q",
						i, s.op, s.source, err, muted, src, s.wantErr, s.wantMuted, s.wantSource)
				}
				// Every acknowledged state survives a restart.
				g2, warn := OpenMuteGate(path)
				if warn != nil {
					t.Fatal(warn)
				}
				if m2, s2 := g2.Muted(); m2 != muted || s2 != src {
					t.Fatalf("step %d: after reopen muted=%v source=%q, want %v %q", i, m2, s2, muted, src)
				}
			}
		})
	}
}

func TestMuteGateCorruptStateStaysMuted(t *testing.T) {
	for _, content := range []string{"{", `{"muted":true,"source":"martian"}`, "\x00\x01"} {
		path := filepath.Join(t.TempDir(), "mute.json")
		os.WriteFile(path, []byte(content), 0o600)
		g, warn := OpenMuteGate(path)
		if warn == nil {
			t.Errorf("%q: no warning", content)
		}
		if muted, src := g.Muted(); !muted || src != SourceCLI {
			t.Errorf("%q: muted=%v source=%q, want muted by cli", content, muted, src)
		}
		if err := g.Unmute(SourceCLI); err != nil {
			t.Errorf("%q: local unmute: %v", content, err)
		}
	}
}

func TestMuteGateChangedFires(t *testing.T) {
	g, _ := OpenMuteGate(filepath.Join(t.TempDir(), "mute.json"))
	ch := g.Changed()
	if _, err := g.Toggle(SourceButton); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed after a toggle")
	}
	if muted, _ := g.Muted(); !muted {
		t.Fatal("toggle did not mute")
	}
}

func TestMuteGateUnwritableDirStillMutes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	os.Mkdir(dir, 0o700)
	path := filepath.Join(dir, "mute.json")
	g, warn := OpenMuteGate(path)
	if warn != nil {
		t.Fatal(warn)
	}
	// The state directory becomes a file: every write now fails, even as root.
	os.Remove(dir)
	os.WriteFile(dir, nil, 0o600)
	err := g.Mute(SourceCLI)
	if err == nil {
		t.Fatal("persist failure not reported")
	}
	if muted, _ := g.Muted(); !muted {
		t.Fatal("device not muted when the disk refused the state")
	}
	if err := g.Unmute(SourceCLI); err == nil {
		t.Fatal("unmute that cannot be saved was accepted")
	}
	if muted, _ := g.Muted(); !muted {
		t.Fatal("unsaved unmute lifted the mute")
	}
}
