package panel

import (
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// registerPin puts a gpiotest pin in periph's (process-wide) registry for
// the duration of the test, as host.Init() does with real pins.
func registerPin(t *testing.T, name string, aliases ...string) *gpiotest.Pin {
	t.Helper()
	p := &gpiotest.Pin{N: name, EdgesChan: make(chan gpio.Level)}
	if err := gpioreg.Register(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gpioreg.Unregister(name) })
	for _, a := range aliases {
		if err := gpioreg.RegisterAlias(a, name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = gpioreg.Unregister(a) })
	}
	return p
}

func TestLookupPins(t *testing.T) {
	registerPin(t, "TESTGPIO17", "TESTP1_11")
	registerPin(t, "TESTGPIO27")
	tests := []struct {
		name        string
		button, led string
		wantButton  string
		wantLED     string
		wantErr     []string
	}{
		{name: "none configured"},
		{name: "both", button: "TESTGPIO17", led: "TESTGPIO27", wantButton: "TESTGPIO17", wantLED: "TESTGPIO27"},
		{name: "button only", button: "TESTGPIO17", wantButton: "TESTGPIO17"},
		{name: "led only by alias", led: "TESTP1_11", wantLED: "TESTP1_11"},
		{name: "unknown button", button: "GPIO99", led: "TESTGPIO27", wantErr: []string{"gpio.mute_button", `"GPIO99"`, "TESTGPIO17"}},
		{name: "unknown led", button: "TESTGPIO17", led: "GPIO98", wantErr: []string{"gpio.mute_led", `"GPIO98"`}},
		{name: "same name twice", button: "TESTGPIO27", led: "TESTGPIO27", wantErr: []string{"gpio.mute_button", "gpio.mute_led", "TESTGPIO27"}},
		{name: "same pin through an alias", button: "TESTGPIO17", led: "TESTP1_11", wantErr: []string{"same pin", "TESTP1_11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, l, err := LookupPins(tt.button, tt.led)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("LookupPins(%q, %q) = %v, %v, nil; want error", tt.button, tt.led, b, l)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if name := pinName(b); name != tt.wantButton {
				t.Errorf("button = %q, want %q", name, tt.wantButton)
			}
			if name := pinName(l); name != tt.wantLED {
				t.Errorf("led = %q, want %q", name, tt.wantLED)
			}
		})
	}
}

func pinName[P interface{ Name() string }](p P) string {
	if any(p) == nil {
		return ""
	}
	return p.Name()
}
