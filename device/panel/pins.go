package panel

import (
	"fmt"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
)

// LookupPins finds the mute button and LED pins by their periph names
// ("GPIO17", "P1_11", "17") in periph's registry, which host.Init() fills:
// call it first, once. An empty name means "not fitted" and yields a nil
// pin. Errors name the config key and the pin. A pin held by another
// program is reported by NewButton or NewLED, which claim the pins.
func LookupPins(buttonName, ledName string) (gpio.PinIn, gpio.PinOut, error) {
	var (
		button gpio.PinIn
		led    gpio.PinOut
	)
	if buttonName != "" && buttonName == ledName {
		return nil, nil, fmt.Errorf("gpio.mute_button and gpio.mute_led are both %q: the button and the LED need a pin each", buttonName)
	}
	if buttonName != "" {
		p := gpioreg.ByName(buttonName)
		if p == nil {
			return nil, nil, notFound("gpio.mute_button", buttonName)
		}
		button = p
	}
	if ledName != "" {
		p := gpioreg.ByName(ledName)
		if p == nil {
			return nil, nil, notFound("gpio.mute_led", ledName)
		}
		led = p
	}
	if button != nil && led != nil && sameLine(button, led) {
		return nil, nil, fmt.Errorf("gpio.mute_button %q and gpio.mute_led %q are the same pin (%s): the button and the LED need a pin each", buttonName, ledName, button)
	}
	return button, led, nil
}

// sameLine reports whether two names resolved to one physical pin, as
// "GPIO17" and its alias "P1_11" do on a Raspberry Pi.
func sameLine(a gpio.PinIn, b gpio.PinOut) bool {
	return underlying(a).Name() == underlying(b).Name()
}

func underlying(p interface{ Name() string }) interface{ Name() string } {
	for {
		r, ok := p.(gpio.RealPin)
		if !ok {
			return p
		}
		p = r.Real()
	}
}

func notFound(key, name string) error {
	const show = 8
	all := gpioreg.All()
	if len(all) == 0 {
		return fmt.Errorf("%s: no GPIO pin named %q: this host has no GPIO pins registered (not a supported board, host.Init() not called, or no access to /dev/gpiochip*)", key, name)
	}
	names := make([]string, 0, show)
	for _, p := range all[:min(show, len(all))] {
		names = append(names, p.Name())
	}
	more := ""
	if len(all) > show {
		more = fmt.Sprintf(", … (%d in all)", len(all))
	}
	return fmt.Errorf("%s: no GPIO pin named %q; expected a periph pin name such as %s%s", key, name, strings.Join(names, ", "), more)
}
