package daemon

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot/earshot/audio/listen"
)

// stuckListener stands in for a listener busy with one frame for as long
// as a test likes, as one reading a command with the second opinion is
// for a second or more; no real listener can be made that slow on demand.
type stuckListener struct {
	listen.Recognizer
	at      uint64        // the frame it sticks on
	stuck   chan struct{} // closed when it sticks
	release chan struct{} // close to let it go on
	fed     atomic.Uint64
	resets  atomic.Uint64
	once    sync.Once
	let     sync.Once
}

// stuckAt returns a listener that sticks on frame n until go on is
// called (or the test ends).
func stuckAt(t *testing.T, n uint64) *stuckListener {
	s := &stuckListener{at: n, stuck: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(s.goOn)
	return s
}

func (s *stuckListener) goOn() { s.let.Do(func() { close(s.release) }) }

func (s *stuckListener) Feed(frame []int16) (listen.Utterance, bool, error) {
	if s.fed.Add(1) == s.at {
		s.once.Do(func() { close(s.stuck) })
		<-s.release
	}
	return s.Recognizer.Feed(frame)
}

func (s *stuckListener) Reset() {
	s.resets.Add(1)
	s.Recognizer.Reset()
}

// TestAListenerBusyWithACommandMissesNothingAndMuteStillStops: the
// microphone is read while the listener is busy, and what it hears then
// is queued for the listener, not lost; a mute stops the stream at once
// however busy the listener is, and what was queued goes with it.
func TestAListenerBusyWithACommandMissesNothingAndMuteStillStops(t *testing.T) {
	s := stuckAt(t, 10)
	r := newRigWith(t, rigSetup{daemon: func(d *Daemon) {
		s.Recognizer = d.listener
		d.listener = s
	}})
	<-s.stuck
	read := r.status().FramesRead
	// Half a second of real-time input read while the listener is stuck.
	r.waitFor("frames read while the listener is busy", func() bool { return r.status().FramesRead >= read+25 })
	r.press(100 * time.Millisecond)
	r.waitFor("the stream stopped while the listener is busy", func() bool { return !r.status().Listening })
	if s.fed.Load() != s.at {
		t.Fatalf("fed %d frames while stuck on frame %d", s.fed.Load(), s.at)
	}
	s.goOn()
	// The mute's mark reaches the listener, after no frame queued
	// before it: those went with the mute.
	r.waitFor("the listener reset", func() bool { return s.resets.Load() > 0 })
	if fed := s.fed.Load(); fed != s.at {
		t.Errorf("the listener was fed %d frames queued before the mute", fed-s.at)
	}
	r.press(100 * time.Millisecond)
	r.waitFor("listening again", func() bool { return r.status().Listening && s.fed.Load() > s.at+25 })
}

// TestAListenerTooFarBehindHoldsCaptureBack: past the queue, capture
// waits for the listener (a source faster than real time is paced by it;
// a microphone overruns its own buffer, as it did before the queue), and
// a mute still stops the stream while it waits.
func TestAListenerTooFarBehindHoldsCaptureBack(t *testing.T) {
	s := stuckAt(t, 5)
	r := newRigWith(t, rigSetup{daemon: func(d *Daemon) {
		s.Recognizer = d.listener
		d.listener = s
		d.queue = 10
	}})
	<-s.stuck
	// The stuck frame, the queue, and the frame waiting to go in.
	r.waitFor("the queue full", func() bool { return r.status().FramesRead >= s.at+10+1 })
	time.Sleep(100 * time.Millisecond) // five frame periods of real-time input
	if read := r.status().FramesRead; read > s.at+10+1 {
		t.Errorf("%d frames read with the listener stuck on frame %d and a queue of 10", read, s.at)
	}
	r.press(100 * time.Millisecond)
	r.waitFor("the stream stopped while capture waits", func() bool { return !r.status().Listening })
	s.goOn()
	r.waitFor("the listener reset", func() bool { return s.resets.Load() > 0 })
	if fed := s.fed.Load(); fed != s.at {
		t.Errorf("the listener was fed %d frames queued before the mute", fed-s.at)
	}
}
