//go:build cgo && !noportaudio

package portaudio

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	pa "github.com/gordonklaus/portaudio"

	"github.com/earshot/earshot/audio"
)

// deviceStub plays a device that no test machine can produce on demand: one
// that stalls, fails or overflows. The ALSA tests cover the healthy path.
type deviceStub struct {
	mu           sync.Mutex
	frame        []int16 // the Input's bound buffer
	avail        int     // what AvailableToRead reports
	availErr     error
	availErrOnce bool // availErr only on the first call, as ALSA reports a recovered overrun
	readErr      error
	next         int16 // first sample value of the next frame
	calls        map[string]int
	polled       chan struct{} // receives after each AvailableToRead, if set
}

func (d *deviceStub) call(name string) {
	if d.calls == nil {
		d.calls = map[string]int{}
	}
	d.calls[name]++
}

func (d *deviceStub) Start() error { d.mu.Lock(); defer d.mu.Unlock(); d.call("Start"); return nil }
func (d *deviceStub) Stop() error  { d.mu.Lock(); defer d.mu.Unlock(); d.call("Stop"); return nil }
func (d *deviceStub) Close() error { d.mu.Lock(); defer d.mu.Unlock(); d.call("Close"); return nil }

func (d *deviceStub) AvailableToRead() (int, error) {
	d.mu.Lock()
	d.call("AvailableToRead")
	avail, err, polled := d.avail, d.availErr, d.polled
	if d.availErrOnce {
		d.availErr = nil
	}
	d.mu.Unlock()
	if polled != nil {
		select {
		case polled <- struct{}{}:
		default:
		}
	}
	return avail, err
}

func (d *deviceStub) Read() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.call("Read")
	for i := range d.frame {
		d.frame[i] = d.next + int16(i)
	}
	d.next += int16(len(d.frame))
	return d.readErr
}

func (d *deviceStub) count(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[name]
}

func newStubInput(t *testing.T, d *deviceStub, opts InputOptions) *Input {
	t.Helper()
	frame := make([]int16, audio.FrameSamples)
	d.frame = frame
	in := &Input{
		log:      opts.logger(),
		name:     "stub mic",
		watchdog: opts.watchdog(),
		stream:   d,
		frame:    frame,
		release:  func() {},
		conv:     converter{f: format{audio.SampleRate, 1}},
	}
	t.Cleanup(func() { in.Close() })
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestReadErrors(t *testing.T) {
	unplugged := errors.New("device unplugged")
	tests := []struct {
		name     string
		dev      *deviceStub
		buf      int
		want     error
		wantText string
	}{
		{"stalled device trips the watchdog", &deviceStub{avail: 0}, audio.FrameSamples, ErrStalled, `"stub mic" gave nothing`},
		{"partial frame forever trips the watchdog", &deviceStub{avail: audio.FrameSamples - 1}, audio.FrameSamples, ErrStalled, "unplugged?"},
		{"availability error", &deviceStub{availErr: unplugged}, audio.FrameSamples, unplugged, `input "stub mic"`},
		{"read error", &deviceStub{avail: 1000, readErr: pa.DeviceUnavailable}, audio.FrameSamples, pa.DeviceUnavailable, `read input "stub mic"`},
		{"buffer not whole frames", &deviceStub{avail: 1000}, 100, nil, "multiple of 320"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newStubInput(t, tt.dev, InputOptions{Watchdog: 30 * time.Millisecond})
			err := in.Read(make([]int16, tt.buf))
			if err == nil {
				t.Fatal("Read succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Read error = %v, want errors.Is %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Read error = %q, want it to contain %q", err, tt.wantText)
			}
			if in.FramesRead() != 0 {
				t.Errorf("FramesRead = %d after a failed read, want 0", in.FramesRead())
			}
		})
	}
}

func TestOverflowIsCountedNotFatal(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	d := &deviceStub{avail: 1 << 20, readErr: pa.InputOverflowed}
	in := newStubInput(t, d, InputOptions{Logger: log})
	buf := make([]int16, 3*audio.FrameSamples)
	if err := in.Read(buf); err != nil {
		t.Fatalf("Read with overflows = %v, want nil (overflow is not fatal)", err)
	}
	for i, v := range buf {
		if v != int16(i) {
			t.Fatalf("buf[%d] = %d, want %d: audio read alongside an overflow was lost", i, v, i)
		}
	}
	if got := in.Overflows(); got != 3 {
		t.Errorf("Overflows = %d, want 3", got)
	}
	if got := in.FramesRead(); got != 3 {
		t.Errorf("FramesRead = %d, want 3", got)
	}
	if n := strings.Count(logs.String(), "input overflow"); n != 1 {
		t.Errorf("logged %d overflow warnings for one burst, want 1:\n%s", n, logs.String())
	}
}

func TestOverflowReportedByAvailabilityIsNotFatal(t *testing.T) {
	d := &deviceStub{avail: 1 << 20, availErr: pa.InputOverflowed, availErrOnce: true}
	in := newStubInput(t, d, InputOptions{})
	if err := in.Read(make([]int16, audio.FrameSamples)); err != nil {
		t.Fatalf("Read after a recovered overrun = %v, want nil", err)
	}
	if in.Overflows() != 1 || in.FramesRead() != 1 {
		t.Fatalf("Overflows %d, FramesRead %d; want 1 and 1", in.Overflows(), in.FramesRead())
	}
}

func TestStopInterruptsWaitingRead(t *testing.T) {
	d := &deviceStub{avail: 0, polled: make(chan struct{}, 1)}
	in := newStubInput(t, d, InputOptions{Watchdog: time.Hour})
	done := make(chan error, 1)
	go func() { done <- in.Read(make([]int16, audio.FrameSamples)) }()
	<-d.polled // the Read is waiting for the device
	if err := in.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, audio.ErrStopped) {
		t.Fatalf("Read interrupted by Stop = %v, want audio.ErrStopped", err)
	}
	if d.count("Stop") != 1 {
		t.Fatalf("stream Stop called %d times, want 1: mute must stop the device stream", d.count("Stop"))
	}
	polls := d.count("AvailableToRead")
	if err := in.Read(make([]int16, audio.FrameSamples)); !errors.Is(err, audio.ErrStopped) {
		t.Fatalf("Read while stopped = %v, want audio.ErrStopped", err)
	}
	if d.count("AvailableToRead") != polls || d.count("Read") != 0 {
		t.Fatal("Read while stopped touched the device")
	}
	// Stop twice, Start twice: the device sees one of each.
	if err := in.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	if d.count("Stop") != 1 || d.count("Start") != 2 {
		t.Fatalf("device saw %d stops and %d starts, want 1 and 2", d.count("Stop"), d.count("Start"))
	}
}

func TestCloseInterruptsWaitingRead(t *testing.T) {
	d := &deviceStub{avail: 0, polled: make(chan struct{}, 1)}
	in := newStubInput(t, d, InputOptions{Watchdog: time.Hour})
	done := make(chan error, 1)
	go func() { done <- in.Read(make([]int16, audio.FrameSamples)) }()
	<-d.polled
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Read interrupted by Close = %v, want ErrClosed", err)
	}
	if err := in.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if d.count("Close") != 1 {
		t.Fatalf("stream closed %d times, want 1", d.count("Close"))
	}
	if err := in.Start(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	in := newStubInput(t, &deviceStub{avail: 1 << 20}, InputOptions{})
	buf := make([]int16, audio.FrameSamples)
	if a := testing.AllocsPerRun(100, func() { _ = in.Read(buf) }); a != 0 {
		t.Fatalf("Read allocated %.1f times per frame, want 0", a)
	}
}

func TestWaitFor(t *testing.T) {
	tests := []struct {
		missing int
		want    time.Duration
	}{
		{0, 2 * time.Millisecond},
		{16, 2 * time.Millisecond},
		{160, 10 * time.Millisecond},
		{320, 20 * time.Millisecond},
		{100000, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := waitFor(tt.missing, audio.SampleRate); got != tt.want {
			t.Errorf("waitFor(%d) = %v, want %v", tt.missing, got, tt.want)
		}
	}
}
