package daemon

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3"

	"github.com/earshot/earshot/device/panel"
)

// openPanel claims the button and LED pins, if any are configured. periph's
// host.Init runs here, once, and only on a device that has GPIO configured.
func (d *Daemon) openPanel() error {
	bn, ln := d.cfg.GPIO.MuteButton, d.cfg.GPIO.MuteLED
	if bn == "" && ln == "" {
		return nil
	}
	lookup := d.opts.Pins
	if lookup == nil {
		lookup = func(b, l string) (gpio.PinIn, gpio.PinOut, error) {
			if _, err := host.Init(); err != nil {
				return nil, nil, fmt.Errorf("gpio: periph host init: %w", err)
			}
			return panel.LookupPins(b, l)
		}
	}
	bp, lp, err := lookup(bn, ln)
	if err != nil {
		return err
	}
	log := d.log.With("component", "panel")
	if bp != nil {
		bo := d.opts.Button
		bo.Logger = log
		if d.button, err = panel.NewButton(bp, bo); err != nil {
			return err // names the key and the pin
		}
	}
	if lp != nil {
		lo := d.opts.LED
		lo.Logger = log
		if d.led, err = panel.NewLED(lp, lo); err != nil {
			return err
		}
	}
	return nil
}

// runButton turns presses into actions: a short press toggles mute, a
// long press wipes the whole voice history, with the LED warning first.
func (d *Daemon) runButton(ctx context.Context) error {
	events := make(chan panel.Event, 8)
	done := make(chan error, 1)
	go func() { done <- d.button.Run(ctx, events) }()
	for {
		select {
		case err := <-done:
			return err
		case ev := <-events:
			d.onButton(ev)
		}
	}
}

func (d *Daemon) onButton(ev panel.Event) {
	switch ev {
	case panel.ShortPress:
		if _, err := d.mute.Toggle(SourceButton); err != nil {
			d.log.Error("mute button", "err", err)
		}
	case panel.LongPressStarted:
		d.blink(panel.WipeWarning)
	case panel.LongPressCancelled:
		d.blink(panel.Steady)
	case panel.LongPress:
		r, err := d.store.DeleteAll()
		d.afterDelete("button wipe", r, err)
		if err == nil {
			d.blink(panel.WipeDone)
		} else {
			d.blink(panel.Steady)
		}
	}
}

func (d *Daemon) blink(p panel.Pattern) {
	if d.led != nil {
		d.led.Blink(p)
	}
}
