package panel

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/earshot/earshot/device/panel/paneltest"
)

// buttonRig runs a Button on a periph gpiotest pin with a fake clock.
//
// Synchronisation without sleeps: EdgesChan is unbuffered, so a send
// returns once the Button has taken the edge, and the Button takes an edge
// only after it has finished with the previous one. Sending the current
// level twice more is a no-op for the Button (a glitch too short to read
// back, which real pins also report) that proves everything before it was
// handled — including the clock reading — before the test moves the clock.
type buttonRig struct {
	t      *testing.T
	pin    *gpiotest.Pin
	clk    *paneltest.Clock
	level  gpio.Level
	events chan Event
	cancel context.CancelFunc
	done   chan error
}

func newButtonRig(t *testing.T, heldAtStart bool) *buttonRig {
	t.Helper()
	pin := &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level)}
	clk := paneltest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b, err := NewButton(pin, ButtonOptions{
		Debounce: testDebounce, WarnAfter: testWarn, LongPress: testLong,
		Poll: time.Millisecond, Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	if pin.Pull() != gpio.PullUp {
		t.Fatalf("button pin pull = %v, want %v", pin.Pull(), gpio.PullUp)
	}
	r := &buttonRig{t: t, pin: pin, clk: clk, level: gpio.High, events: make(chan Event, 64), done: make(chan error, 1)}
	if heldAtStart {
		r.level = gpio.Low
		_ = pin.Out(gpio.Low)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- b.Run(ctx, r.events) }()
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *buttonRig) send(l gpio.Level) {
	select {
	case r.pin.EdgesChan <- l:
	case err := <-r.done:
		r.t.Fatalf("button Run returned early: %v", err)
	}
}

func (r *buttonRig) edge(l gpio.Level) {
	r.level = l
	r.send(l)
	r.sync()
}

func (r *buttonRig) sync() {
	r.send(r.level)
	r.send(r.level)
}

// wait moves the clock and lets the Button see the new time.
func (r *buttonRig) wait(d time.Duration) {
	r.clk.Advance(d)
	r.sync()
}

// stop ends Run and returns every event it sent.
func (r *buttonRig) stop() []Event {
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("Run returned %v, want nil", err)
		}
		r.done <- nil // let a later stop() see it too
	case <-time.After(10 * time.Second):
		r.t.Fatal("button Run did not return after cancel")
	}
	var got []Event
	for {
		select {
		case ev := <-r.events:
			got = append(got, ev)
		default:
			return got
		}
	}
}

func TestButtonRun(t *testing.T) {
	type op struct {
		edge  bool
		level gpio.Level
		wait  time.Duration
	}
	press := op{edge: true, level: gpio.Low}
	release := op{edge: true, level: gpio.High}
	wait := func(d time.Duration) op { return op{wait: d} }
	tests := []struct {
		name    string
		heldAt0 bool
		ops     []op
		want    []Event
	}{
		{"short press", false, []op{press, wait(100 * ms), release, wait(100 * ms)}, []Event{ShortPress}},
		{"bounce on press and release", false, []op{
			press, release, press, release, press, wait(100 * ms),
			release, press, release, wait(100 * ms),
		}, []Event{ShortPress}},
		{"bounce only", false, []op{press, wait(5 * ms), release, wait(time.Second)}, nil},
		{"long press", false, []op{press, wait(3 * time.Second), wait(3 * time.Second), release, wait(100 * ms)},
			[]Event{LongPressStarted, LongPress}},
		{"long press cancelled", false, []op{press, wait(3 * time.Second), release, wait(100 * ms)},
			[]Event{LongPressStarted, LongPressCancelled}},
		{"held at startup is ignored", true, []op{wait(time.Minute), release, wait(100 * ms), press, wait(100 * ms), release, wait(100 * ms)},
			[]Event{ShortPress}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newButtonRig(t, tt.heldAt0)
			for _, o := range tt.ops {
				if o.edge {
					r.edge(o.level)
				} else {
					r.wait(o.wait)
				}
			}
			if got := r.stop(); !slices.Equal(got, tt.want) {
				t.Errorf("events = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestButtonPressDuringShutdown: a press in progress when the daemon stops
// must not become a wipe, and Run must return even with nobody reading.
func TestButtonPressDuringShutdown(t *testing.T) {
	r := newButtonRig(t, false)
	r.edge(gpio.Low)
	r.wait(3 * time.Second) // warned, not yet wiping
	got := r.stop()
	if !slices.Equal(got, []Event{LongPressStarted}) {
		t.Fatalf("events = %v, want only %v", got, LongPressStarted)
	}
	// The rest of the hold, after shutdown, is never acted on.
	r.clk.Advance(time.Minute)
	if got := r.stop(); len(got) != 0 {
		t.Fatalf("events after shutdown: %v", got)
	}
}

func TestButtonRunReturnsWhenReceiverIsGone(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan gpio.Level)}
	clk := paneltest.NewClock(time.Unix(0, 0))
	b, err := NewButton(pin, ButtonOptions{Debounce: testDebounce, Poll: time.Millisecond, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	events := make(chan Event) // nobody reads
	go func() { done <- b.Run(ctx, events) }()
	for _, l := range []gpio.Level{gpio.Low, gpio.Low, gpio.Low} {
		pin.EdgesChan <- l
	}
	clk.Advance(100 * ms)
	pin.EdgesChan <- gpio.High
	pin.EdgesChan <- gpio.High
	pin.EdgesChan <- gpio.High
	clk.Advance(100 * ms)
	// Run is now blocked sending ShortPress, or about to be.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run blocked on a full events channel after cancel")
	}
}

// failingPin refuses configuration the way a pin held by another process
// does (EBUSY from the gpiochip ioctl).
type failingPin struct{ *gpiotest.Pin }

func (failingPin) In(gpio.Pull, gpio.Edge) error { return syscall.EBUSY }
func (failingPin) Out(gpio.Level) error          { return syscall.EBUSY }

func TestNewButtonErrors(t *testing.T) {
	ok := func() *gpiotest.Pin { return &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan gpio.Level)} }
	tests := []struct {
		name string
		pin  gpio.PinIn
		opts ButtonOptions
		want []string
		is   error
	}{
		{"nil pin", nil, ButtonOptions{}, []string{"no pin"}, nil},
		{"busy pin", failingPin{ok()}, ButtonOptions{}, []string{"GPIO17", "another program"}, syscall.EBUSY},
		{"debounce too long", ok(), ButtonOptions{Debounce: 3 * time.Second}, []string{"GPIO17", "debounce"}, nil},
		{"warn after long press", ok(), ButtonOptions{WarnAfter: 6 * time.Second}, []string{"warn-after", "long-press"}, nil},
		{"negative", ok(), ButtonOptions{Poll: -1}, []string{"negative"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewButton(tt.pin, tt.opts)
			if err == nil {
				t.Fatalf("NewButton = %v, nil; want error", b)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestButtonRunTwice(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan gpio.Level)}
	b, err := NewButton(pin, ButtonOptions{Poll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, make(chan Event)) }()
	pin.EdgesChan <- gpio.High // the first Run is in its loop now
	if err := b.Run(ctx, make(chan Event)); err == nil {
		t.Error("second concurrent Run = nil, want error")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("first Run = %v", err)
	}
}

// noEdgePin is a gpiotest pin whose edge detection does not work: every
// WaitForEdge returns at once, as a driver without interrupt support does.
type noEdgePin struct {
	*gpiotest.Pin
	waits atomic.Int64
}

func (p *noEdgePin) WaitForEdge(time.Duration) bool {
	p.waits.Add(1)
	return false
}

// TestButtonWithoutEdgeDetection: the button still works, by polling the
// level, and does not spin (the back-off is the wait it asked for).
func TestButtonWithoutEdgeDetection(t *testing.T) {
	pin := &noEdgePin{Pin: &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan gpio.Level)}}
	clk := paneltest.NewClock(time.Unix(0, 0))
	b, err := NewButton(pin, ButtonOptions{Debounce: testDebounce, WarnAfter: testWarn, LongPress: testLong, Poll: 5 * ms, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	events := make(chan Event, 8)
	go func() { done <- b.Run(ctx, events) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})

	for pin.waits.Load() == 0 { // Run has read the released level at start
		select {
		case <-time.After(ms):
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("Run returned early: %v", err)
		}
	}
	_ = pin.Out(gpio.Low) // pressed, no edge reported
	var got []Event
	deadline := time.After(10 * time.Second)
	for len(got) < 2 {
		clk.Advance(500 * ms)
		select {
		case ev := <-events:
			got = append(got, ev)
		case <-time.After(20 * ms): // poll: the button reads the pin every 5 ms
		case <-deadline:
			t.Fatalf("no long press by polling; events %v", got)
		}
	}
	if !slices.Equal(got, []Event{LongPressStarted, LongPress}) {
		t.Fatalf("events = %v, want %v", got, []Event{LongPressStarted, LongPress})
	}
	// Not spinning: one wait per back-off, each back-off most of 5 ms. The
	// bound is loose (a spin makes millions of calls in this time).
	waitsBefore := pin.waits.Load()
	start := time.Now()
	for pin.waits.Load() < waitsBefore+10 {
		if time.Since(start) > 10*time.Second {
			t.Fatal("button stopped polling")
		}
		time.Sleep(ms)
	}
	if n, d := pin.waits.Load()-waitsBefore, time.Since(start); n > 100*int64(d/(5*ms)+1) {
		t.Errorf("%d edge waits in %v: the button spins", n, d)
	}
}
